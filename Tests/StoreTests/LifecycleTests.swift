import Foundation
import Ingestion
import ListingKeys
import Listings
import Publishing
import Store
import Testing

/// Timelines with an injected clock: expiry, delisting with grace, restore, allowlist.
@Suite struct LifecycleTests {
    let store: ListingStore
    let day = 86400
    let t0 = 1_800_000_000

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-life-\(UUID().uuidString)/t.db").path
        store = try ListingStore(path: path)
        _ = try store.addSource(name: "isp", kind: .isp, ttl: nil, now: t0, actor: "t")
        _ = try store.addSource(name: "agency", kind: .agency, ttl: nil, now: t0, actor: "t")
        for n in ["p1", "p2", "p3"] { _ = try store.addSource(name: n, kind: .public, ttl: nil, now: t0, actor: "t") }
    }

    func ingest(_ key: String, _ source: String, at: Int) throws {
        _ = try FeedIngestor(store: store).ingest(text: key + "\n", source: source, format: .plain, category: .spam, ttl: nil, now: at)
    }

    func published(at t: Int) throws -> Set<String> { Set(try store.published(now: t).map(\.key)) }

    @Test func ispEntriesExpireAgencyOnesStay() throws {
        try ingest("192.0.2.1", "isp", at: t0)
        try ingest("192.0.2.2", "agency", at: t0)
        #expect(try published(at: t0 + 6 * day) == ["192.0.2.1", "192.0.2.2"])
        #expect(try published(at: t0 + 8 * day) == ["192.0.2.2"], "the ISP report (7 days) has run out")
        #expect(try store.expire(now: t0 + 8 * day, actor: "t") == 1)
        #expect(try store.listings(key: "192.0.2.1").first?.state == "expired")
        #expect(try published(at: t0 + 31 * day).isEmpty, "the agency report (30 days) too")
    }

    @Test func delistHoldsBackUntrustedRelistingButNotTrusted() throws {
        try ingest("spam.example", "isp", at: t0)
        try store.delist(try KeySpec(parsing: "spam.example"), reason: "wrong block", grace: 7 * day, now: t0 + day, actor: "op")
        #expect(try published(at: t0 + day).isEmpty)
        for p in ["p1", "p2", "p3"] { try ingest("spam.example", p, at: t0 + 2 * day) }
        #expect(try published(at: t0 + 2 * day).isEmpty, "public reports within the grace period do not re-list")
        try ingest("spam.example", "agency", at: t0 + 3 * day)
        #expect(try published(at: t0 + 3 * day) == ["spam.example"], "a trusted source brings new evidence")
        #expect(try store.auditLog().contains { $0.action == "delist" && $0.detail == "wrong block" && $0.actor == "op" })
    }

    @Test func restoreBringsBackADelistedListing() throws {
        try ingest("192.0.2.5", "isp", at: t0)
        let key = try KeySpec(parsing: "192.0.2.5")
        try store.delist(key, reason: "complaint", grace: day, now: t0 + day, actor: "op")
        try store.restore(key, retention: 30 * day, now: t0 + 2 * day, actor: "op")
        #expect(try published(at: t0 + 2 * day) == ["192.0.2.5"])
        #expect(throws: StoreError.self) { try store.restore(key, retention: 30 * day, now: t0 + 2 * day, actor: "op") }
    }

    @Test func allowlistRemovesAndBlocks() throws {
        try ingest("192.0.2.9", "agency", at: t0)
        try store.allow(try KeySpec(parsing: "192.0.2.9"), reason: "partner MTA", now: t0, actor: "op")
        #expect(try published(at: t0).isEmpty)
        try ingest("192.0.2.9", "agency", at: t0 + day)
        #expect(try published(at: t0 + day).isEmpty)
        try store.disallow(try KeySpec(parsing: "192.0.2.9"), now: t0 + day, actor: "op")
        #expect(try published(at: t0 + day) == ["192.0.2.9"], "the agency's listing was kept and shows again")
        #expect(throws: StoreError.self) { try store.disallow(try KeySpec(parsing: "192.0.2.9"), now: t0, actor: "op") }
    }
}

