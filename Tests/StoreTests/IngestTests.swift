import Foundation
import GRDB
import Ingestion
import ListingKeys
@testable import Store
import TestSupport
import Testing

@Suite struct IngestTests {
    let store: ListingStore
    let day = 86400
    let t0 = 1_800_000_000

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-ingest-\(UUID().uuidString)/t.db").path
        store = try ListingStore(path: path)
        for (n, k) in [("vnpt", SourceKind.isp), ("mic", .agency), ("a", .public), ("b", .public), ("c", .public)] {
            _ = try store.addSource(name: n, kind: k, ttl: nil, now: t0, actor: "test")
        }
    }

    static let feeds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Feeds")

    func feed(_ text: String, _ source: String, at: Int, format: FeedFormat? = nil) throws -> FeedIngestor.Result {
        try feedWithErrors(text, source, at: at, format: format).result
    }

    func feedWithErrors(_ text: String, _ source: String, at: Int, format: FeedFormat? = nil) throws
        -> (result: FeedIngestor.Result, errors: [FeedLineError])
    {
        var errors: [FeedLineError] = []
        let r = try FeedIngestor(store: store).ingest(
            text: text, source: source, format: format, category: .spam, ttl: nil, now: at, badLine: { errors.append($0) })
        return (r, errors)
    }

    func feedFile(_ name: String, _ source: String, at: Int, chunk: Int = 1 << 20) throws -> (result: FeedIngestor.Result, errors: [FeedLineError]) {
        var errors: [FeedLineError] = []
        let reader = try FeedReader(path: Self.feeds.appendingPathComponent(name).path, chunk: chunk)
        let r = try FeedIngestor(store: store).ingest(
            reader, source: source, format: nil, category: .spam, ttl: nil, now: at, badLine: { errors.append($0) })
        return (r, errors)
    }

    func published(_ key: String) throws -> [String] {
        try store.listings(key: key).filter { $0.state == "published" }.map(\.category)
    }

    @Test func trustedSourcesPublishOnOneReport() throws {
        let r = try feed("192.0.2.1\n198.51.100.0/24 open proxies\n", "vnpt", at: t0)
        #expect(r.format == .plain)
        #expect(r.counts.added == 2)
        let row = try #require(try store.listings(key: "192.0.2.1").first)
        #expect(row.state == "published")
        #expect(row.expiresAt == t0 + 7 * day, "isp reports live 7 days")
    }

    @Test func publicReportsNeedThreeDistinctReportersWithinSevenDays() throws {
        #expect(try feed("spam.example\n", "a", at: t0).counts.pending == 1)
        #expect(try feed("spam.example\n", "a", at: t0 + day).counts.pending == 1, "the same reporter twice is still one")
        #expect(try feed("spam.example\n", "b", at: t0 + 2 * day).counts.pending == 1)
        let third = try feed("spam.example\n", "c", at: t0 + 3 * day)
        #expect(third.counts.added == 1 && third.counts.refreshed == 0 && third.counts.pending == 0, "the third reporter adds the listing")
        #expect(try feed("spam.example\n", "a", at: t0 + 3 * day + 1).counts.refreshed == 1)
        #expect(try store.listings(key: "spam.example").first?.state == "published")
        // Three reporters spread over more than seven days do not publish.
        _ = try feed("slow.example\n", "a", at: t0)
        _ = try feed("slow.example\n", "b", at: t0 + 5 * day)
        _ = try feed("slow.example\n", "c", at: t0 + 9 * day)
        #expect(try store.listings(key: "slow.example").first?.state == "pending")
    }

    @Test func aTrustedReportOfAPendingKeyAddsItsListing() throws {
        #expect(try feed("pending.example\n", "a", at: t0).counts.pending == 1)
        let trusted = try feed("pending.example\nnew.example\n", "vnpt", at: t0 + 1)
        #expect(trusted.counts.added == 2 && trusted.counts.refreshed == 0, "\(trusted.counts)")
        #expect(try feed("pending.example\n", "vnpt", at: t0 + 2).counts.refreshed == 1)
    }

    @Test func reportsExpiredOnArrivalAreStaleNotAdded() throws {
        // Seen ten days ago with a 7-day TTL: counted and said, not applied.
        let csv = "key,seen,ttl\n192.0.2.30,\(ISOTime.format(t0 - 10 * day)),7d\n192.0.2.31,\(ISOTime.format(t0 - day)),7d\n"
        let r = try feed(csv, "vnpt", at: t0)
        #expect(r.counts.added == 1 && r.counts.stale == 1, "\(r.counts)")
        #expect(r.counts.description.hasSuffix("stale 1"))
        #expect(try store.listings(key: "192.0.2.30").isEmpty && store.reporters(key: "192.0.2.30").isEmpty)
        // A feed of stale reports only is answered (it was read), not refused as empty.
        let old = try feed("key,seen,ttl\n192.0.2.32,\(ISOTime.format(t0 - 10 * day)),1d\n", "vnpt", at: t0)
        #expect(old.counts.stale == 1 && old.counts.added == 0)
    }

    @Test func reingestingRefreshesLastSeenOnly() throws {
        let csv = "key,category,reason,ttl\n192.0.2.7,fraud,phishing,30d\n"
        #expect(try feed(csv, "mic", at: t0).counts.added == 1)
        let again = try feed(csv, "mic", at: t0 + day)
        #expect(again.format == .csv)
        #expect(again.counts.refreshed == 1)
        let row = try #require(try store.listings(key: "192.0.2.7").first)
        #expect(row.category == "fraud")
        #expect(row.reportCount == 1)
        #expect(row.firstSeen == t0)
        #expect(row.lastSeen == t0 + day)
        #expect(row.expiresAt == t0 + day + 30 * day)
    }

    /// The merge adds this feed's new reports to a listing's count instead of recounting: the
    /// count must still be the number of reports, whoever sent them and however often.
    @Test func reportCountsAreTheReportsWhateverTheOrder() throws {
        // The first ingest on this store fails after staging (its tables roll back with it).
        #expect(throws: StoreError.self) { try feed("key\nnot a key\n", "a", at: t0) }
        let steps: [(String, String)] = [
            ("a", "spam.example\n192.0.2.9\n"), ("a", "spam.example\n"), ("b", "spam.example\n192.0.2.9\n"),
            ("vnpt", "192.0.2.9\n"), ("vnpt", "192.0.2.9\nspam.example\n"), ("c", "spam.example\n"), ("mic", "spam.example\n"),
        ]
        for (i, (source, text)) in steps.enumerated() { _ = try feed(text, source, at: t0 + i * 60) }
        let counts = try store.listings(key: "spam.example").map(\.reportCount) + store.listings(key: "192.0.2.9").map(\.reportCount)
        #expect(counts == [5, 3])
        #expect(try store.reporters(key: "spam.example").count == 5)
        #expect(try store.reporters(key: "192.0.2.9").count == 3)
    }

    @Test func badLinesAreListedGoodOnesApplied() throws {
        let (r, errors) = try feedWithErrors("key,category\n192.0.2.1,spam\n10.0.0.1/24,spam\n192.0.2.2,phishy\n", "vnpt", at: t0)
        #expect(r.counts.added == 1)
        #expect(r.counts.rejected == 2)
        #expect(errors.map(\.line) == [3, 4])
        #expect(errors[0].message.contains("host bits"))
    }

    @Test func aFeedWithNothingUsableAppliesNothing() throws {
        #expect(throws: StoreError.self) { try feed("key\nnot a key\n", "vnpt", at: t0) }
        #expect(throws: StoreError("the feed holds no entries")) { try feed("", "vnpt", at: t0) }
        #expect(throws: StoreError("the feed holds no entries")) { try feed("# nothing today\n", "vnpt", at: t0) }
        #expect(try store.auditLog().filter { $0.action == "ingest" }.isEmpty)
    }

    @Test func unknownSourceAppliesNothing() throws {
        #expect(throws: StoreError("no source named 'nobody'")) { try feed("192.0.2.1\n", "nobody", at: t0) }
        #expect(try store.listings(key: "192.0.2.1").isEmpty)
    }

    @Test func allowlistWinsOverFeeds() throws {
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO allowlist (key, addedBy, addedAt) VALUES ('192.0.2.9', 'test', 0)")
        }
        let r = try feed("192.0.2.9\n192.0.2.10\n", "mic", at: t0)
        #expect(r.counts.allowlisted == 1)
        #expect(r.counts.added == 1)
        #expect(try store.listings(key: "192.0.2.9").isEmpty)
    }

    @Test(arguments: [
        ("{\"key\": \"192.0.2.1\", \"category\": \"malware\", \"reason\": \"C2\"}\n", FeedFormat.jsonl),
        ("; Spamhaus DROP List\n192.0.2.0/24 ; SBL123456\n", FeedFormat.drop),
    ])
    func otherFormatsAreDetected(_ text: String, _ format: FeedFormat) throws {
        let r = try feed(text, "mic", at: t0)
        #expect(r.format == format)
        #expect(r.counts.added == 1)
    }

    @Test func aByteOrderMarkIsNotPartOfTheHeader() throws {
        let r = try feed("\u{FEFF}key,category\r\n192.0.2.30,fraud\r\n", "vnpt", at: t0)
        #expect(r.format == .csv)
        #expect(try store.listings(key: "192.0.2.30").first?.category == "fraud")
    }

    @Test func csvFieldsMayBeQuotedAndCarryTimesAndEvidence() throws {
        let csv = "Key, Reason ,seen,evidence\n\"192.0.2.20\",\"says \"\"hi\"\", twice\",2026-11-01T10:00:00+07:00,ticket 42\n"
        // A day after it was seen (at t0 the report would have expired: stale).
        #expect(try feed(csv, "vnpt", at: ISOTime.parse("2026-11-02T03:00:00Z")!).counts.added == 1)
        let row = try #require(try store.listings(key: "192.0.2.20").first)
        #expect(row.reason == "says \"hi\", twice")
        #expect(row.lastSeen == ISOTime.parse("2026-11-01T03:00:00Z"))
    }

    @Test func rbldnsdDataFilesMeanWhatTheyMeanToRbldnsd() throws {
        let (r, errors) = try feedFile("isp.ip4set", "vnpt", at: t0)
        #expect(r.format == .rbldnsd)
        #expect(errors.count == 1, "not-an-address is reported: \(errors)")
        #expect(errors.first?.line == 9)
        #expect(try published("192.0.2.0/30") == ["spam"])
        let row = try #require(try store.listings(key: "192.0.2.0/30").first)
        #expect(row.reason == "Spam source $, see https://isp.example/lookup")
        // 198.51.100 is the /24; the exclusion splits it around .7.
        #expect(try published("198.51.100.0-198.51.100.6") == ["spam"])
        #expect(try published("198.51.100.8-198.51.100.255") == ["spam"])
        #expect(try published("203.0.113.5") == ["fraud"], "127.0.0.3 is the fraud category")
        #expect(try published("203.0.113.9-203.0.113.10") == ["spam"])

        let (d, _) = try feedFile("agency.dnset", "mic", at: t0)
        #expect(d.format == .rbldnsd)
        #expect(try published("bad.example") == ["malware"])
        #expect(try published("worse.example") == ["malware"])
        #expect(try published("*.worse.example") == ["malware"])
        #expect(try store.listings(key: "!good.worse.example").count == 1, "the exclusion is kept as one")
    }

    @Test func arfReportsBecomeReportsOfTheReportingSource() throws {
        // An hour after its Arrival-Date (at t0 its reports would be long expired: stale).
        let arrival = try #require(ISOTime.parse("2026-03-08T07:00:00Z"))
        #expect(try feedFile("abuse.arf", "vnpt", at: t0).result.counts.stale == 3)
        let (r, errors) = try feedFile("abuse.arf", "a", at: arrival + 3600)
        #expect(errors.isEmpty)
        #expect(r.format == .arf)
        #expect(r.counts.pending == 3, "a public source: source IP, reported domain and sender wait for corroboration")
        for key in ["192.0.2.1", "spammer.example", "sender@spammer.example"] {
            let row = try #require(try store.listings(key: key).first, "\(key)")
            #expect(row.state == "pending")
            #expect(row.reason == "reported as abuse (ARF)")
        }
        #expect(try store.listings(key: "192.0.2.1").first?.lastSeen == ISOTime.parse("2026-03-08T07:00:00Z"))
        #expect(throws: FeedError.self) { try feed("From: a@b.example\nSubject: hi\n\nmessage/feedback-report\n", "a", at: t0, format: .arf) }
    }

    @Test func allowlistedRangesCoverWhatIsInside() throws {
        try store.allow(try KeySpec(parsing: "192.0.2.0/24"), reason: "partner", now: t0, actor: "test")
        try store.allow(try KeySpec(parsing: "*.partner.example"), reason: nil, now: t0, actor: "test")
        let r = try feed("192.0.2.77\n192.0.2.128/25\n192.0.2.0/23\nmx.partner.example\npartner.example\n", "vnpt", at: t0)
        #expect(r.counts.allowlisted == 3)
        #expect(r.counts.added == 2, "a wider range and the apex are not inside the allowlist")
    }

    @Test func linesSpanningReadChunksAreWhole() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-chunks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let keys = (0..<500).map { "10.\($0 / 256).\($0 % 256).1" }
        let path = dir.appendingPathComponent("feed.txt").path
        try Data((keys.joined(separator: "\r\n") + "\r\n").utf8).write(to: URL(fileURLWithPath: path))
        let reader = try FeedReader(path: path, chunk: 16)
        let r = try FeedIngestor(store: store).ingest(reader, source: "vnpt", format: nil, category: .spam, ttl: nil, now: t0)
        #expect(r.counts.added == 500)
        #expect(r.counts.rejected == 0)
        #expect(try published("10.1.243.1") == ["spam"])
    }

    @Test func isoTimes() {
        #expect(ISOTime.parse("1970-01-01T00:00:00Z") == 0)
        #expect(ISOTime.parse("2026-11-29") == 1_795_910_400)
        #expect(ISOTime.parse("2026-11-29T07:00:00+07:00") == ISOTime.parse("2026-11-29T00:00:00Z"))
        #expect(ISOTime.parse("2024-02-29T12:30:15.250Z") == 1_709_209_815)
        for bad in ["2026-02-30", "2026-11-29T10:00:00", "26-11-29", "2026-11-29T25:00:00Z", "2026-11-29Tnoon", ""] {
            #expect(ISOTime.parse(bad) == nil, "\(bad)")
        }
    }

    /// Garbage in any format is refused line by line or whole, never a crash, never half a feed.
    @Test(arguments: FeedFormat.allCases)
    func mutatedFeedsAreRefusedCleanly(_ format: FeedFormat) throws {
        var rng = SeededRandom(seed: 99 &+ UInt64(FeedFormat.allCases.firstIndex(of: format)!))
        let seeds = [
            "key,category,reason,ttl,seen\n192.0.2.1,spam,\"a, b\",7d,2026-11-01T00:00:00Z\n",
            "{\"key\": \"2001:db8::/32\", \"category\": \"fraud\"}\n", "192.0.2.0/24 ; SBL1\n",
            ":127.0.0.2:text $\n10.0.0.0/8\n!10.1.2.3\n", "spam.example reason here\n",
            try String(contentsOf: Self.feeds.appendingPathComponent("abuse.arf"), encoding: .utf8),
        ]
        let alphabet = Array("0123456789abcdef.:/-!*@,;\"{}[] \t\n\r$#\\\u{0}\u{FF}é".unicodeScalars)
        for round in 0..<150 {
            var text = Array(seeds[round % seeds.count].unicodeScalars)
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                let i = Int.random(in: 0...text.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: text.insert(alphabet.randomElement(using: &rng)!, at: i)
                case 1: if i < text.count { text.remove(at: i) }
                default: if i < text.count { text[i] = alphabet.randomElement(using: &rng)! }
                }
            }
            let before = try store.auditLog().count
            do {
                let r = try feedWithErrors(String(String.UnicodeScalarView(text)), "mic", at: t0 + round, format: format)
                #expect(r.result.counts.added + r.result.counts.refreshed + r.result.counts.pending + r.result.counts.allowlisted + r.result.counts.stale > 0)
                #expect(r.result.counts.rejected == r.errors.count)
            } catch is StoreError {
                #expect(try store.auditLog().count == before, "a refused feed records nothing")
            } catch is FeedError {
                #expect(try store.auditLog().count == before, "a refused feed records nothing")
            }
        }
    }
}

