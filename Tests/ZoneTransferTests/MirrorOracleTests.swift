import DNSWire
import Foundation
import Ingestion
import ListingKeys
import Listings
import Logging
import Publishing
import Responder
import Store
import TestSupport
import Testing
import ZoneConfig

@testable import ZoneTransfer

/// What a secondary serves is the AXFR of each zone, nothing else. Loaded from the shipped
/// configuration and skeletons (apex records, in-zone glue), with random listings of every
/// kind in the store, the records of each AXFR are served here by the rules every standard
/// authoritative server follows (RFC 1034 §4.3.2, RFC 4592 wildcards) and asked the same
/// questions as thurac's responder: the same listed/not-listed answer and A records for every
/// listing name, the names rbldnsd would answer from IPv4 data (IPv4-mapped, 6to4), the test
/// points of every zone kind, the `_email` label, empty non-terminals, the apex and the glue.
@Suite struct MirrorOracleTests {
    /// A record as libldns prints it: owner (absolute, lower case), type, RDATA text.
    struct RR: Hashable {
        var owner: String
        var type: String
        var rdata: String
    }

    /// A standard server's view of one zone's records.
    struct StandardServer {
        let origin: String
        var records: [String: [RR]] = [:]
        var existing: Set<String> = []

        init(origin: String, records rrs: [RR]) {
            self.origin = origin
            for r in rrs {
                records[r.owner, default: []].append(r)
                var name = r.owner
                while name.count >= origin.count {
                    existing.insert(name)
                    if name == origin { break }
                    name = Self.parent(name)
                }
            }
        }

        static func parent(_ name: String) -> String {
            name.firstIndex(of: ".").map { String(name[name.index(after: $0)...]) } ?? ""
        }

        /// (NXDOMAIN, the RDATA of `type` answered for `name`).
        func answer(_ name: String, type: String) -> (nxdomain: Bool, rdata: [String]) {
            func of(_ owner: String) -> [String] { (records[owner] ?? []).filter { $0.type == type }.map(\.rdata).sorted() }
            if existing.contains(name) { return (false, of(name)) }
            var encloser = Self.parent(name)
            while !existing.contains(encloser) { encloser = Self.parent(encloser) }
            let wildcard = "*." + encloser
            return existing.contains(wildcard) ? (false, of(wildcard)) : (true, [])
        }
    }

    static let zonesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Zones")
    let t0 = 1_800_000_000

    /// thurac's answer through the responder, decoded by libldns.
    static func ask(_ name: String, _ type: UInt16, _ snapshot: ServingSnapshot) throws -> Decoded {
        var q: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        q += try DomainName.wire(fromText: name)
        q += [UInt8(type >> 8), UInt8(type & 255), 0, 1]
        var buffer = [UInt8](repeating: 0, count: 65535)
        buffer.replaceSubrange(0..<q.count, with: q)
        let s = buffer.withUnsafeMutableBytes {
            Responder().respond(packet: $0, length: q.count, overTCP: true, client: .v4(0x7F00_0001), snapshot: snapshot)
        }
        return try #require(Decoded(Array(buffer[0..<s.length])))
    }

    static func rdata(_ d: Decoded, type: String) -> [String] {
        d.answers.map { $0.split(separator: "\t", maxSplits: 4).map(String.init) }.filter { $0.count == 5 && $0[3] == type }
            .map { $0[4] }.sorted()
    }

