import Listings
import TestSupport
import Testing

/// Compiled structures checked against a naive reference on random data.
@Suite struct IntervalMapTests {
    /// Longest-prefix match over a small address space (the top 12 bits fixed), brute force.
    @Test(arguments: [1, 2, 3, 4, 5])
    func longestPrefixMatchesBruteForce(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let base: UInt32 = 0x0A00_0000
        var prefixes: [(address: UInt32, length: Int, ref: ValueRef)] = []
        for _ in 0..<60 {
            let len = Int.random(in: 12...32, using: &rng)
            let a = (base | UInt32.random(in: 0..<(1 << 20), using: &rng)) & (UInt32.max << (32 - len))
            let ref: ValueRef = Int.random(in: 0..<5, using: &rng) == 0 ? .excluded : .value(Int.random(in: 0..<4, using: &rng))
            prefixes.append((a, len, ref))
        }
        let map = IntervalMap(IntervalAlgebra.longestPrefix(prefixes))
        func naive(_ q: UInt32) -> ValueRef {
            var best: (Int, ValueRef)? = nil
            var seen = Set<String>()
            for p in prefixes where seen.insert("\(p.address)/\(p.length)").inserted {
                let m = p.length == 0 ? 0 : UInt32.max << (32 - p.length)
                if q & m == p.address, best == nil || p.length > best!.0 { best = (p.length, p.ref) }
            }
            let r = best?.1 ?? .none
            return r.isListed ? r : .none
        }
        for q in stride(from: base, to: base + (1 << 20), by: 61) {
            let got = map.lookup(q)
            #expect((got.isListed ? got : .none) == naive(q), "address \(q)")
        }
    }

    /// rbldnsd ip4set semantics: overlapping entries on one level combine, the most specific
    /// level decides, an exclusion on that level hides everything.
    @Test func flattenCombinesAndExclusionWins() {
        var values = ValueTableBuilder()
        let v1 = values.intern(AnswerValue(address: 0x7F00_0002, template: []))
        let v2 = values.intern(AnswerValue(address: 0x7F00_0003, template: []))
        let level = [
            AddressInterval<UInt32>(start: 10, end: 20, ref: v1),
            AddressInterval<UInt32>(start: 15, end: 30, ref: v2),
            AddressInterval<UInt32>(start: 18, end: 18, ref: .excluded),
        ]
        let flat = IntervalAlgebra.flatten(level, values: &values)
        let map = IntervalMap(flat)
        let table = values.build()
        #expect(map.lookup(9) == .none)
        #expect(table.values(map.lookup(12)).map(\.address) == [0x7F00_0002])
        #expect(Set(table.values(map.lookup(16)).map(\.address)) == [0x7F00_0002, 0x7F00_0003])
        #expect(map.lookup(18) == .excluded)
        #expect(table.values(map.lookup(25)).map(\.address) == [0x7F00_0003])
        #expect(map.lookup(31) == .none)
        #expect(map.anyListed(from: 0, through: 10))
        #expect(!map.anyListed(from: 31, through: 1000))
    }

    /// Random intervals on one level, mostly apart, some overlapping (with the same value or
    /// others, or an exclusion), some touching: each address answers the values of every
    /// interval holding it, none when one of them is an exclusion.
    @Test(arguments: [1, 2, 3, 4, 5, 6])
    func flattenMatchesBruteForce(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var values = ValueTableBuilder()
        let refs = (0..<3).map { values.intern(AnswerValue(address: 0x7F00_0002 + UInt32($0), template: [])) }
        var level: [AddressInterval<UInt32>] = []
        var at: UInt32 = UInt32.random(in: 0..<3, using: &rng)
        for _ in 0..<300 {
            let length = UInt32.random(in: 0..<(Int.random(in: 0..<4, using: &rng) == 0 ? 40 : 3), using: &rng)
            let ref: ValueRef = Int.random(in: 0..<12, using: &rng) == 0 ? .excluded : refs[Int.random(in: 0..<(seed.isMultiple(of: 2) ? 1 : 3), using: &rng)]
            level.append(AddressInterval(start: at, end: at + length, ref: ref))
            // Mostly past the end (apart or touching), sometimes back inside earlier ones.
            at = Int.random(in: 0..<5, using: &rng) == 0 ? at - min(at, UInt32.random(in: 0..<30, using: &rng)) : at + length + UInt32.random(in: 0..<4, using: &rng)
        }
        level.shuffle(using: &rng)
        let map = IntervalMap(IntervalAlgebra.flatten(level, values: &values))
        let table = values.build()
        for q in UInt32(0)...(level.map(\.end).max()! + 2) {
            let holding = level.filter { $0.start <= q && q <= $0.end }
            let got = map.lookup(q)
            if holding.contains(where: { $0.ref == .excluded }) {
                #expect(got == .excluded, "address \(q)")
            } else {
                let expected = Set(holding.flatMap { table.values($0.ref).map(\.address) })
                #expect(Set(table.values(got).map(\.address)) == expected, "address \(q)")
            }
        }
    }

