import DNSWire
import Foundation
import ListingKeys
import Listings
import Logging
import Publishing
import Responder
import TestSupport
import Testing
import ZoneConfig

@testable import ZoneTransfer

/// TSIG, the transfer access rules and the IXFR/AXFR message sequences, without sockets
/// (the interoperability with dig, kdig, NSD and Knot is in IntegrationTests/SecondaryTests).
@Suite struct TransferTests {
    static let secret = Array("0123456789abcdef0123456789abcdef".utf8)
    static let key = TSIGKey(TSIGKeyConfig(name: "xfr", algorithm: "hmac-sha256", secret: secret))
    static let now: UInt64 = 1_800_000_000
    static let origin = try! DomainName.wire(fromText: "bl.test", lowercase: true)

    static func query(_ type: UInt16, id: UInt16 = 7, authoritySOA serial: UInt32? = nil) -> [UInt8] {
        var m = MessageBuilder(id: id, flags: 0)
        m.question(origin, type: type)
        if let serial {
            var soa = Self.soa
            soa.serial = serial
            m.record(relative: [], type: RRType.soa.rawValue, ttl: 0, rdata: TransferService.soaRData(soa), section: 8)
        }
        return m.bytes
    }

    static let soa = SOAData(
        ttl: 60, mname: try! DomainName.wire(fromText: "ns1.bl.test"), rname: try! DomainName.wire(fromText: "hostmaster.bl.test"),
        serial: 100, refresh: 3600, retry: 600, expire: 604_800, minimum: 300)

    static func zone(_ keys: [String], serial: UInt32) throws -> Zone {
        let entries = try keys.map { PublishedEntry(key: try KeySpec(parsing: $0), category: .spam, reason: nil, source: nil) }
        let ds = PublishedZones.dataset(ZoneDefinition(name: "bl.test", role: .addresses), entries: entries, ttl: 60)
        var soa = Self.soa
        soa.serial = serial
        return Zone(
            id: 0, origin: origin, originText: "bl.test", soa: soa, nameservers: [soa.mname], nsTTL: 60, glue: [],
            subzones: [Subzone(labels: [], labelCount: 0, datasets: [ds])], acl: nil)
    }

    static func service(allow: [String] = ["127.0.0.0/8"], key: String? = "xfr") throws -> TransferService {
        var c = ThuracConfig()
        c.zones = [ZoneDefinition(name: "bl.test", role: .addresses)]
        c.keys = ["xfr": TSIGKeyConfig(name: "xfr", algorithm: "hmac-sha256", secret: secret)]
        var t = TransferConfig()
        t.allow = try allow.map { try KeySpec(parsing: $0).key }
        t.key = key
        c.transfers["bl.test"] = t
        return TransferService(config: c, responder: ResponderOptions(), logger: Logger(label: "test"), clock: { Self.now })
    }

    /// The answer messages, and the records of each (type, owner text) decoded by libldns.
    static func ask(_ s: TransferService, _ message: [UInt8], from client: ClientAddress = .v4(0x7F00_0001), _ snapshot: ServingSnapshot)
        -> [[UInt8]]
    {
        var out: [[UInt8]] = []
        s.answerStream(message, client: client, snapshot: snapshot) { out.append($0); return true }
        return out
    }

    static func rcode(_ m: [UInt8]) -> Int { Int(m[3] & 15) }

    @Test func signaturesVerifyAndEveryFailureIsNamed() {
        var m = Self.query(252)
        let mac = TSIG.sign(&m, key: Self.key, prior: nil, time: Self.now)
        let keys = [Self.key.name: Self.key]
        guard case .valid(_, let t) = TSIG.verify(m, keys: keys, now: Self.now + 10) else { Issue.record("a good signature"); return }
        #expect(t.mac == mac && TSIG.unsigned(m, t) == Self.query(252))
        var flipped = m
        flipped[14] ^= 1
        guard case .failed(.badSig, _, _) = TSIG.verify(flipped, keys: keys, now: Self.now) else { Issue.record("a changed message"); return }
        guard case .failed(.badKey, _, _) = TSIG.verify(m, keys: [:], now: Self.now) else { Issue.record("an unknown key"); return }
        guard case .failed(.badTime, _, _) = TSIG.verify(m, keys: keys, now: Self.now + 301) else { Issue.record("outside the fudge"); return }
        guard case .unsigned = TSIG.verify(Self.query(252), keys: keys, now: Self.now) else { Issue.record("unsigned"); return }
        // An answer is signed over the request's MAC.
        var answer = Self.query(6)
        TSIG.sign(&answer, key: Self.key, prior: mac, time: Self.now)
        guard case .valid = TSIG.verify(answer, keys: keys, prior: mac, now: Self.now) else { Issue.record("the answer"); return }
        guard case .failed(.badSig, _, _) = TSIG.verify(answer, keys: keys, prior: [1, 2, 3], now: Self.now) else {
            Issue.record("an answer to another request")
            return
        }
    }

