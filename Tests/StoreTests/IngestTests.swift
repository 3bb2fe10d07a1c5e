import Foundation
import GRDB
import Ingestion
import ListingKeys
import Store
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

    func feed(_ text: String, _ source: String, at: Int, format: FeedFormat? = nil) throws -> FeedIngestor.Result {
        try FeedIngestor(store: store).ingest(text: text, source: source, format: format, category: .spam, ttl: nil, now: at)
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
        #expect(third.counts.refreshed == 1)
        #expect(try store.listings(key: "spam.example").first?.state == "published")
        // Three reporters spread over more than seven days do not publish.
        _ = try feed("slow.example\n", "a", at: t0)
        _ = try feed("slow.example\n", "b", at: t0 + 5 * day)
        _ = try feed("slow.example\n", "c", at: t0 + 9 * day)
        #expect(try store.listings(key: "slow.example").first?.state == "pending")
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

    @Test func badLinesAreListedGoodOnesApplied() throws {
        let r = try feed("key,category\n192.0.2.1,spam\n10.0.0.1/24,spam\n192.0.2.2,phishy\n", "vnpt", at: t0)
        #expect(r.counts.added == 1)
        #expect(r.counts.rejected == 2)
        #expect(r.errors.map(\.line) == [3, 4])
    }

    @Test func aFeedWithNothingUsableAppliesNothing() throws {
        #expect(throws: StoreError.self) { try feed("key\nnot a key\n", "vnpt", at: t0) }
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
}
