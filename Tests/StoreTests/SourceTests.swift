import Foundation
import GRDB
import ListingKeys
import Store
import Testing

@Suite struct SourceTests {
    let store: ListingStore

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-store-\(UUID().uuidString)/t.db").path
        store = try ListingStore(path: path)
    }

    @Test func addListRotateRemove() throws {
        let token = try store.addSource(name: "vnpt", kind: .isp, ttl: nil, now: 1000, actor: "operator")
        #expect(token.hasPrefix("thr_") && token.count == 68)
        _ = try store.addSource(name: "mic-agency", kind: .agency, ttl: 14 * 86400, now: 1001, actor: "operator")
        let list = try store.sources()
        #expect(list.map(\.name) == ["mic-agency", "vnpt"])
        #expect(list[0].effectiveTTL == 14 * 86400)
        #expect(list[1].effectiveTTL == 7 * 86400)
        #expect(try store.authenticate(token: token)?.name == "vnpt")
        #expect(try store.authenticate(token: "thr_wrong") == nil)

        let rotated = try store.rotateToken(name: "vnpt", now: 1002, actor: "operator")
        #expect(try store.authenticate(token: token) == nil, "the old token stops working")
        #expect(try store.authenticate(token: rotated)?.name == "vnpt")

        try store.removeSource(name: "vnpt", now: 1003, actor: "operator")
        #expect(try store.authenticate(token: rotated) == nil)
        #expect(try store.sources().map(\.name) == ["mic-agency"])
        #expect(try store.sources(includingRemoved: true).count == 2)
        #expect(try store.auditLog().map(\.action) == ["source.add", "source.add", "source.token", "source.remove"])
    }

    @Test func badInputChangesNothing() throws {
        _ = try store.addSource(name: "viettel", kind: .isp, ttl: nil, now: 1, actor: "operator")
        #expect(throws: StoreError("source 'viettel' exists already")) {
            try store.addSource(name: "viettel", kind: .agency, ttl: nil, now: 2, actor: "operator")
        }
        #expect(throws: StoreError.self) { try store.addSource(name: "bad name", kind: .isp, ttl: nil, now: 2, actor: "x") }
        #expect(throws: StoreError("no source named 'nobody'")) { try store.rotateToken(name: "nobody", now: 3, actor: "x") }
        #expect(try store.sources().count == 1)
        #expect(try store.auditLog().count == 1)
    }

    @Test func auditLogIsAppendOnly() throws {
        _ = try store.addSource(name: "fpt", kind: .isp, ttl: nil, now: 1, actor: "operator")
        #expect(throws: (any Error).self) {
            try store.pool.write { db in try db.execute(sql: "DELETE FROM audit") }
        }
        #expect(throws: (any Error).self) {
            try store.pool.write { db in try db.execute(sql: "UPDATE audit SET actor = 'someone else'") }
        }
        #expect(try store.auditLog().first?.actor == "operator")
    }

    @Test func reopeningKeepsDataAndSchemaVersion() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-store-\(UUID().uuidString)/r.db").path
        do {
            let s = try ListingStore(path: path)
            _ = try s.addSource(name: "cmc", kind: .public, ttl: nil, now: 5, actor: "operator")
        }
        let again = try ListingStore(path: path)
        #expect(try again.sources().first?.kind == .public)
    }
}