    @Test func onlyConfiguredAddressesWithTheKeyMayTransfer() throws {
        let snapshot = ServingSnapshot(zones: [try Self.zone(["192.0.2.0/24"], serial: 100)], globalACL: nil, generation: 1)
        let s = try Self.service()
        // No key: REFUSED.
        #expect(Self.ask(s, Self.query(252), snapshot).map(Self.rcode) == [5])
        // Signed, from an address outside allow_transfer: REFUSED, signed.
        var signed = Self.query(252)
        TSIG.sign(&signed, key: Self.key, prior: nil, time: Self.now)
        let outside = Self.ask(s, signed, from: .v4(0x0A00_0001), snapshot)
        #expect(outside.map(Self.rcode) == [5] && TSIG.find(outside[0]) != nil)
        // A bad signature: NOTAUTH with BADSIG, unsigned.
        var bad = signed
        bad[bad.count - 10] ^= 0xFF
        let notauth = Self.ask(s, bad, snapshot)
        #expect(notauth.map(Self.rcode) == [9] && TSIG.find(notauth[0])?.error == 16 && TSIG.find(notauth[0])?.mac == [])
        // A zone that is not ours: REFUSED; a name inside it: NOTAUTH.
        var elsewhere = MessageBuilder(id: 1, flags: 0)
        elsewhere.question(try DomainName.wire(fromText: "other.test"), type: 252)
        #expect(Self.ask(s, elsewhere.bytes, snapshot).map(Self.rcode) == [5])
        // Signed from an allowed address: the whole zone, SOA first and last, every message signed.
        let zone = Self.ask(s, signed, snapshot)
        #expect(zone.count >= 1 && zone.allSatisfy { Self.rcode($0) == 0 && TSIG.find($0) != nil })
        let signature = try #require(TSIG.find(zone[0]))
        let first = try #require(Decoded(TSIG.unsigned(zone[0], signature)))
        #expect(first.answers.first?.contains("\tSOA\t") == true && first.answers.last?.contains("\tSOA\t") == true)
        #expect(first.answers.contains { $0.hasPrefix("*.2.0.192.bl.test.\t60\tIN\tA\t127.0.0.2") })
        // A zone without transfer settings: nobody.
        #expect(Self.ask(try Self.service(allow: [], key: nil), Self.query(252), snapshot).map(Self.rcode) == [5])
    }

    @Test func ixfrSendsTheDifferencesOrTheWholeZone() throws {
        let s = try Self.service(key: nil)
        let v1 = ServingSnapshot(zones: [try Self.zone(["192.0.2.0/24"], serial: 100)], globalACL: nil, generation: 1)
        let v2 = ServingSnapshot(zones: [try Self.zone(["192.0.2.0/24", "!192.0.2.7", "198.51.100.1"], serial: 101)], globalACL: nil, generation: 2)
        let v3 = ServingSnapshot(zones: [try Self.zone(["198.51.100.1"], serial: 102)], globalACL: nil, generation: 3)
        s.published(old: v1, new: v2, changedKeys: [.ipv4(first: 0xC000_0207, last: 0xC000_0207), .ipv4(first: 0xC633_6401, last: 0xC633_6401)])
        s.published(old: v2, new: v3, changedKeys: [.ipv4(first: 0xC000_0200, last: 0xC000_02FF), .ipv4(first: 0xC000_0207, last: 0xC000_0207)])
        func answers(_ serial: UInt32) throws -> [String] {
            let messages = Self.ask(s, Self.query(251, authoritySOA: serial), v3)
            return try messages.flatMap { try #require(Decoded($0)).answers }
        }
        // Current: the SOA alone.
        #expect(try answers(102).count == 1)
        // From 100: SOA 102, then for each step SOA old, deletions, SOA new, additions, then SOA 102.
        let steps = try answers(100)
        let soas = steps.enumerated().filter { $0.element.contains("\tSOA\t") }.map { $0.offset }
        #expect(soas.count == 6 && soas.first == 0 && soas.last == steps.count - 1)
        let serials = soas.map { steps[$0].split(separator: " ")[2] }
        #expect(serials == ["102", "100", "101", "101", "102", "102"])
        #expect(steps.contains { $0.hasPrefix("1.100.51.198.bl.test.\t60\tIN\tA\t127.0.0.2") })
        // The exclusion cuts the /24's wildcard into names (deleted, then added), which go again
        // with the /24 in the second step; the excluded address itself has no name.
        #expect(steps.filter { $0.hasPrefix("*.2.0.192.bl.test.") }.count == 2)
        #expect(steps.filter { $0.hasPrefix("6.2.0.192.bl.test.\t60\tIN\tA\t") }.count == 2)
        #expect(!steps.contains { $0.hasPrefix("7.2.0.192.bl.test.") })
        // From 101: one step; from a serial the history does not have: the whole zone.
        #expect(try answers(101).filter { $0.contains("\tSOA\t") }.count == 4)
        let whole = try answers(99)
        #expect(whole.filter { $0.contains("\tSOA\t") }.count == 2 && whole.contains { $0.contains("\tNS\t") })
        // Unknown changes (a full rebuild) end the history.
        s.published(old: v3, new: ServingSnapshot(zones: [try Self.zone(["198.51.100.1"], serial: 103)], globalACL: nil, generation: 4), changedKeys: nil)
        #expect(s.history.steps("bl.test", from: 102, to: 103) == nil)
    }

    @Test func theHistoryIsBoundedAndContiguous() {
        let h = IXFRHistory(maxSteps: 3, maxRecords: 10)
        let r = ZoneExport.Record(owner: [1, 0x61], type: 1, rdata: [127, 0, 0, 2])
        for s in UInt32(1)...5 { h.append("z", .init(from: s, to: s + 1, deleted: [], added: [r])) }
        #expect(h.steps("z", from: 2, to: 6) == nil, "the oldest steps went")
        #expect(h.steps("z", from: 3, to: 6)?.count == 3)
        h.append("z", .init(from: 6, to: 7, deleted: Array(repeating: r, count: 9), added: []))
        #expect(h.steps("z", from: 5, to: 7)?.count == 2 && h.steps("z", from: 4, to: 7) == nil, "bounded by records")
        h.append("z", .init(from: 9, to: 10, deleted: [], added: []))
        #expect(h.steps("z", from: 6, to: 10) == nil && h.steps("z", from: 9, to: 10)?.count == 1, "a gap starts again")
    }
}
