import DNSWire
import ListingKeys
import Listings
import Publishing
import TestSupport
import Testing

/// The exported records, served by the rules every standard authoritative server follows
/// (RFC 1034 §4.3.2, RFC 4592 wildcards), must list exactly what thurac lists, with the same A
/// records: checked for every address of small random address spaces and every name of a small
/// random name space, against thurac's own lookup as the oracle.
@Suite struct ZoneExportTests {
    /// A standard server's view of a set of records: exact names, empty non-terminals, and
    /// wildcards that apply below the closest encloser only.
    struct StandardServer {
        var records: [String: [ZoneExport.Record]] = [:]
        var existing: Set<String> = [""]

        init(_ dataset: ZoneDataset) {
            ZoneExport.records(dataset) { r in
                records[r.ownerText, default: []].append(r)
                var name = r.ownerText
                while !name.isEmpty {
                    existing.insert(name)
                    name = Self.parent(name)
                }
            }
        }

        static func parent(_ name: String) -> String {
            name.firstIndex(of: ".").map { String(name[name.index(after: $0)...]) } ?? ""
        }

        /// The A records answered for `name` (relative), nil for NXDOMAIN.
        func a(_ name: String) -> [UInt32]? {
            func addresses(_ owner: String) -> [UInt32] {
                (records[owner] ?? []).filter { $0.type == 1 }.map { r in r.rdata.reduce(0) { $0 << 8 | UInt32($1) } }.sorted()
            }
            if existing.contains(name) { return addresses(name) }
            var encloser = Self.parent(name)
            while !existing.contains(encloser) { encloser = Self.parent(encloser) }
            let wildcard = encloser.isEmpty ? "*" : "*." + encloser
            return existing.contains(wildcard) ? addresses(wildcard) : nil
        }
    }

    func listed(_ table: ValueTable, _ ref: ValueRef) -> [UInt32] {
        var out: [UInt32] = []
        table.forEachValue(ref) { out.append(table.addresses[$0]) }
        return out.sorted()
    }

