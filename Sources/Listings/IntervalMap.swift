/// An address space cut into disjoint intervals, each mapped to a `ValueRef`.
///
/// Every IP dataset (single addresses, CIDRs of any length, ranges, exclusions, overlapping
/// entries) is compiled into this one shape when it is loaded, so a lookup is always the same:
/// an index on the top bits (16 of them for a large map) narrows the search to a few intervals, then a binary
/// search finds the interval holding the address. Immutable once built.
public struct IntervalMap<Address: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable {
    /// Start of interval i; interval i ends where interval i+1 starts. starts[0] == 0.
    public let starts: [Address]
    public let refs: [ValueRef]
    /// bucket[p] = number of intervals whose start is below p << shift.
    @usableFromInline let bucket: [UInt32]
    /// The index is on the top 16 bits of an address (shift = bitWidth - 16) once the map has
    /// 65,536 intervals or more; a smaller map gets a smaller index, one bucket per interval or
    /// so (a handful of buckets for an empty map, not 256 KiB).
    @usableFromInline let shift: Int

    /// Builds from sorted, disjoint intervals; gaps become `.none`, neighbours with equal refs merge.
    // Specialised for both address widths: datasets are compiled from another module, where an
    // unspecialised generic would go through runtime metadata for every element.
    @_specialize(exported: true, where Address == UInt32)
    @_specialize(exported: true, where Address == UInt128)
    public init(_ intervals: [AddressInterval<Address>]) {
        var s: [Address] = [0]
        var r: [ValueRef] = [.none]
        s.reserveCapacity(intervals.count * 2 + 1)
        r.reserveCapacity(intervals.count * 2 + 1)
        func push(_ start: Address, _ ref: ValueRef) {
            if s.last == start {
                r[r.count - 1] = ref
                if r.count >= 2, r[r.count - 2] == ref {
                    s.removeLast()
                    r.removeLast()
                }
            } else if r.last != ref {
                s.append(start)
                r.append(ref)
            }
        }
        for iv in intervals where iv.ref != .none {
            push(iv.start, iv.ref)
            if iv.end != Address.max { push(iv.end + 1, .none) }
        }
        starts = s
        refs = r
        // bucket[p]: how many starts lie below p << shift (all of them for the last). Filled a
        // run of buckets per start, not by comparing addresses per bucket: a small dataset's
        // maps are built in microseconds.
        let bits = min(16, Int.bitWidth - s.count.leadingZeroBitCount)
        let shift = Address.bitWidth - bits
        let buckets = 1 << bits
        self.shift = shift
        var b = [UInt32](repeating: UInt32(s.count), count: buckets + 1)
        b.withUnsafeMutableBufferPointer { bp in
            var p = 0
            for k in s.indices {
                let first = min(Int(truncatingIfNeeded: s[k] >> shift) + 1, buckets)
                if first > p {
                    UnsafeMutableBufferPointer(rebasing: bp[p..<first]).update(repeating: UInt32(k))
                    p = first
                }
            }
        }
        bucket = b
    }

    public static var empty: IntervalMap { IntervalMap([]) }

    /// Index of the interval holding `address`.
    @inlinable
    public func intervalIndex(_ address: Address) -> Int {
        let p = Int(truncatingIfNeeded: address >> shift)
        return bucket.withUnsafeBufferPointer { bk in
            starts.withUnsafeBufferPointer { st in
                // The answer is the last start <= address, within [bk[p]-1, bk[p+1]-1].
                var lo = max(Int(bk[p]) - 1, 0)
                var hi = Int(bk[p + 1]) - 1
                while lo < hi {
                    let mid = (lo + hi + 1) >> 1
                    if st[mid] <= address { lo = mid } else { hi = mid - 1 }
                }
                return lo
            }
        }
    }

    @inlinable
    public func lookup(_ address: Address) -> ValueRef {
        refs.withUnsafeBufferPointer { $0[intervalIndex(address)] }
    }

    /// True if some address in [first, last] is listed: used to tell an empty non-terminal
    /// (a partial reversed address such as `0.0.127`) from a name that does not exist.
    @inlinable
    public func anyListed(from first: Address, through last: Address) -> Bool {
        var i = intervalIndex(first)
        return refs.withUnsafeBufferPointer { rf in
            starts.withUnsafeBufferPointer { st in
                while i < st.count, st[i] <= last {
                    if rf[i].isListed { return true }
                    i += 1
                }
                return false
            }
        }
    }

    /// Listed intervals in address order, for dumps and tests.
    public func listedIntervals() -> [AddressInterval<Address>] {
        var out: [AddressInterval<Address>] = []
        for i in 0..<starts.count where refs[i].isListed {
            let end = i + 1 < starts.count ? starts[i + 1] - 1 : Address.max
            out.append(AddressInterval(start: starts[i], end: end, ref: refs[i]))
        }
        return out
    }

    /// Every interval meeting [lo, hi], clipped to it, in address order (gaps included, as `.none`).
    public func forEachInterval(from lo: Address, through hi: Address, _ body: (Address, Address, ValueRef) -> Void) {
        var i = intervalIndex(lo)
        while i < starts.count, starts[i] <= hi {
            let end = i + 1 < starts.count ? starts[i + 1] - 1 : Address.max
            body(Swift.max(starts[i], lo), Swift.min(end, hi), refs[i])
            i += 1
        }
    }

    /// The whole interval holding `address`, and its ref.
    public func interval(at address: Address) -> (start: Address, end: Address, ref: ValueRef) {
        let i = intervalIndex(address)
        return (starts[i], i + 1 < starts.count ? starts[i + 1] - 1 : Address.max, refs[i])
    }

    /// Memory held by the structure, for load statistics.
    public var byteCount: Int {
        starts.count * MemoryLayout<Address>.stride + refs.count * 4 + bucket.count * 4
    }
}

