import ArgumentParser
import Foundation
import Store

/// `thurac operators`: the accounts of the portal's console (`/operator`).
struct OperatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operators", abstract: "Accounts of the portal's operator console.",
        subcommands: [Add.self, List.self, Remove.self, Password.self])

    /// The password from standard input when it is not a terminal (a script, a pipe), else a
    /// new one, printed once.
    static func password() throws -> (String, generated: Bool) {
        if isatty(STDIN_FILENO) == 0 {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CommandFailure("no password on standard input (give one line, or run it at a terminal to get one made)")
            }
            return (line, false)
        }
        var rng = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        return (String((0..<20).map { _ in letters[Int.random(in: 0..<letters.count, using: &rng)] }), true)
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an account: the password is read from standard input when it is not a terminal, else made and printed once.")
        @Argument(help: "Account name (letters, digits, '-', '_', '.').") var name: String
        @Option(help: "Record it at this ISO 8601 instant.") var now: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            let at = try instant(now)
            let (password, generated) = try OperatorsCommand.password()
            let s = try store.open()
            try storeCall { try s.addOperator(name: name, password: password, now: at, actor: actorName()) }
            if generated { print(password) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the accounts.")
        @OptionGroup var store: StoreOptions

        func run() throws {
            let s = try store.open()
            print("name\tcreated")
            for o in try storeCall({ try s.operators() }) { print("\(o.name)\t\(isoTime(o.createdAt))") }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an account and end its sessions.")
        @Argument var name: String
        @Option(help: "Record it at this ISO 8601 instant.") var now: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            let at = try instant(now)
            let s = try store.open()
            try storeCall { try s.removeOperator(name: name, now: at, actor: actorName()) }
        }
    }

    struct Password: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an account's password (standard input, or made and printed once); its sessions end.")
        @Argument var name: String
        @Option(help: "Record it at this ISO 8601 instant.") var now: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            let at = try instant(now)
            let (password, generated) = try OperatorsCommand.password()
            let s = try store.open()
            try storeCall { try s.setOperatorPassword(name: name, password: password, now: at, actor: actorName()) }
            if generated { print(password) }
        }
    }
}