    /// Every record of the zone, as an AXFR from 127.0.0.1 receives it.
    static func transfer(_ origin: String, _ service: TransferService, _ snapshot: ServingSnapshot) throws -> [RR] {
        var m = MessageBuilder(id: 1, flags: 0)
        m.question(try DomainName.wire(fromText: origin, lowercase: true), type: RRType.axfr.rawValue)
        var messages: [[UInt8]] = []
        service.answerStream(m.bytes, client: .v4(0x7F00_0001), snapshot: snapshot) { messages.append($0); return true }
        var out: [RR] = []
        for message in messages {
            let d = try #require(Decoded(message))
            #expect(d.rcode == 0, "AXFR of \(origin): rcode \(d.rcode)")
            for line in d.answers {
                let f = line.split(separator: "\t", maxSplits: 4).map(String.init)
                out.append(RR(owner: f[0].lowercased(), type: f[3], rdata: f.count > 4 ? f[4] : ""))
            }
        }
        #expect(out.first?.type == "SOA" && out.last?.type == "SOA")
        return Array(out.dropLast())
    }

    @Test(arguments: [21, 22, 23] as [UInt64])
    func secondariesAnswerEveryNameLikeThurac(_ seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        var config = try ThuracConfig.load(path: Self.zonesDirectory.appendingPathComponent("thurac.toml").path)
        var open = TransferConfig()
        open.allow = [.ipv4(first: 0x7F00_0000, last: 0x7FFF_FFFF)]
        for z in config.zones { config.transfers[z.name] = open }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-oracle-\(UUID().uuidString)/t.db").path
        let store = try ListingStore(path: path)
        _ = try store.addSource(name: "agency", kind: .agency, ttl: nil, now: t0, actor: "test")

        // Listings: IPv4 CIDRs of every length, ranges and exclusions where single-digit labels
        // are both octets and nibbles; IPv6 prefixes; domains with subtrees; e-mail addresses.
        func v4() -> UInt32 {
            UInt32.random(in: 1...9, using: &rng) << 24 | UInt32.random(in: 0...9, using: &rng) << 16
                | UInt32.random(in: 0...12, using: &rng) << 8 | UInt32.random(in: 0...255, using: &rng)
        }
        var keys: [String] = []
        var samples4: [UInt32] = [0x7F00_0001, 0x7F00_0002, 0x7F00_0003]
        for _ in 0..<40 {
            let bits = [8, 12, 16, 20, 23, 24, 28, 31, 32].randomElement(using: &rng)!
            let a = v4() & (UInt32.max << (32 - bits))
            let last = a | ~(UInt32.max << (32 - bits))
            let bang = Int.random(in: 0..<5, using: &rng) == 0 ? "!" : ""
            if Int.random(in: 0..<6, using: &rng) == 0 {
                let end = a &+ UInt32.random(in: 1...2000, using: &rng)
                keys.append(bang + AddressText.ipv4(a) + "-" + AddressText.ipv4(end))
                samples4 += [a &- 1, a, end, end &+ 1]
            } else {
                keys.append(bang + AddressText.ipv4(a) + (bits == 32 ? "" : "/\(bits)"))
                samples4 += [a &- 1, a, last, last &+ 1]
            }
        }
        var samples6: [UInt128] = [UInt128(0xFFFF_7F00_0001), UInt128(0xFFFF_7F00_0002)]
        for _ in 0..<12 {
            let bits = [16, 32, 48, 64, 124, 128].randomElement(using: &rng)!
            let a = (UInt128(0x2001_0DB8) << 96 | UInt128(UInt32.random(in: 0...0xFF, using: &rng)) << 64
                | UInt128(UInt8.random(in: 0...3, using: &rng))) & (UInt128.max << (128 - bits))
            keys.append(ListingKey.ipv6(address: a, prefixLength: bits).description)
            samples6 += [a &- 1, a, a | (UInt128.max >> bits), (a | (UInt128.max >> bits)) &+ 1]
        }
        // A listed IPv6 prefix inside the mapped space: answered from the IPv6 data like any other.
        keys.append("::ffff:198.51.100.0/120")
        samples6 += [UInt128(0xFFFF_C633_6400), UInt128(0xFFFF_C633_64FF), UInt128(0xFFFF_C633_6500)]
        let labels = ["a", "b", "mx"]
        var names: [String] = ["test", "invalid", "ns1", "x.ns1", "nope"]
        for _ in 0..<15 {
            let depth = Int.random(in: 1...3, using: &rng)
            let name = (0..<depth).map { _ in labels.randomElement(using: &rng)! }.joined(separator: ".") + ".example"
            let bang = Int.random(in: 0..<5, using: &rng) == 0 ? "!" : ""
            keys.append(bang + (Bool.random(using: &rng) ? "*." : "") + name)
            names += [name, "q." + name, "q.r." + name, String(name.split(separator: ".", maxSplits: 1)[1])]
        }
        let emails = (0..<5).map { "user\($0)@spam.example" }
        keys += emails + ["203.0.113.7"]
        _ = try FeedIngestor(store: store).ingest(
            text: keys.joined(separator: "\n") + "\n", source: "agency", format: .plain, category: .spam, ttl: nil, now: t0)
        _ = try FeedIngestor(store: store).ingest(
            text: keys.filter { !$0.hasPrefix("!") }.prefix(20).joined(separator: "\n") + "\n", source: "agency", format: .plain,
            category: .malware, ttl: nil, now: t0)

        let source = StoreSnapshotSource(store: store, zones: config.zones, ttl: config.ttl, negativeTTL: config.negativeTTL)
        let snapshot = try source.initialSnapshot(now: t0).snapshot
        let service = TransferService(config: config, responder: ResponderOptions(), logger: Logger(label: "test"), clock: { 1_800_000_000 })
        var servers: [String: StandardServer] = [:]
        for z in config.zones {
            let origin = z.name.lowercased() + "."
            servers[z.name] = StandardServer(origin: origin, records: try Self.transfer(z.name, service, snapshot))
        }

        // The questions, per zone: (relative name, checked types).
        func nibbles(_ a: UInt128, labels n: Int = 32) -> String {
            (32 - n..<32).map { String((a >> (4 * UInt128($0))) & 15, radix: 16) }.joined(separator: ".")
        }
        // A well-formed query (a key of the zone's kind, the apex, a static name) must get the
        // same A records; any other name (above a key: ENTs, or below one) must exist on the
        // mirror when thurac says it exists (RFC 8020), though a mirror's wildcard may answer
        // it with data where thurac, which knows it is not a key, says NODATA.
        var questions: [(zone: String, name: String, key: Bool)] = []
        let bl = "bl.ninhthuan.gov.vn"
        for a in samples4 + (0..<300).map({ _ in v4() }) {
            let reversed = "\(a & 255).\(a >> 8 & 255).\(a >> 16 & 255).\(a >> 24)"
            let mapped = UInt128(0xFFFF) << 32 | UInt128(a)
            let sixToFour = UInt128(0x2002) << 112 | UInt128(a) << 80 | UInt128(UInt16.random(in: 0...3, using: &rng))
            questions += [(bl, reversed, true), (bl, nibbles(mapped), true), (bl, nibbles(sixToFour), true), (bl, "x." + reversed, false)]
            for n in [1, 2, 3] { questions.append((bl, reversed.split(separator: ".").suffix(n).joined(separator: "."), false)) }
            for n in [4, 8, 20, 24, 25, 28, 31] {
                questions += [(bl, nibbles(mapped, labels: n), false), (bl, nibbles(sixToFour, labels: n), false)]
            }
        }
        for a in samples6 {
            questions.append((bl, nibbles(a), true))
            for n in [1, 4, 8, 16, 24, 31] { questions.append((bl, nibbles(a, labels: n), false)) }
        }
        for zone in config.zones.map(\.name) {
            questions += ["", "ns1", "test", "invalid", "2.0.0.127", "1.0.0.127"].map { (zone, $0, true) }
            questions += ["x.ns1", "_email", "x._email", "*"].map { (zone, $0, false) }
        }
        questions += names.map { ("dbl.ninhthuan.gov.vn", $0, true) }
        questions += emails.flatMap { e in
            let label = ListingKey.hashedLabel(email: e)
            return [("hbl.ninhthuan.gov.vn", label + "._email", true), ("hbl.ninhthuan.gov.vn", "x." + label + "._email", false)]
        }

        var asked = 0
        var listed = 0
        var notListedAlike = 0
        var mismatches: [String] = []
        for (zone, relative, isKey) in questions {
            let server = try #require(servers[zone])
            let name = relative.isEmpty ? zone + "." : relative + "." + zone + "."
            // Listing names: A decides. The apex and static names: every type they may hold.
            let types: [(UInt16, String)] =
                relative.isEmpty || relative == "ns1"
                ? [(1, "A"), (2, "NS"), (6, "SOA"), (16, "TXT"), (28, "AAAA")] : [(1, "A")]
            for (code, type) in types {
                let ours = try Self.ask(name, code, snapshot)
                let theirs = server.answer(name.lowercased(), type: type)
                asked += 1
                let ourData = Self.rdata(ours, type: type)
                if isKey && ourData != theirs.rdata {
                    mismatches.append("\(name) \(type): thurac \(ourData) rcode \(ours.rcode), mirror \(theirs.rdata)\(theirs.nxdomain ? " NXDOMAIN" : "")")
                } else if ours.rcode == 0 && theirs.nxdomain {
                    // RFC 8020: a name thurac says exists must not be NXDOMAIN on a mirror.
                    mismatches.append("\(name) \(type): thurac NOERROR, mirror NXDOMAIN")
                } else if ours.rcode != 0 && ours.rcode != 3 {
                    mismatches.append("\(name) \(type): thurac rcode \(ours.rcode)")
                }
                if !ourData.isEmpty && code == 1 { listed += 1 }
                if ourData.isEmpty && ours.rcode == 3 && !theirs.nxdomain { notListedAlike += 1 }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(asked): \(mismatches.prefix(12).joined(separator: "\n"))\nkeys: \(keys)")
        print("mirror oracle seed \(seed): \(asked) answers compared, \(listed) listed, \(notListedAlike) NXDOMAIN on thurac and NODATA on the mirror")
        #expect(asked > 8000 && listed > 150, "asked \(asked), listed \(listed)")

        // The test points, on thurac and so on every mirror.
        let points: [(String, Bool)] = [
            ("2.0.0.127." + bl, true), ("1.0.0.127." + bl, false),
            (nibbles(UInt128(0xFFFF_7F00_0002)) + "." + bl, true), (nibbles(UInt128(0xFFFF_7F00_0001)) + "." + bl, false),
            ("test.dbl.ninhthuan.gov.vn", true), ("invalid.dbl.ninhthuan.gov.vn", false),
            ("test.hbl.ninhthuan.gov.vn", true), ("invalid.hbl.ninhthuan.gov.vn", false),
            ("2.0.0.127.wl.ninhthuan.gov.vn", true), ("1.0.0.127.wl.ninhthuan.gov.vn", false),
            (nibbles(UInt128(0xFFFF_7F00_0002)) + ".wl.ninhthuan.gov.vn", true),
        ]
        for (name, isListed) in points {
            let d = try Self.ask(name, 1, snapshot)
            #expect(Self.rdata(d, type: "A") == (isListed ? ["127.0.0.2"] : []), "\(name)")
            #expect(d.rcode == (isListed ? 0 : 3), "\(name)")
        }
        // A listed IPv4 address: its IPv4-mapped and 6to4 names are not answered from the IPv4
        // data by the store's zones (docs/zone-export.md), on thurac as on the mirrors.
        #expect(try Self.ask("7.113.0.203." + bl, 1, snapshot).aSet == ["127.0.0.2"])
        for v6 in [UInt128(0xFFFF_CB00_7107), UInt128(0x2002_CB00_7107) << 80] {
            let d = try Self.ask(nibbles(v6) + "." + bl, 1, snapshot)
            #expect(d.rcode == 3 && d.aSet.isEmpty, "\(AddressText.ipv6(v6))")
        }
    }
}