public struct AddressInterval<Address: FixedWidthInteger & UnsignedInteger & Sendable>: Sendable, Equatable {
    public var start: Address
    public var end: Address
    public var ref: ValueRef
    public init(start: Address, end: Address, ref: ValueRef) {
        self.start = start
        self.end = end
        self.ref = ref
    }
}

/// Set operations used to compile datasets into an `IntervalMap`.
public enum IntervalAlgebra {
    /// Lays `top` over `base` (both sorted and disjoint): where `top` has an interval it wins.
    @_specialize(exported: true, where A == UInt32)
    @_specialize(exported: true, where A == UInt128)
    public static func overlay<A>(_ base: [AddressInterval<A>], _ top: [AddressInterval<A>]) -> [AddressInterval<A>] {
        if top.isEmpty { return base }
        if base.isEmpty { return top }
        var rest: [AddressInterval<A>] = []
        rest.reserveCapacity(base.count)
        var k = 0
        for b in base {
            while k < top.count, top[k].end < b.start { k += 1 }
            var cur = b.start
            var kk = k
            var open = true
            while open {
                if kk < top.count, top[kk].start <= b.end {
                    let t = top[kk]
                    if t.start > cur { rest.append(AddressInterval(start: cur, end: t.start - 1, ref: b.ref)) }
                    if t.end >= b.end { open = false; break }
                    cur = t.end + 1
                    kk += 1
                } else {
                    rest.append(AddressInterval(start: cur, end: b.end, ref: b.ref))
                    open = false
                }
            }
            k = kk
        }
        // Merge the two sorted, mutually disjoint lists.
        var out: [AddressInterval<A>] = []
        out.reserveCapacity(rest.count + top.count)
        var i = 0
        var j = 0
        while i < rest.count || j < top.count {
            if j == top.count || (i < rest.count && rest[i].start < top[j].start) {
                out.append(rest[i])
                i += 1
            } else {
                out.append(top[j])
                j += 1
            }
        }
        return out
    }

    /// Turns possibly overlapping intervals of equal rank into disjoint ones; where several
    /// cover the same addresses, their refs are combined (several entries answer together, an
    /// exclusion hides them all).
    @_specialize(exported: true, where A == UInt32)
    @_specialize(exported: true, where A == UInt128)
    public static func flatten<A>(
        _ input: [AddressInterval<A>], values: inout ValueTableBuilder
    ) -> [AddressInterval<A>] {
        if input.isEmpty { return [] }
        let sorted: [AddressInterval<A>]
        if A.bitWidth <= 32 && input.count < Int(UInt32.max) {
            // Sorting plain integers (start, then position) is several times faster than sorting
            // structs through a closure, and IPv4 datasets have a million entries.
            var keys = input.indices.map { UInt64(input[$0].start) << 32 | UInt64($0) }
            // By start; the positions (the low half) keep feed order among equal starts.
            RadixSort.sort(&keys, lowestBit: 32)
            sorted = keys.map { input[Int($0 & 0xFFFF_FFFF)] }
        } else {
            sorted = input.sorted { $0.start < $1.start }
        }
        // Fast path: already disjoint.
        var disjoint = true
        for i in 1..<sorted.count where sorted[i].start <= sorted[i - 1].end {
            disjoint = false
            break
        }
        if disjoint { return sorted }

        var out: [AddressInterval<A>] = []
        var active: [AddressInterval<A>] = []
        var i = 0
        var pos = sorted[0].start
        while i < sorted.count || !active.isEmpty {
            if active.isEmpty { pos = sorted[i].start }
            while i < sorted.count, sorted[i].start == pos {
                active.append(sorted[i])
                i += 1
            }
            var segEnd = active.map(\.end).min()!
            if i < sorted.count, sorted[i].start - 1 < segEnd { segEnd = sorted[i].start - 1 }
            let ref = active.count == 1 ? active[0].ref : values.combine(active.map(\.ref))
            if let last = out.last, last.ref == ref, last.end &+ 1 == pos {
                out[out.count - 1].end = segEnd
            } else {
                out.append(AddressInterval(start: pos, end: segEnd, ref: ref))
            }
            if segEnd == A.max { break }
            pos = segEnd + 1
            active.removeAll { $0.end < pos }
        }
        return out
    }

    /// Longest-prefix-match compilation: prefixes of each length are laid over the shorter ones.
    /// For one prefix given twice, the first one read wins (as in rbldnsd's ip4trie); `duplicate`
    /// is told the index of each later one.
    @_specialize(exported: true, where A == UInt32)
    @_specialize(exported: true, where A == UInt128)
    public static func longestPrefix<A>(
        _ prefixes: [(address: A, length: Int, ref: ValueRef)], duplicate: (Int) -> Void = { _ in }
    ) -> [AddressInterval<A>] {
        var byLength = [[AddressInterval<A>]](repeating: [], count: A.bitWidth + 1)
        var seen = Set<PrefixKey<A>>()
        for (i, p) in prefixes.enumerated() {
            let key = PrefixKey(address: p.address, length: p.length)
            guard seen.insert(key).inserted else {
                duplicate(i)
                continue
            }
            let hostBits = A.bitWidth - p.length
            let end = hostBits == A.bitWidth ? A.max : p.address | ((A(1) << hostBits) &- 1)
            byLength[p.length].append(AddressInterval(start: p.address, end: end, ref: p.ref))
        }
        var result: [AddressInterval<A>] = []
        for var level in byLength where !level.isEmpty {
            level.sort { $0.start < $1.start }
            result = overlay(result, level)
        }
        return result
    }

    struct PrefixKey<A: Hashable>: Hashable {
        var address: A
        var length: Int
    }
}
