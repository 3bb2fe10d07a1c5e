import Foundation
import Store
import Testing

/// Operator sessions with an injected clock: idle expiry counts from the last page seen (marked
/// at most once a minute), sign-out ends one, and a password change ends them all.
@Suite struct OperatorTests {
    let store: ListingStore
    let t0 = 1_800_000_000

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-ops-\(UUID().uuidString)/t.db").path
        store = try ListingStore(path: path)
        try store.addOperator(name: "alice", password: "correct horse battery", now: t0, actor: "t")
    }

    @Test func aSessionLivesWhileItIsUsed() throws {
        let id = try store.newOperatorSession(name: "alice", now: t0)
        #expect(try store.operatorSession(id, now: t0 + 30, idle: 1800) == "alice")
        #expect(try store.operatorSession(id, now: t0 + 1700, idle: 1800) == "alice", "seen: marked")
        #expect(try store.operatorSession(id, now: t0 + 3400, idle: 1800) == "alice", "1,700 s after the last mark")
        #expect(try store.operatorSession(id, now: t0 + 3420, idle: 1800) == "alice", "20 s later: no new mark needed")
        #expect(try store.operatorSession(id, now: t0 + 3400 + 1801, idle: 1800) == nil, "idle for longer than 30 minutes")
        #expect(try store.operatorSession(id, now: t0 + 3400 + 1802, idle: 1800) == nil, "and removed")
        #expect(try store.operatorSession(String(repeating: "0", count: 64), now: t0, idle: 1800) == nil)

        let second = try store.newOperatorSession(name: "alice", now: t0)
        try store.endOperatorSession(second, now: t0 + 10)
        #expect(try store.operatorSession(second, now: t0 + 11, idle: 1800) == nil, "signed out")
        let third = try store.newOperatorSession(name: "alice", now: t0)
        try store.setOperatorPassword(name: "alice", password: "another long passphrase", now: t0 + 5, actor: "t")
        #expect(try store.operatorSession(third, now: t0 + 6, idle: 1800) == nil, "a new password ends the sessions")
    }
}
