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
        // Written through buffers (a million intervals make two million pushes, and checked
        // appends and removals were half the build). Addresses and refs are plain integers: a
        // slot given back by a merge is simply written again.
        let capacity = intervals.count * 2 + 1
        var count = 0
        var r: [ValueRef] = []
        let s = [Address](unsafeUninitializedCapacity: capacity) { startBuffer, startCount in
            r = [ValueRef](unsafeUninitializedCapacity: capacity) { refBuffer, refCount in
                let (sp, rp) = (startBuffer.baseAddress!, refBuffer.baseAddress!)
                sp.initialize(to: 0)
                rp.initialize(to: .none)
                var n = 1
                @inline(__always) func push(_ start: Address, _ ref: ValueRef) {
                    if sp[n - 1] == start {
                        rp[n - 1] = ref
                        if n >= 2, rp[n - 2] == ref { n -= 1 }
                    } else if rp[n - 1] != ref {
                        (sp + n).initialize(to: start)
                        (rp + n).initialize(to: ref)
                        n += 1
                    }
                }
                intervals.withUnsafeBufferPointer { all in
                    for iv in all where iv.ref != .none {
                        push(iv.start, iv.ref)
                        if iv.end != Address.max { push(iv.end + 1, .none) }
                    }
                }
                refCount = n
                count = n
            }
            startCount = count
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
        // What of `base` the top leaves uncovered: each base interval cut around the top ones
        // inside it (at most one piece more per top interval).
        let rest = [AddressInterval<A>](unsafeUninitializedCapacity: base.count + top.count) { out, written in
            top.withUnsafeBufferPointer { t in
                var w = 0
                func keep(_ piece: AddressInterval<A>) {
                    (out.baseAddress! + w).initialize(to: piece)
                    w += 1
                }
                var k = 0
                for b in base {
                    while k < t.count, t[k].end < b.start { k += 1 }
                    var cur = b.start
                    var open = true
                    while open {
                        if k < t.count, t[k].start <= b.end {
                            let piece = t[k]
                            if piece.start > cur { keep(AddressInterval(start: cur, end: piece.start - 1, ref: b.ref)) }
                            if piece.end >= b.end { break }
                            cur = piece.end + 1
                            k += 1
                        } else {
                            keep(AddressInterval(start: cur, end: b.end, ref: b.ref))
                            open = false
                        }
                    }
                }
                written = w
            }
        }
        // Merge the two sorted, mutually disjoint lists, through buffers: the lists of an
        // exported IPv4 list are a million long, and checked appends were most of the time.
        return [AddressInterval<A>](unsafeUninitializedCapacity: rest.count + top.count) { out, written in
            rest.withUnsafeBufferPointer { r in
                top.withUnsafeBufferPointer { t in
                    var (i, j, w) = (0, 0, 0)
                    while i < r.count || j < t.count {
                        let next: AddressInterval<A>
                        if j == t.count || (i < r.count && r[i].start < t[j].start) {
                            next = r[i]
                            i += 1
                        } else {
                            next = t[j]
                            j += 1
                        }
                        (out.baseAddress! + w).initialize(to: next)
                        w += 1
                    }
                    written = w
                }
            }
        }
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
        out.reserveCapacity(sorted.count)
        var active: [AddressInterval<A>] = []
        var i = 0
        var pos = sorted[0].start
        while i < sorted.count || !active.isEmpty {
            if active.isEmpty {
                // An interval that overlaps nothing (most of an exported list, whose few
                // overlaps make the whole list take this path) goes straight out.
                let iv = sorted[i]
                if i + 1 == sorted.count || sorted[i + 1].start > iv.end {
                    if let last = out.last, last.ref == iv.ref, last.end &+ 1 == iv.start {
                        out[out.count - 1].end = iv.end
                    } else {
                        out.append(iv)
                    }
                    i += 1
                    if iv.end == A.max { break }
                    continue
                }
                pos = iv.start
            }
            while i < sorted.count, sorted[i].start == pos {
                active.append(sorted[i])
                i += 1
            }
            var segEnd = active[0].end
            for a in active where a.end < segEnd { segEnd = a.end }
            if i < sorted.count, sorted[i].start - 1 < segEnd { segEnd = sorted[i].start - 1 }
            let ref = active.count == 1 ? active[0].ref : values.combine(active.lazy.map { $0.ref })
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
        // Each length's prefixes sorted by address (stably: a prefix given twice stays in
        // the order read) find their duplicates as neighbours, without hashing every prefix.
        var byLength = [[(interval: AddressInterval<A>, index: Int)]](repeating: [], count: A.bitWidth + 1)
        for (i, p) in prefixes.enumerated() {
            let hostBits = A.bitWidth - p.length
            let end = hostBits == A.bitWidth ? A.max : p.address | ((A(1) << hostBits) &- 1)
            byLength[p.length].append((AddressInterval(start: p.address, end: end, ref: p.ref), i))
        }
        var duplicates: [Int] = []
        var result: [AddressInterval<A>] = []
        for var level in byLength where !level.isEmpty {
            level.sort { $0.interval.start < $1.interval.start }
            var kept: [AddressInterval<A>] = []
            kept.reserveCapacity(level.count)
            for (interval, index) in level {
                if let last = kept.last, last.start == interval.start {
                    duplicates.append(index)
                } else {
                    kept.append(interval)
                }
            }
            result = overlay(result, kept)
        }
        for i in duplicates.sorted() { duplicate(i) }
        return result
    }

}