    @Test func overlayKeepsTheTopAndTheEdges() {
        let base = [AddressInterval<UInt32>(start: 0, end: UInt32.max, ref: .value(1))]
        let top = [
            AddressInterval<UInt32>(start: 0, end: 0, ref: .value(2)),
            AddressInterval<UInt32>(start: 100, end: 200, ref: .excluded),
            AddressInterval<UInt32>(start: UInt32.max, end: UInt32.max, ref: .value(3)),
        ]
        let map = IntervalMap(IntervalAlgebra.overlay(base, top))
        #expect(map.lookup(0) == .value(2))
        #expect(map.lookup(1) == .value(1))
        #expect(map.lookup(150) == .excluded)
        #expect(map.lookup(201) == .value(1))
        #expect(map.lookup(UInt32.max) == .value(3))
        #expect(map.lookup(UInt32.max - 1) == .value(1))
    }

    @Test func ipv6PrefixesMatchBruteForce() {
        var rng = SeededRandom(seed: 99)
        let top = UInt128(0x2001_0DB8) << 96
        var prefixes: [(address: UInt128, length: Int, ref: ValueRef)] = []
        for _ in 0..<40 {
            let len = Int.random(in: 32...128, using: &rng)
            let a = (top | UInt128(UInt32.random(in: 0...255, using: &rng)) << 88) & (UInt128.max << (128 - len))
            prefixes.append((a, len, Bool.random(using: &rng) ? .value(1) : .excluded))
        }
        let map = IntervalMap(IntervalAlgebra.longestPrefix(prefixes))
        for _ in 0..<5000 {
            let q = top | UInt128(UInt32.random(in: 0...255, using: &rng)) << 88 | UInt128(UInt64.random(in: 0...3, using: &rng))
            var best: (Int, ValueRef)? = nil
            var seen = Set<String>()
            for p in prefixes where seen.insert("\(p.address)/\(p.length)").inserted {
                if q & (UInt128.max << (128 - p.length)) == p.address, best == nil || p.length > best!.0 { best = (p.length, p.ref) }
            }
            #expect(map.lookup(q).isListed == (best?.1.isListed ?? false))
        }
    }
}

@Suite struct DomainSetTests {
    static func wire(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        for l in s.split(separator: ".") { out.append(UInt8(l.utf8.count)); out += Array(l.utf8) }
        return out
    }

    @Test func exactSubtreeAndExclusions() {
        var b = DomainSetBuilder()
        let v = b.values.intern(AnswerValue(address: 0x7F00_0002, template: []))
        b.add(Self.wire("spam.example"), exact: v, subtree: nil)
        b.add(Self.wire("evil.test"), exact: nil, subtree: v)
        b.add(Self.wire("bad.net"), exact: v, subtree: v)
        b.add(Self.wire("ok.bad.net"), exact: .excluded, subtree: nil)
        let set = b.build()
        func listed(_ n: String) -> Bool {
            let w = Self.wire(n)
            return w.withUnsafeBytes { set.lookup($0, from: 0, count: w.count)?.ref.isListed ?? false }
        }
        func ent(_ n: String) -> Bool {
            let w = Self.wire(n)
            return w.withUnsafeBytes { set.isEmptyNonTerminal($0, from: 0, count: w.count) }
        }
        #expect(listed("spam.example"))
        #expect(listed("SPAM.Example"))
        #expect(!listed("www.spam.example"))
        #expect(!listed("evil.test"))
        #expect(listed("a.evil.test"))
        #expect(listed("a.b.c.evil.test"))
        #expect(listed("bad.net"))
        #expect(listed("x.bad.net"))
        #expect(!listed("ok.bad.net"))
        #expect(listed("sub.ok.bad.net"), "an exact exclusion does not cover names below it")
        #expect(ent("example"))
        #expect(ent("evil.test"))
        #expect(!ent("nothing.example"))
    }
}
