import ArgumentParser
import Foundation
import ListingKeys
import Store
import ZoneConfig

/// Options every store command takes (SPEC §5).
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Store database (SQLite; default: the configuration's store.path, else var/thurac.db).")
    var db: String?

    @Option(name: .long, help: "Configuration file (default: Zones/thurac.toml when it exists).")
    var config: String?

    /// The configuration: `--config`, else Zones/thurac.toml if present, else the built-in defaults.
    func settings() throws -> ThuracConfig {
        try loadSettings(config)
    }

    func open() throws -> ListingStore {
        let path = try db ?? settings().database ?? "var/thurac.db"
        do { return try ListingStore(path: path) } catch { throw CommandFailure("\(error)") }
    }
}

func loadSettings(_ path: String?) throws -> ThuracConfig {
    let chosen = path ?? (FileManager.default.fileExists(atPath: ThuracConfig.defaultPath) ? ThuracConfig.defaultPath : nil)
    guard let chosen else { return ThuracConfig() }
    do { return try ThuracConfig.load(path: chosen) } catch { throw CommandFailure(error.description) }
}

/// A command that cannot do what was asked: ArgumentParser prints it as one line,
/// `Error: <reason>`, and exits non-zero (SPEC §5).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs a store operation, turning a store error into a one-line failure.
func storeCall<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as StoreError { throw CommandFailure(e.description) }
}

struct SourcesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sources", abstract: "Feed sources: their kind, report TTL and API token.",
        subcommands: [Add.self, List.self, Token.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a source and print its API token (shown once).")
        @Argument(help: "Source name (letters, digits, '-', '_', '.').") var name: String
        @Option(help: "agency, isp, public or operator.") var kind: String
        @Option(help: "Report TTL for this source (e.g. 7d); default: the kind's.") var ttl: String?
        @Option(help: "Record it at this ISO 8601 instant.") var now: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            guard let k = SourceKind(rawValue: kind) else {
                throw CommandFailure("--kind must be one of \(SourceKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let seconds: Int?
            do { seconds = try ttl.map { try DurationText.seconds($0) } } catch { throw CommandFailure("--ttl: \(error)") }
            let at = try instant(now)
            let s = try store.open()
            let token = try storeCall { try s.addSource(name: name, kind: k, ttl: seconds, now: at, actor: actorName()) }
            print(token)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the sources.")
        @Flag(help: "Include removed sources.") var all = false
        @Flag(help: "List public reporters (kind public) one a line; otherwise they are counted in one line.")
        var `public` = false
        @OptionGroup var store: StoreOptions

        func run() throws {
            let s = try store.open()
            let sources = try storeCall({ try s.sources(includingRemoved: all) })
            // Every citizen who reports is a source of kind public: thousands of them would bury
            // the few feeds an operator looks for.
            let reporters = sources.filter { $0.kind == .public }
            print("name\tkind\tttl\tcreated\tremoved")
            for src in sources where `public` || src.kind != .public {
                let ttl = src.effectiveTTL.map(DurationText.text) ?? "none"
                print("\(src.name)\t\(src.kind.rawValue)\t\(ttl)\t\(isoTime(src.createdAt))\t\(src.removedAt.map(isoTime) ?? "-")")
            }
            if !`public`, let newest = reporters.map(\.createdAt).max() {
                print("(\(reporters.count) public reporter\(reporters.count == 1 ? "" : "s"), the newest since \(isoTime(newest)): list them with --public)")
            }
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a source's API token and print the new one.")
        @Argument var name: String
        @Option(help: "Record it at this ISO 8601 instant.") var now: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            let at = try instant(now)
            let s = try store.open()
            print(try storeCall { try s.rotateToken(name: name, now: at, actor: actorName()) })
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a source: its token stops working, its reports keep their provenance.")
        @Argument var name: String
        @Option(help: "Record it at this ISO 8601 instant.") var now: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            let at = try instant(now)
            let s = try store.open()
            try storeCall { try s.removeSource(name: name, now: at, actor: actorName()) }
        }
    }
}

/// Who an operator action is attributed to in the audit log.
/// Who a command line action is by in the audit log: the system user who ran it (the one
/// behind sudo), from the password database when the environment does not say.
func actorName() -> String {
    let env = ProcessInfo.processInfo.environment
    if let user = env["SUDO_USER"] ?? env["USER"], !user.isEmpty { return "operator:" + user }
    if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return "operator:" + String(cString: name) }
    return "operator:uid-\(geteuid())"
}

func isoTime(_ t: Int) -> String { ISOTime.format(t) }
