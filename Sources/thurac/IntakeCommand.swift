import ArgumentParser
import Foundation
import ListingKeys
import MailIntake
import Store
import ZoneConfig

/// sysexits(3): what an MTA's pipe(8) makes of the exit status.
enum SysExit {
    static let ok: Int32 = 0
    static let usage: Int32 = 64
    /// The input is not a message at all: the MTA bounces it.
    static let dataError: Int32 = 65
    static let noInput: Int32 = 66
    static let software: Int32 = 70
    /// The store is busy or cannot be written: the MTA keeps the message and tries again.
    static let tempFail: Int32 = 75
    static let config: Int32 = 78
}

/// `thurac intake`: forwarded spam, one message on standard input as an MTA delivers it, or a
/// batch from an mbox or a Maildir, becomes reports (docs/intake.md).
struct IntakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Forwarded spam (one message on standard input, or --mbox / --maildir) becomes reports.",
        discussion: """
            Postfix: `spam: "|thurac intake --config /etc/thurac/thurac.toml"` in aliases(5), or a pipe(8) \
            transport with `--recipient ${recipient} --sender ${sender}`. Exit status (sysexits): 0 accepted \
            (also when there is nothing to report), 75 the store is busy or unwritable (the MTA retries), \
            65 the input is not a message, 78 a configuration error.
            """)

    @Option(help: "The mailbox it was sent to (Postfix ${recipient}); a mailbox bound to a source in [intake] mailboxes reports as that source.")
    var recipient: String?
    @Option(help: "The forwarder's address, the envelope sender (Postfix ${sender}): the reporter.")
    var sender: String?
    @Option(help: "Category of the reports (default: spam, or advertising for mail labelled [QC] / [ADV]).")
    var category: String?
    @Option(help: "Read the messages of this mbox file.") var mbox: String?
    @Option(help: "Read the messages of this Maildir (new/ and cur/).") var maildir: String?
    @Option(help: "Evaluate at this ISO 8601 instant.") var now: String?
    @OptionGroup var store: StoreOptions

    func run() throws {
        let code = intake()
        if code != SysExit.ok { throw ExitCode(code) }
    }

    /// Postfix local(8) runs an aliases(5) pipe with the envelope in the environment (SENDER,
    /// ORIGINAL_RECIPIENT): used when the options are not given.
    static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    func fail(_ code: Int32, _ message: String) -> Int32 {
        FileHandle.standardError.write(Data("thurac intake: \(message)\n".utf8))
        return code
    }

    func intake() -> Int32 {
        let settings: ThuracConfig
        let at: Int
        let chosen: Category?
        do {
            settings = try store.settings()
            at = try instant(now)
            chosen = try category.map { try Category(parsing: $0) }
        } catch { return fail(SysExit.config, "\(error)") }
        if mbox != nil && maildir != nil { return fail(SysExit.usage, "give --mbox or --maildir, not both") }
        var understood: IntakeSettings
        do {
            understood = IntakeSettings(
                trustedRelays: try TrustedRelays(settings.intake.trustedRelays),
                suffixes: try PublicSuffixList(path: settings.intake.publicSuffixList))
        } catch {
            return fail(SysExit.config, "[intake]: \(error)")
        }
        understood.maxDomains = settings.intake.maxDomains
        let s: ListingStore
        do { s = try store.open() } catch {
            // The store cannot be opened (locked, unwritable directory, full disk): try later.
            return fail(SysExit.tempFail, "\(error)")
        }
        var intake = MailIntake(store: s, settings: understood)
        intake.mailboxes = settings.intake.mailboxes
        intake.perHour = settings.intake.perHour
        intake.policy = settings.policy
        for (box, source) in settings.intake.mailboxes {
            let found: Source?
            // A store that cannot be read now is a reason to try later, not a bounce.
            do { found = try s.source(named: source) } catch { return fail(SysExit.tempFail, "\(error)") }
            if found == nil {
                return fail(SysExit.config, "[intake] mailboxes: \(box) names source '\(source)', which does not exist (thurac sources add)")
            }
        }

        // Read once: the environment is copied whole on every read.
        let mailbox = recipient ?? Self.environment("ORIGINAL_RECIPIENT") ?? Self.environment("RECIPIENT")
        func one(_ raw: [UInt8], sender: String?) -> (code: Int32, line: String) {
            do {
                let r = try intake.accept(raw, sender: sender, recipient: mailbox, category: chosen, now: at)
                return (SysExit.ok, r.summary)
            } catch let e as IntakeError where e == .notAMessage {
                return (SysExit.dataError, e.description)
            } catch where ListingStore.isUnavailable(error) {
                return (SysExit.tempFail, "the store is busy or cannot be written (\(error)); nothing was recorded")
            } catch {
                return (SysExit.software, "\(error); nothing was recorded")
            }
        }

        if mbox == nil && maildir == nil {
            let raw = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
            let (code, line) = one(raw, sender: sender ?? Self.environment("SENDER"))
            if code == SysExit.ok { print(line) } else { return fail(code, line) }
            return code
        }
        var counts = (messages: 0, accepted: 0, notMessages: 0, failed: 0)
        var batchCode = SysExit.ok
        let started = Date()
        do {
            let each: ([UInt8], String?) throws -> Void = { raw, from in
                counts.messages += 1
                let (code, line) = one(raw, sender: sender ?? from)
                switch code {
                case SysExit.ok: counts.accepted += 1
                case SysExit.dataError: counts.notMessages += 1
                default: counts.failed += 1
                }
                if code != SysExit.ok && code != SysExit.dataError { batchCode = max(batchCode, code) }
                print("message \(counts.messages): \(code == SysExit.ok ? "" : "not recorded: ")\(line)")
            }
            if let mbox { try MailboxReader.mbox(mbox, each) } else if let maildir { try MailboxReader.maildir(maildir, each) }
        } catch {
            return fail(SysExit.noInput, "\(error)")
        }
        let seconds = Date().timeIntervalSince(started)
        print(
            "\(counts.messages) message(s): \(counts.accepted) accepted, \(counts.notMessages) not messages, \(counts.failed) not recorded (run again for those) in \(String(format: "%.2f", seconds)) s"
        )
        return batchCode
    }
}

/// `thurac messages`: the forwarded messages the store keeps, for the operator.
struct MessagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messages", abstract: "Forwarded spam messages kept by the store (list, show).",
        subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest messages: number, time, reporter, what was found.")
        @Option(help: "How many.") var limit: Int = 50
        @OptionGroup var store: StoreOptions
        func run() throws {
            let s = try store.open()
            for m in try storeCall({ try s.intakeMessages(limit: limit) }) {
                print("\(m.id)\t\(ISOTime.format(m.receivedAt))\t\(m.record.reporter)\t\(m.source)\t\(m.record.digest.prefix(12))\t\(m.record.summary)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A message as it was forwarded (by number or digest prefix).")
        @Argument(help: "The message's number, or at least 8 hex digits of its digest (as in a report's evidence).")
        var message: String
        @OptionGroup var store: StoreOptions
        func run() throws {
            let s = try store.open()
            guard let m = try storeCall({ try s.intakeMessage(message) }) else {
                throw CommandFailure("no stored message '\(message)' (thurac messages list shows them; they are kept for the retention period)")
            }
            let raw = try MailIntake.decompress(m.record.compressed, size: m.record.size)
            FileHandle.standardOutput.write(Data(raw))
        }
    }
}
