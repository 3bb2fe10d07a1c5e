import ArgumentParser
import Foundation
import Ingestion
import ListingKeys
import Publishing
import Store
import ZoneConfig

/// `--now TIME` (ISO 8601): evaluate at that instant instead of the clock's (SPEC §5).
func instant(_ text: String?) throws -> Int {
    guard let text else { return Int(Date().timeIntervalSince1970) }
    guard let t = ISOTime.parse(text) else { throw CommandFailure("--now: '\(text)' is not an ISO 8601 time") }
    return t
}

/// A key given on the command line, or a one-line failure saying why it is not one.
func keyArgument(_ text: String) throws -> KeySpec {
    do {
        return try KeySpec(parsing: text)
    } catch {
        throw CommandFailure(error.description)
    }
}

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Merge a feed into the store and print the counts (added, refreshed, pending, allowlisted, rejected).")

    @Option(help: "The reporting source (see `thurac sources`).") var source: String
    @Option(help: "plain, csv, jsonl, drop, rbldnsd or arf (detected from the content when absent).") var format: String?
    @Option(help: "Category for lines that do not name one.") var category: String = "spam"
    @Option(help: "Report TTL for this feed (e.g. 7d), overriding the source's.") var ttl: String?
    @Option(help: "Evaluate at this ISO 8601 instant.") var now: String?
    @Argument(help: "Feed files; '-' reads standard input.") var files: [String]
    @OptionGroup var store: StoreOptions

    func run() throws {
        let f: FeedFormat?
        if let format {
            guard let parsed = FeedFormat(rawValue: format) else {
                throw CommandFailure("--format must be one of \(FeedFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            f = parsed
        } else {
            f = nil
        }
        let c: Category
        let seconds: Int?
        do {
            c = try Category(parsing: category)
            seconds = try ttl.map { try DurationText.seconds($0) }
        } catch { throw CommandFailure("\(error)") }
        let at = try instant(now)
        let s = try store.open()
        let policy = try store.settings().policy
        let ingestor = FeedIngestor(store: s)
        let terminal = isatty(2) == 1
        var failed = false
        for file in files {
            let reader: FeedReader
            do { reader = try FeedReader(path: file) } catch { throw CommandFailure(error.description) }
            var bad = 0
            func badLine(_ e: FeedLineError) {
                bad += 1
                guard bad <= Self.badLinesShown else { return }
                if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                let place = e.line > 0 ? "\(reader.name):\(e.line)" : reader.name
                FileHandle.standardError.write(Data("\(place): \(e.message)\n".utf8))
            }
            // A progress line on a terminal only: logs and pipes get the final counts.
            let progress: ((FeedIngestor.Progress) -> Void)? = terminal ? { p in
                let share = p.size.map { $0 > 0 ? " \(min(100, p.bytes * 100 / $0))%" : "" } ?? ""
                FileHandle.standardError.write(Data("\r\u{1B}[K\(reader.name):\(share) \(p.lines) lines read".utf8))
            } : nil
            let result: FeedIngestor.Result
            do {
                result = try ingestor.ingest(
                    reader, source: source, format: f, category: c, ttl: seconds, now: at, policy: policy, badLine: badLine,
                    progress: progress)
            } catch let e as FeedError {
                throw CommandFailure(e.description)
            } catch let e as StoreError {
                throw CommandFailure("\(reader.name): \(e.description); nothing applied")
            }
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            if bad > Self.badLinesShown {
                FileHandle.standardError.write(Data("\(reader.name): \(bad - Self.badLinesShown) more bad line(s) not shown\n".utf8))
            }
            print("\(file): \(result.counts)")
            if bad > 0 { failed = true }
        }
        // Good lines were applied; a non-zero exit still tells scripts that some were not.
        if failed { throw ExitCode(2) }
    }

    static let badLinesShown = 100
}

struct LookupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Explain a key: listed or not, in which zone and category, by whom, since and until when, and why not.")

    @Argument(help: "An IPv4 or IPv6 address or network, a domain, or an e-mail address.") var key: String
    @Option(help: "Evaluate at this ISO 8601 instant.") var now: String?
    @OptionGroup var store: StoreOptions

    func run() throws {
        let spec = try keyArgument(key)
        let at = try instant(now)
        let s = try store.open()
        let zones = try store.settings().zones
        let explanation = try storeCall { try KeyExplanation.explain(spec, store: s, zones: zones, at: at) }
        for line in explanation.lines { print(line) }
    }
}
