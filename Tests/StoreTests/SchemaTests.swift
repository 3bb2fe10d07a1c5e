import Foundation
import GRDB
import ListingKeys
@testable import Store
import Testing

/// Migrations keep what a store holds, and the queries that must not scan the listings use the
/// indexes made for them.
@Suite struct SchemaTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-schema-\(UUID().uuidString).db").path

    /// A store written by the version before v11 (listings with the old CHECK and indexes)
    /// opens with every row as it was, and the CHECK still refuses a state that is none.
    @Test func listingsSurviveTheirTableBeingMadeAgain() throws {
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator().migrate(queue, upTo: "v10: an index of the keys written as ranges")
            try queue.write { db in
                for (key, state, expires) in [("192.0.2.1", "published", 1_900_000_000), ("192.0.2.0-192.0.2.9", "expired", 1_800_000_000)] {
                    try db.execute(
                        sql: "INSERT INTO listing (key, category, state, firstSeen, lastSeen, expiresAt, reportCount, reason) VALUES (?, 'spam', ?, 1, 2, ?, 3, 'r')",
                        arguments: [key, state, expires])
                }
            }
        }
        let store = try ListingStore(path: path)
        let row = try #require(try store.listings(key: "192.0.2.1").first)
        #expect(row == .init(key: "192.0.2.1", category: "spam", state: "published", firstSeen: 1, lastSeen: 2, expiresAt: 1_900_000_000, reportCount: 3, reason: "r"))
        #expect(try store.listings(key: "192.0.2.0-192.0.2.9").first?.state == "expired")
        #expect(try store.covering(try KeySpec(parsing: "192.0.2.5").key).map(\.key) == ["192.0.2.0-192.0.2.9"])
        #expect(throws: DatabaseError.self) {
            try store.pool.write { db in
                try db.execute(sql: "INSERT INTO listing (key, category, state, firstSeen, lastSeen, reportCount) VALUES ('x.example', 'spam', 'gone', 1, 1, 1)")
            }
        }
    }

    @Test(arguments: [
        ("SELECT * FROM listing WHERE instr(key, '-') > 0 AND key GLOB '*[0-9]-[0-9]*'", "listing_ranges"),
        ("SELECT key FROM listing WHERE state = 'published' AND expiresAt IS NOT NULL AND expiresAt <= 5", "listing_published_expiry"),
        ("SELECT min(expiresAt) FROM listing WHERE state = 'published' AND expiresAt > 5", "listing_published_expiry"),
        ("SELECT key, category FROM listing WHERE state = 'expired' AND expiresAt IS NOT NULL AND expiresAt < 5", "listing_expired"),
    ])
    func queriesUseTheirIndex(_ sql: String, _ index: String) throws {
        let store = try ListingStore(path: path)
        let detail = try store.pool.read { db in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: "; ") }
        #expect(detail.contains("INDEX \(index)"), "\(detail)")
    }
}
