import Foundation
import GRDB
import ListingKeys
import Store
import Testing

/// The console's store operations (confirm, dismiss, list by hand, search, the audit filter),
/// the wider keys around a key, and the charts' series against their definition.
@Suite struct ReviewTests {
    let store: ListingStore
    let day = 86400
    let t0 = 1_800_000_000

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-review-\(UUID().uuidString)/t.db").path
        store = try ListingStore(path: path)
        _ = try store.addSource(name: "isp", kind: .isp, ttl: nil, now: t0, actor: "t")
        for n in ["p1", "p2"] { _ = try store.addSource(name: n, kind: .public, ttl: nil, now: t0, actor: "t") }
    }

    func report(_ key: String, _ source: String, _ category: Category = .spam, at: Int, ttl: Int? = nil) throws {
        _ = try store.ingest([ReportInput(key: try KeySpec(parsing: key), category: category, reason: nil, ttl: ttl, seen: at)], source: source, ttlOverride: nil, now: at)
    }

    func state(_ key: String) throws -> [String] { try store.listings(key: key).map(\.state) }

    @Test func confirmPublishesUnderTheOperatorsSourceAndDismissHoldsBack() throws {
        try report("192.0.2.1", "p1", at: t0)
        try report("192.0.2.2", "p1", .fraud, at: t0)
        #expect(try store.pendingKeys().total == 2)
        try store.confirm(try KeySpec(parsing: "192.0.2.1"), note: "trap", now: t0 + 60, account: "alice")
        #expect(try state("192.0.2.1") == ["published"])
        #expect(try store.reporters(key: "192.0.2.1").map(\.source) == ["op-alice", "p1"], "provenance: both reports")
        #expect(try store.source(named: "op-alice")?.kind == .operator)
        #expect(throws: StoreError.self) { try store.confirm(try KeySpec(parsing: "192.0.2.1"), note: nil, now: t0 + 61, account: "alice") }

        try store.dismiss(try KeySpec(parsing: "192.0.2.2"), reason: "not spam", grace: 7 * day, now: t0 + 120, account: "alice")
        #expect(try state("192.0.2.2") == ["delisted"])
        try report("192.0.2.2", "p2", .fraud, at: t0 + 3600)
        #expect(try state("192.0.2.2") == ["delisted"], "held back for the grace")
        try report("192.0.2.2", "isp", .fraud, at: t0 + 7200)
        #expect(try state("192.0.2.2") == ["published"], "a trusted source still publishes it")
        #expect(throws: StoreError.self) { try store.dismiss(try KeySpec(parsing: "192.0.2.2"), reason: "x", grace: 0, now: t0 + 7300, account: "alice") }
        #expect(try store.pendingKeys().total == 0)

        let log = try store.auditLog(actor: "alice", newestFirst: true)
        #expect(log.map(\.action) == ["dismiss", "confirm", "source.add"], "newest first: \(log)")
        #expect(try store.auditLog(actor: "alice", action: "source", newestFirst: true).map(\.subject) == ["op-alice"])
        #expect(try store.auditLog(subject: "192.0.2.2", since: t0 + 100, until: t0 + 200).map(\.action) == ["dismiss"])
    }

    @Test func aKeyListedByHandRunsForItsTime() throws {
        try store.listManually(try KeySpec(parsing: "198.51.100.0/24"), category: .manual, reason: "botnet", ttl: 2 * day, now: t0, account: "bob")
        #expect(Set(try store.published(now: t0 + day).map(\.key)) == ["198.51.100.0/24"])
        #expect(try store.published(now: t0 + 3 * day).isEmpty)
        #expect(throws: StoreError.self) {
            try store.listManually(try KeySpec(parsing: "!198.51.100.7"), category: .manual, reason: "x", ttl: nil, now: t0, account: "bob")
        }
        // Nothing is written for a key the allowlist covers, or a time already over.
        try store.allow(try KeySpec(parsing: "203.0.113.0/24"), reason: "partner", now: t0, actor: "t")
        let before = try store.auditLog().count
        #expect(throws: StoreError.self) {
            try store.listManually(try KeySpec(parsing: "203.0.113.9"), category: .manual, reason: "x", ttl: nil, now: t0, account: "bob")
        }
        #expect(throws: StoreError.self) {
            try store.listManually(try KeySpec(parsing: "192.0.2.9"), category: .manual, reason: "x", ttl: 0, now: t0, account: "bob")
        }
        #expect(try store.auditLog().count == before && (try store.listings(key: "203.0.113.9")).isEmpty)
        #expect(try store.searchListings("198.51.").map(\.key) == ["198.51.100.0/24"])
        #expect(try store.searchListings("198.51.100.0/24").first?.sources == ["op-bob"])
        #expect(try store.searchListings("203.").isEmpty)
    }

    /// Every wider key around an address, prefix or range, and only those: prefixes by their
    /// text, ranges through the partial index, exclusions too.
    @Test(arguments: [
        ("192.0.2.77", ["0.0.0.0/0", "192.0.0.0/16", "192.0.2.0/24", "192.0.2.64/26", "192.0.2.70-192.0.2.80", "!192.0.2.76/30"]),
        ("192.0.2.0/24", ["0.0.0.0/0", "192.0.0.0/16"]),
        ("192.0.2.75-192.0.2.78", ["0.0.0.0/0", "192.0.0.0/16", "192.0.2.0/24", "192.0.2.64/26", "192.0.2.70-192.0.2.80", "!192.0.2.76/30"].filter { $0 != "!192.0.2.76/30" }),
        ("2001:db8:1:2::5", ["2001:db8::/32", "2001:db8:1::/48"]),
        ("2001:db8::/32", []),
        ("a.b.example.net", ["*.b.example.net", "*.example.net"]),
    ])
    func coveringFindsTheWiderKeys(key: String, expected: [String]) throws {
        for k in ["0.0.0.0/0", "192.0.0.0/16", "192.0.2.0/24", "192.0.2.64/26", "192.0.2.70-192.0.2.80", "!192.0.2.76/30", "192.0.3.0/24",
                  "192.0.2.78", "10.0.0.1-10.0.0.9", "2001:db8::/32", "2001:db8:1::/48", "2001:db9::/32", "*.b.example.net", "*.example.net", "c.b.example.net",
                  "x1-2.example.net"] {
            try report(k, "isp", at: t0)
        }
        let found = try store.covering(try KeySpec(parsing: key).key).map(\.key)
        #expect(Set(found) == Set(expected), "\(key): \(found)")
    }

    /// The series' listings per day, against its definition: a listing counts at the end of a
    /// day when it started before that end and had not ended (expired, delisted) by it.
    @Test func theSeriesCountsEachDayAsDefined() throws {
        let now = t0 + 40 * day + 3600
        var rng = SystemRandomNumberGenerator()
        for i in 0..<300 {
            let at = t0 + Int.random(in: 0..<(41 * day), using: &rng)
            let ttl = [nil, day, 3 * day, 20 * day][i % 4]
            try report("10.0.\(i / 256).\(i % 256)", i % 3 == 0 ? "p1" : "isp", [.spam, .fraud][i % 2], at: min(at, now), ttl: ttl)
            if i % 7 == 0 { try? store.delist(try KeySpec(parsing: "10.0.\(i / 256).\(i % 256)"), reason: "t", grace: 0, now: min(at + day, now), actor: "t") }
        }
        let s = try store.series(now: now, weeks: 6, days: 30)
        let rows = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT l.category, l.state, l.firstSeen, l.expiresAt, d.delistedAt FROM listing l LEFT JOIN delisting d ON d.key = l.key")
        }
        for p in s.listingsPerDay {
            let end = p.start + day
            var expected: [String: Int] = [:]
            for r in rows where (r["state"] as String) != "pending" {
                var until: Int? = r["expiresAt"]
                if (r["state"] as String) == "delisted", let d: Int = r["delistedAt"] { until = min(until ?? d, d) }
                if (r["firstSeen"] as Int) < end && (until.map { $0 >= end } ?? true) { expected[r["category"], default: 0] += 1 }
            }
            #expect(p.counts == expected, "day \(ISOTime.format(p.start))")
        }
    }

    /// The period's figures per family, as the parser would class each key.
    @Test func statisticsClassEveryKeyAsTheParserDoes() throws {
        let keys = ["192.0.2.1", "192.0.2.0/24", "192.0.2.10-192.0.2.20", "!192.0.2.5", "2001:db8::/32", "2001:db8::1", "x1-2.example.net",
                    "*.spam.example.net", "ab.cd", "user@mail.example.net"]
        for k in keys { try report(k, "isp", at: t0) }
        let s = try store.statistics(since: t0 - 10, now: t0 + 10)
        var expected: [ListingKey.Family: Int] = [:]
        for k in keys { expected[try KeySpec(parsing: k).key.family, default: 0] += 1 }
        #expect(Dictionary(uniqueKeysWithValues: s.listings.map { ($0.family, $0.added) }) == expected)
        #expect(s.listings.allSatisfy { $0.current == $0.added && $0.expired == 0 && $0.delisted == 0 })
    }
}
