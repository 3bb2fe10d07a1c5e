import DNSWire
import Foundation
import Ingestion
import ListingKeys
import Listings
import Publishing
import Responder
import Store
import TestSupport
import Testing

/// The server lays changes over its last full build instead of recompiling every listing.
/// Whatever happens to the store, the answers must be exactly those of a full build at the
/// same instant: checked here after every step of a random timeline, through the responder.
@Suite struct IncrementalTests {
    let store: ListingStore
    let t0 = 1_800_000_000

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-incr-\(UUID().uuidString)/t.db").path
        store = try ListingStore(path: path)
        for (n, k) in [("isp", SourceKind.isp), ("agency", .agency), ("a", .public), ("b", .public), ("c", .public)] {
            _ = try store.addSource(name: n, kind: k, ttl: nil, now: t0, actor: "test")
        }
    }

    /// A random key in a small space, so keys overlap, nest and repeat.
    static func randomKey(_ rng: inout SeededRandom) -> String {
        let bang = Int.random(in: 0..<8, using: &rng) == 0 ? "!" : ""
        switch Int.random(in: 0..<10, using: &rng) {
        case 0..<5:
            let bits = [16, 20, 24, 24, 26, 28, 30, 32, 32, 32].randomElement(using: &rng)!
            let a = (0x0A00_0000 | UInt32.random(in: 0...0xFFFF, using: &rng)) & (bits == 0 ? 0 : UInt32.max << (32 - bits))
            let text = "\(a >> 24).\(a >> 16 & 255).\(a >> 8 & 255).\(a & 255)"
            return bang + (bits == 32 ? text : "\(text)/\(bits)")
        case 5:
            let a = 0x0A00_0000 | UInt32.random(in: 0...0xFFFF, using: &rng)
            let b = a + UInt32.random(in: 1...700, using: &rng)
            return "\(bang)\(a >> 24).\(a >> 16 & 255).\(a >> 8 & 255).\(a & 255)-\(b >> 24).\(b >> 16 & 255).\(b >> 8 & 255).\(b & 255)"
        case 6:
            let bits = [32, 48, 56, 64, 128].randomElement(using: &rng)!
            let hi = UInt128(0x2001_0DB8) << 96 | UInt128(UInt16.random(in: 0...3, using: &rng)) << 80 | UInt128(UInt8.random(in: 0...3, using: &rng)) << 64
            let a = hi | (bits == 128 ? UInt128(UInt8.random(in: 1...5, using: &rng)) : 0)
            let masked = a & (UInt128.max << (128 - bits))
            return bang + ListingKey.ipv6(address: masked, prefixLength: bits).description
        case 7, 8:
            let name = ["a", "b", "mx"].randomElement(using: &rng)! + "." + ["x", "y"].randomElement(using: &rng)! + ".example"
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: return bang + "*." + name
            case 1: return bang + "*." + String(name.split(separator: ".", maxSplits: 1)[1])
            default: return bang + name
            }
        default:
            return "user\(Int.random(in: 0..<4, using: &rng))@spam.example"
        }
    }

    /// Names to ask about a key: both sides of its edges, something inside, the names around it.
    static func queries(_ key: String) -> [String] {
        guard let spec = try? KeySpec(parsing: key) else { return [] }
        switch spec.key {
        case .ipv4(let f, let l):
            return [f &- 1, f, f &+ 1, l &- 1, l, l &+ 1, f / 2 + l / 2].map {
                "\($0 & 255).\($0 >> 8 & 255).\($0 >> 16 & 255).\($0 >> 24).bl.ninhthuan.gov.vn"
            }
        case .ipv6(let a, let n):
            let last = n == 0 ? UInt128.max : a | (UInt128.max >> n)
            return [a &- 1, a, last, last &+ 1].map { v in
                (0..<32).map { String((v >> (4 * UInt128($0))) & 15, radix: 16) }.joined(separator: ".") + ".bl.ninhthuan.gov.vn"
            }
        case .domain(let name, _):
            return [name, "q." + name, "q.r." + name].map { $0 + ".dbl.ninhthuan.gov.vn" }
        case .email(let address):
            return [ListingKey.hashedLabel(email: address) + "._email.hbl.ninhthuan.gov.vn"]
        }
    }

    func answer(_ name: String, _ type: UInt16, _ snapshot: ServingSnapshot) -> (listed: Bool, a: [String], txt: [String]) {
        var q: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        q += try! DomainName.wire(fromText: name)
        q += [UInt8(type >> 8), UInt8(type & 255), 0, 1]
        var buffer = [UInt8](repeating: 0, count: 65535)
        buffer.replaceSubrange(0..<q.count, with: q)
        let s = buffer.withUnsafeMutableBytes {
            Responder().respond(packet: $0, length: q.count, overTCP: true, client: .v4(0x7F00_0001), snapshot: snapshot)
        }
        let d = Decoded(Array(buffer[0..<s.length]))!
        return (!d.aSet.isEmpty || !d.txtSet.isEmpty, d.aSet, d.txtSet)
    }

    static func listings(_ zone: Zone) -> ZoneDataset { zone.subzones[0].datasets[0] }

    static func exported(_ ds: ZoneDataset) -> Set<ZoneExport.Record> {
        var out = Set<ZoneExport.Record>()
        ZoneExport.records(ds) { out.insert($0) }
        return out
    }

    func ingest(_ lines: [String], _ source: String, at t: Int) throws {
        _ = try FeedIngestor(store: store).ingest(
            text: lines.joined(separator: "\n") + "\n", source: source, format: .plain,
            category: [Category.spam, .fraud, .malware][lines.count % 3], ttl: nil, now: t)
    }

    @Test func deltasAnswerExactlyLikeAFullBuild() throws {
        var rng = SeededRandom(seed: 2026)
        var keys: [String] = []
        for _ in 0..<300 { keys.append(Self.randomKey(&rng)) }
        try ingest(keys, "agency", at: t0)
        try ingest((0..<100).map { _ in Self.randomKey(&rng) }, "isp", at: t0)
        let source = StoreSnapshotSource(store: store, rebuildAfter: 1_000_000)
        var served = try source.initialSnapshot(now: t0).snapshot
        var t = t0
        var compared = 0
        var diffs = 0
        for step in 0..<40 {
            t += Int.random(in: 600...(36 * 3600), using: &rng)
            var touched: [String] = []
            switch step % 5 {
            case 0, 1:
                let fresh = (0..<Int.random(in: 1...12, using: &rng)).map { _ in Self.randomKey(&rng) }
                try ingest(fresh, ["isp", "agency", "a", "b", "c"].randomElement(using: &rng)!, at: t)
                touched = fresh
                keys += fresh
            case 2:
                let k = keys.randomElement(using: &rng)!
                if let spec = try? KeySpec(parsing: k) { _ = try? store.delist(spec, reason: "test", grace: 86400, now: t, actor: "t") }
                touched = [k]
            case 3:
                let k = keys.randomElement(using: &rng)!
                if let spec = try? KeySpec(parsing: k) { _ = try? store.restore(spec, retention: 30 * 86400, now: t, actor: "t") }
                touched = [k]
            default:
                _ = try store.expire(now: t, actor: "t")  // time passes; the isp's reports run out
            }
            let previous = served
            let fresh = try source.refreshedSnapshot(now: t, force: false).snapshot
            if let fresh { served = fresh }
            let full = try StoreSnapshotSource(store: store).initialSnapshot(now: t).snapshot
            // The exported records (AXFR) depend on the answers only, and the difference of two
            // snapshots (IXFR) turns the old records into the new ones.
            for zone in served.zones {
                let ours = Self.listings(zone)
                let whole = Self.listings(try #require(full.zones.first { $0.originText == zone.originText }))
                #expect(Self.exported(ours) == Self.exported(whole), "step \(step) \(zone.originText): export of the delta differs")
                guard fresh != nil, let keys = source.changedKeys else { continue }
                let before = Self.listings(try #require(previous.zones.first { $0.originText == zone.originText }))
                let diff = ZoneExport.changes(from: before, to: ours, keys: keys)
                let applied = Self.exported(before).subtracting(diff.deleted).union(diff.added)
                #expect(applied == Self.exported(ours), "step \(step) \(zone.originText): the difference does not lead to the new records")
                #expect(Self.exported(before).isSuperset(of: diff.deleted) && Self.exported(ours).isSuperset(of: diff.added))
                diffs += 1
            }
            let asked = Set((touched + (0..<30).map { _ in keys.randomElement(using: &rng)! }).flatMap(Self.queries))
            for name in asked {
                for type: UInt16 in [1, 16] {
                    let ours = answer(name, type, served)
                    let want = answer(name, type, full)
                    #expect(ours.listed == want.listed && ours.a == want.a && ours.txt == want.txt, "step \(step) \(name) type \(type): delta \(ours) full \(want)")
                    compared += 1
                }
            }
        }
        #expect(source.incrementalUpdates > 10, "the deltas were exercised (\(source.incrementalUpdates))")
        #expect(diffs > 40)
        #expect(compared > 3000)
    }

    static func serial(_ s: ServingSnapshot, _ zone: String) -> UInt32? { s.zones.first { $0.originText == zone }?.soa.serial }

    @Test func serialsGrowAndSurviveARestart() throws {
        try ingest(["192.0.2.1"], "agency", at: t0)
        let source = StoreSnapshotSource(store: store)
        let start = try source.initialSnapshot(now: t0).snapshot
        let first = try #require(Self.serial(start, "bl.ninhthuan.gov.vn"))
        try ingest(["192.0.2.2"], "agency", at: t0 + 1)
        let next = try #require(try source.refreshedSnapshot(now: t0 + 1, force: false).snapshot)
        let second = try #require(Self.serial(next, "bl.ninhthuan.gov.vn"))
        #expect(second > first)
        // Only the zone that changed moves: the others are not re-announced to secondaries.
        #expect(Self.serial(next, "dbl.ninhthuan.gov.vn") == Self.serial(start, "dbl.ninhthuan.gov.vn"))
        #expect(Self.serial(next, "hbl.ninhthuan.gov.vn") == first)
        source.flushSerials()
        let history = try store.serialHistory()
        #expect(history.map(\.serial) == [first, second])
        #expect(history[1].journalPosition > history[0].journalPosition, "each serial says how far the journal went")
        // A restarted server, even with its clock behind, continues above the last serial.
        let restarted = StoreSnapshotSource(store: store)
        let third = try #require(Self.serial(try restarted.initialSnapshot(now: t0 - 3600).snapshot, "dbl.ninhthuan.gov.vn"))
        #expect(third > second)
    }
}