    func entries(_ keys: [String], _ rng: inout SeededRandom) throws -> [PublishedEntry] {
        try keys.map { k in
            PublishedEntry(
                key: try KeySpec(parsing: k), category: [Category.spam, .fraud, .malware].randomElement(using: &rng)!,
                reason: nil, source: nil)
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func everyIPv4AddressAnswersAlike(_ seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        var keys: [String] = []
        for _ in 0..<40 {
            let a = UInt32(0x0A00_0000) | UInt32.random(in: 0...0xFFFF, using: &rng)
            let text = { (x: UInt32) in "\(x >> 24).\(x >> 16 & 255).\(x >> 8 & 255).\(x & 255)" }
            let bang = Int.random(in: 0..<5, using: &rng) == 0 ? "!" : ""
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                let bits = [16, 17, 20, 23, 24, 25, 27, 30, 32].randomElement(using: &rng)!
                keys.append(bang + text(a & (UInt32.max << (32 - bits))) + "/\(bits)")
            case 1:
                keys.append(bang + text(a) + "-" + text(min(0x0A00_FFFF, a + UInt32.random(in: 0...3000, using: &rng))))
            default:
                keys.append(bang + text(a))
            }
        }
        let ds = PublishedZones.dataset(ZoneDefinition(name: "bl.test", role: .addresses), entries: try entries(keys, &rng), ttl: 60)
        let server = StandardServer(ds)
        var listedCount = 0
        for a in UInt32(0x09FF_FF00)...UInt32(0x0A01_00FF) {
            let want = ds.ipv4.lookup(a).isListed ? listed(ds.ipValues, ds.ipv4.lookup(a)) : []
            let got = server.a("\(a & 255).\(a >> 8 & 255).\(a >> 16 & 255).\(a >> 24)") ?? []
            if want != got {
                Issue.record("\(a >> 24).\(a >> 16 & 255).\(a >> 8 & 255).\(a & 255): thurac \(want), export \(got) (keys \(keys))")
                return
            }
            if !want.isEmpty { listedCount += 1 }
        }
        #expect(listedCount > 1000)
    }

    @Test(arguments: [5, 6] as [UInt64])
    func everyIPv6AddressAnswersAlike(_ seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let base = UInt128(0x2001_0DB8) << 96
        var keys: [String] = []
        for _ in 0..<30 {
            let bits = [116, 117, 120, 122, 124, 125, 127, 128].randomElement(using: &rng)!
            let a = (base | UInt128(UInt16.random(in: 0...0xFFF, using: &rng))) & (UInt128.max << (128 - bits))
            let bang = Int.random(in: 0..<5, using: &rng) == 0 ? "!" : ""
            keys.append(bang + ListingKey.ipv6(address: a, prefixLength: bits).description)
        }
        let ds = PublishedZones.dataset(ZoneDefinition(name: "bl.test", role: .addresses), entries: try entries(keys, &rng), ttl: 60)
        let server = StandardServer(ds)
        for a in (base - 16)...(base + 0x100F) {
            let ref = ds.ipv6.lookup(a)
            let want = ref.isListed ? listed(ds.ipValues, ref) : []
            let name = (0..<32).map { String((a >> (4 * UInt128($0))) & 15, radix: 16) }.joined(separator: ".")
            let got = server.a(name) ?? []
            if want != got {
                Issue.record("\(ListingKey.ipv6(address: a, prefixLength: 128)): thurac \(want), export \(got) (keys \(keys))")
                return
            }
        }
    }

    @Test(arguments: [7, 8, 9] as [UInt64])
    func everyNameAnswersAlike(_ seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let labels = ["a", "b", "c"]
        func randomName(_ depth: Int) -> String {
            (0..<depth).map { _ in labels.randomElement(using: &rng)! }.joined(separator: ".") + ".t"
        }
        var keys: [String] = []
        for _ in 0..<14 {
            let name = randomName(Int.random(in: 1...3, using: &rng))
            let bang = Int.random(in: 0..<4, using: &rng) == 0 ? "!" : ""
            keys.append(bang + (Bool.random(using: &rng) ? "*." : "") + name)
        }
        let ds = PublishedZones.dataset(ZoneDefinition(name: "dbl.test", role: .domains), entries: try entries(keys, &rng), ttl: 60)
        let names = try #require(ds.domains)
        let server = StandardServer(ds)
        // Every name of one to four labels from a, b, c, d below t.
        var queries = ["t"]
        for _ in 0..<4 { queries += queries.flatMap { q in ["a", "b", "c", "d"].map { "\($0).\(q)" } } }
        for q in Set(queries) {
            let wire = try DomainName.wire(fromText: q).dropLast()
            let match = Array(wire).withUnsafeBytes { names.lookup($0, from: 0, count: wire.count) }
            let want = match.map { $0.ref.isListed ? listed(names.values, $0.ref) : [] } ?? []
            let got = server.a(q) ?? []
            if want != got {
                Issue.record("\(q): thurac \(want), export \(got) (keys \(keys))")
                return
            }
        }
    }

    /// IPv4 and IPv6 names share one zone and single-digit labels are both octets and nibbles:
    /// with both families listed where every label is a digit, each still answers like thurac.
    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func bothFamiliesInOneZoneAnswerAlike(_ seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        func v4(_ rng: inout SeededRandom) -> UInt32 {
            UInt32.random(in: 1...9, using: &rng) << 24 | UInt32.random(in: 0...9, using: &rng) << 16
                | UInt32.random(in: 0...12, using: &rng) << 8 | UInt32.random(in: 0...255, using: &rng)
        }
        func v6(_ rng: inout SeededRandom) -> UInt128 {
            // Leading nibbles mostly digits (10 is `a`), the rest small.
            var a = UInt128(UInt16.random(in: 0...0x1F, using: &rng))
            for i in 0..<6 { a |= UInt128(Int.random(in: 0...10, using: &rng)) << (124 - 4 * i) }
            return a
        }
        let text = { (x: UInt32) in "\(x >> 24).\(x >> 16 & 255).\(x >> 8 & 255).\(x & 255)" }
        var keys: [String] = []
        var edges4: [UInt32] = []
        var edges6: [UInt128] = []
        for _ in 0..<20 {
            let bits = [8, 12, 16, 20, 24, 28, 32].randomElement(using: &rng)!
            let a = v4(&rng) & (UInt32.max << (32 - bits))
            let bang = Int.random(in: 0..<5, using: &rng) == 0 ? "!" : ""
            keys.append(bang + text(a) + (bits == 32 ? "" : "/\(bits)"))
            edges4 += [a &- 1, a, a | ~(UInt32.max << (32 - bits)), (a | ~(UInt32.max << (32 - bits))) &+ 1]
        }
        for _ in 0..<20 {
            let bits = [4, 8, 12, 16, 20, 24, 124, 128].randomElement(using: &rng)!
            let a = v6(&rng) & (UInt128.max << (128 - bits))
            let bang = Int.random(in: 0..<5, using: &rng) == 0 ? "!" : ""
            keys.append(bang + ListingKey.ipv6(address: a, prefixLength: bits).description)
            edges6 += [a &- 1, a, a | (UInt128.max >> bits), (a | (UInt128.max >> bits)) &+ 1]
        }
        let ds = PublishedZones.dataset(ZoneDefinition(name: "bl.test", role: .addresses), entries: try entries(keys, &rng), ttl: 60)
        let server = StandardServer(ds)
        var listed = 0
        for a in edges4 + (0..<6000).map({ _ in v4(&rng) }) {
            let ref = ds.ipv4.lookup(a)
            let want = ref.isListed ? self.listed(ds.ipValues, ref) : []
            let got = server.a("\(a & 255).\(a >> 8 & 255).\(a >> 16 & 255).\(a >> 24)") ?? []
            if want != got {
                Issue.record("\(text(a)): thurac \(want), export \(got) (keys \(keys))")
                return
            }
            if !want.isEmpty { listed += 1 }
        }
        for a in edges6 + (0..<6000).map({ _ in v6(&rng) }) {
            let ref = ds.ipv6.lookup(a)
            let want = ref.isListed ? self.listed(ds.ipValues, ref) : []
            let name = (0..<32).map { String((a >> (4 * UInt128($0))) & 15, radix: 16) }.joined(separator: ".")
            let got = server.a(name) ?? []
            if want != got {
                Issue.record("\(ListingKey.ipv6(address: a, prefixLength: 128)): thurac \(want), export \(got) (keys \(keys))")
                return
            }
            if !want.isEmpty { listed += 1 }
        }
        #expect(listed > 500)
    }
}