extension LifecycleTests {
    @Test func statisticsForAPeriod() throws {
        try ingest("192.0.2.1", "isp", at: t0)
        try ingest("192.0.2.2", "agency", at: t0)
        try ingest("spam.example", "agency", at: t0)
        try ingest("pending.example", "p1", at: t0)
        try store.expire(now: t0 + 8 * day, actor: "t")
        try store.delist(try KeySpec(parsing: "spam.example"), reason: "complaint", grace: day, now: t0 + 9 * day, actor: "op")
        let stats = try store.statistics(since: t0 - day, now: t0 + 10 * day)
        #expect(stats.reports.map { "\($0.source)/\($0.reports)" } == ["agency/2", "isp/1", "p1/1"])
        let address = try #require(stats.listings.first { $0.family == .address && $0.category == "spam" })
        #expect(address.added == 2)
        #expect(address.expired == 1)
        #expect(address.current == 1)
        let domain = try #require(stats.listings.first { $0.family == .domain && $0.category == "spam" })
        #expect(domain.added == 1, "a pending listing is not counted as added")
        #expect(domain.delisted == 1)
        #expect(domain.current == 0)
        // A period after all of it sees no new reports.
        #expect(try store.statistics(since: t0 + 11 * day, now: t0 + 12 * day).reports.isEmpty)
    }

    @Test func allowlistedAddressesAndNamesAreHolesInPublishedZones() throws {
        try ingest("192.0.2.0/24\n*.bulk.example\nbulk.example", "agency", at: t0)
        try store.allow(try KeySpec(parsing: "192.0.2.64/26"), reason: "partner relay", now: t0, actor: "t")
        try store.allow(try KeySpec(parsing: "mx.bulk.example"), reason: nil, now: t0, actor: "t")
        let cover = try PublishedZones.allowlist(store)
        let addresses = try PublishedZones.entries(.addresses, store: store, now: t0)
        let v4 = try #require(PublishedZones.dataset(ZoneDefinition(name: "bl.test", role: .addresses), entries: addresses, ttl: 60, allowlist: cover).ipv4)
        #expect(v4.lookup(0xC000_0201).isListed)
        #expect(!v4.lookup(0xC000_0240).isListed)
        #expect(!v4.lookup(0xC000_027F).isListed)
        #expect(v4.lookup(0xC000_0280).isListed)
        let domains = try PublishedZones.entries(.domains, store: store, now: t0)
        let names = try #require(PublishedZones.dataset(ZoneDefinition(name: "dbl.test", role: .domains), entries: domains, ttl: 60, allowlist: cover).domains)
        func listed(_ name: String) -> Bool {
            let wire = Array(name.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) })
            return wire.withUnsafeBytes { names.lookup($0, from: 0, count: wire.count)?.ref.isListed ?? false }
        }
        #expect(listed("www.bulk.example"))
        #expect(listed("bulk.example"))
        #expect(!listed("mx.bulk.example"))
    }

    @Test func historyIsRestorableUntilTheRetentionPeriodEnds() throws {
        try ingest("192.0.2.50", "agency", at: t0)
        try ingest("192.0.2.51", "isp", at: t0)
        try store.expire(now: t0 + 8 * day, actor: "op")  // the isp listing ran out at t0 + 7d
        try store.delist(try KeySpec(parsing: "192.0.2.50"), reason: "wrong block", grace: day, now: t0 + 20 * day, actor: "op")
        #expect(try store.prune(retention: 30 * day, now: t0 + 20 * day, actor: "op") == 0)
        #expect(try store.prune(retention: 1 * day, now: t0 + 6 * day, actor: "op") == 0, "never less than 7 days")
        #expect(try store.prune(retention: 30 * day, now: t0 + 37 * day + 1, actor: "op") == 1, "only the expired one is old enough")
        #expect(try store.listings(key: "192.0.2.51").isEmpty)
        #expect(throws: StoreError.self) {
            try store.restore(try KeySpec(parsing: "192.0.2.51"), retention: 30 * day, now: t0 + 38 * day, actor: "op")
        }
        try store.restore(try KeySpec(parsing: "192.0.2.50"), retention: 30 * day, now: t0 + 38 * day, actor: "op")
        #expect(try published(at: t0 + 38 * day).contains("192.0.2.50"))
        try store.delist(try KeySpec(parsing: "192.0.2.50"), reason: "again", grace: day, now: t0 + 40 * day, actor: "op")
        #expect(try store.prune(retention: 30 * day, now: t0 + 71 * day, actor: "op") == 1)
        #expect(try store.listings(key: "192.0.2.50").isEmpty)
        #expect(try store.auditLog().contains { $0.action == "prune" })
    }
}