/// Feeds longer than one staging run: runs are written on a second thread while the next is
/// read, and must still merge as one feed (the last line of a key wins, one report per key).
@Suite struct StagingRunTests {
    let store: ListingStore
    let t0 = 1_800_000_000

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-runs-\(UUID().uuidString)/t.db").path
        store = try ListingStore(path: path)
        _ = try store.addSource(name: "mic", kind: .agency, ttl: nil, now: t0, actor: "test")
        _ = try store.addSource(name: "a", kind: .public, ttl: nil, now: t0, actor: "test")
    }

    func report(_ key: String, _ reason: String, ttl: Int? = 86400, seen: Int? = nil) throws -> ReportInput {
        ReportInput(key: try KeySpec(parsing: key), category: .spam, reason: reason, ttl: ttl, seen: seen)
    }

    func ingest(_ source: String, runLength: Int, _ reports: [ReportInput], failAfter: Int? = nil) throws -> IngestCounts {
        try store.ingest(source: source, ttlOverride: nil, now: t0, policy: Policy(), first: nil, runLength: runLength) { writer in
            for (i, r) in reports.enumerated() {
                if i == failAfter { throw StoreError("the feed broke off") }
                try writer.add(r)
            }
        }
    }

    /// 10 addresses, then 10 more, then the first five again with other reasons and times:
    /// with runs of 4 lines they are six runs, the repeats in other runs than the first lines.
    func lines() throws -> [ReportInput] {
        try (0..<20).map { try report("192.0.2.\($0)", "first") }
            + (0..<5).map { try report("192.0.2.\($0)", "again", ttl: 7 * 86400, seen: t0 - 60) }
    }

    @Test(arguments: [1, 4, 7, 1 << 16])
    func runsMergeAsOneFeed(_ runLength: Int) throws {
        let counts = try ingest("mic", runLength: runLength, lines())
        #expect(counts.added == 20)
        #expect(counts.refreshed == 0)
        let repeated = try #require(store.listings(key: "192.0.2.3").first)
        #expect(repeated.reason == "again")
        #expect(repeated.reportCount == 1)
        #expect(repeated.lastSeen == t0)
        #expect(repeated.expiresAt == t0 - 60 + 7 * 86400)
        #expect(try store.listings(key: "192.0.2.13").first?.reason == "first")
        #expect(try store.reporters(key: "192.0.2.3").count == 1)
        let again = try ingest("mic", runLength: runLength, lines())
        #expect(again.added == 0)
        #expect(again.refreshed == 20)
        #expect(try store.listings(key: "192.0.2.3").first?.reportCount == 1)
    }

    /// A feed that fails while runs are being written leaves nothing, and the store goes on.
    @Test(arguments: [3, 9, 22])
    func aFeedThatFailsMidwayLeavesNothing(_ failAfter: Int) throws {
        #expect(throws: StoreError.self) { try ingest("mic", runLength: 4, lines(), failAfter: failAfter) }
        #expect(try store.listings(key: "192.0.2.0").isEmpty)
        #expect(try store.reporters(key: "192.0.2.0").isEmpty)
        #expect(try ingest("mic", runLength: 4, lines()).added == 20)
    }

    /// Untrusted feeds use the same staging; a public report stays pending.
    @Test func publicFeedsAreStagedTheSameWay() throws {
        let counts = try ingest("a", runLength: 4, lines())
        #expect(counts.pending == 20)
        #expect(try store.listings(key: "192.0.2.4").first?.reason == "again")
    }
}
