import DNSWire

/// An immutable open-addressing hash index of domain names in lower-cased wire form (labels
/// relative to a zone, no root octet). Names are slices of one byte blob, so a name and its
/// ancestors (suffixes of it) share storage. Lookups take the bytes straight from the packet
/// and fold case while hashing and comparing: nothing is copied or allocated.
public struct NameIndex: Sendable {
    public let names: [UInt8]
    /// Name i is names[starts[i] ..< starts[i] + lengths[i]].
    public let starts: [UInt32]
    public let lengths: [UInt8]
    /// 0 = empty, otherwise the name's 32-bit hash in the high half and entry index + 1 in the
    /// low half: a probe compares hashes in the slot and touches the names only on a match.
    @usableFromInline let slots: [UInt64]
    @usableFromInline let mask: Int

    public var count: Int { starts.count }

    init(builder b: NameIndexBuilder) {
        names = b.names
        starts = b.starts
        lengths = b.lengths
        slots = b.slots
        mask = b.slots.count - 1
    }

    /// `list` must hold lower-cased names; duplicates collapse to one entry.
    public init(names list: [[UInt8]]) {
        var b = NameIndexBuilder()
        for n in list { _ = b.insert(n) }
        self.init(builder: b)
    }

    /// FNV-1a over case-folded octets, finalised.
    @inlinable @inline(__always)
    static func hash(_ p: UnsafeRawBufferPointer, from: Int, count: Int) -> Int {
        var h: UInt32 = 2_166_136_261
        var i = from
        let end = from + count
        while i < end {
            h = (h ^ UInt32(DomainName.lower(p[i]))) &* 16_777_619
            i += 1
        }
        // FNV's low bits cluster for names that differ in a digit or two (spam1.com, spam2.com);
        // the murmur3 finaliser spreads them before they pick a slot.
        h ^= h >> 16
        h = h &* 0x85EB_CA6B
        h ^= h >> 13
        h = h &* 0xC2B2_AE35
        h ^= h >> 16
        return Int(h)
    }

    /// Entry index of the name at p[from..<from+count], matched case-insensitively.
    @inlinable
    public func find(_ p: UnsafeRawBufferPointer, from: Int, count: Int) -> Int? {
        let full = Self.hash(p, from: from, count: count)
        let tag = UInt64(UInt32(truncatingIfNeeded: full))
        var h = full & mask
        return slots.withUnsafeBufferPointer { sl in
            starts.withUnsafeBufferPointer { st in
                lengths.withUnsafeBufferPointer { ln in
                    names.withUnsafeBytes { nm in
                        while true {
                            let slot = sl[h]
                            if slot == 0 { return nil }
                            let e = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF)
                            if slot >> 32 == tag, Int(ln[e - 1]) == count {
                                let start = Int(st[e - 1])
                                var k = 0
                                while k < count, nm[start + k] == DomainName.lower(p[from + k]) { k += 1 }
                                if k == count { return e - 1 }
                            }
                            h = (h + 1) & mask
                        }
                    }
                }
            }
        }
    }

    public func find(_ name: [UInt8]) -> Int? {
        name.withUnsafeBytes { find($0, from: 0, count: name.count) }
    }

    public func name(_ i: Int) -> [UInt8] { Array(names[Int(starts[i])..<(Int(starts[i]) + Int(lengths[i]))]) }

    public var byteCount: Int { names.count + starts.count * 5 + slots.count * 8 }
}

/// Builds a `NameIndex` incrementally: names are appended to the blob once, suffixes of stored
/// names can be added without copying (`insertSuffix`), and the table grows as it fills.
public struct NameIndexBuilder {
    public private(set) var names: [UInt8] = []
    public private(set) var starts: [UInt32] = []
    public private(set) var lengths: [UInt8] = []
    var slots = [UInt64](repeating: 0, count: 1024)

    public init(expectedCount: Int = 0) {
        var capacity = 1024
        while capacity < expectedCount * 10 / 7 + 1 { capacity <<= 1 }
        slots = [UInt64](repeating: 0, count: capacity)
        names.reserveCapacity(expectedCount * 12)
        starts.reserveCapacity(expectedCount)
        lengths.reserveCapacity(expectedCount)
    }

    public var count: Int { starts.count }

    /// Indexes names already laid out in a blob (name i is blob[starts[i] ..< starts[i] +
    /// lengths[i]]; repeats allowed). Names are inserted in the order of their home slot, so the
    /// table fills front to back: inserting a million names in file order would miss the cache
    /// on nearly every insert. Returns the builder and, for each input name, its entry index.
    public static func bulk(names blob: [UInt8], starts nameStarts: [UInt32], lengths nameLengths: [UInt8])
        -> (builder: NameIndexBuilder, entries: [UInt32])
    {
        let n = nameStarts.count
        var b = NameIndexBuilder()
        var capacity = 1024
        while capacity < n * 10 / 7 + 1 { capacity <<= 1 }
        b.slots = [UInt64](repeating: 0, count: capacity)
        b.names = blob
        b.starts.reserveCapacity(n)
        b.lengths.reserveCapacity(n)
        let mask = capacity - 1
        var hashes = [UInt32](repeating: 0, count: n)
        blob.withUnsafeBytes { nm in
            for i in 0..<n {
                hashes[i] = UInt32(truncatingIfNeeded: NameIndex.hash(nm, from: Int(nameStarts[i]), count: Int(nameLengths[i])))
            }
        }
        // Counting sort by home slot, in buckets of 64 slots (512 octets): two linear passes,
        // and within a bucket the order does not matter to the cache.
        let bucketShift = 6
        var bucketStart = [Int](repeating: 0, count: (capacity >> bucketShift) + 1)
        for h in hashes { bucketStart[((Int(h) & mask) >> bucketShift) + 1] += 1 }
        for k in 1..<bucketStart.count { bucketStart[k] += bucketStart[k - 1] }
        var order = [UInt32](repeating: 0, count: n)
        for i in 0..<n {
            let k = (Int(hashes[i]) & mask) >> bucketShift
            order[bucketStart[k]] = UInt32(i)
            bucketStart[k] += 1
        }
        var entries = [UInt32](repeating: 0, count: n)
        for o in order {
            let i = Int(o)
            let tag = UInt64(hashes[i])
            let start = Int(nameStarts[i])
            let length = Int(nameLengths[i])
            var h = Int(hashes[i]) & mask
            var found = -1
            while true {
                let slot = b.slots[h]
                if slot == 0 { break }
                let e = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF)
                if slot >> 32 == tag, Int(b.lengths[e - 1]) == length, b.equal(Int(b.starts[e - 1]), start, length) {
                    found = e - 1
                    break
                }
                h = (h + 1) & mask
            }
            if found < 0 {
                b.starts.append(UInt32(start))
                b.lengths.append(UInt8(length))
                b.slots[h] = tag << 32 | UInt64(b.starts.count)
                found = b.starts.count - 1
            }
            entries[i] = UInt32(found)
        }
        return (b, entries)
    }

    /// Inserts a lower-cased name; returns its index and whether it was new.
    public mutating func insert(_ name: [UInt8]) -> (index: Int, inserted: Bool) {
        let start = names.count
        names.append(contentsOf: name)
        let r = insertSuffix(start: start, length: name.count)
        if !r.inserted { names.removeLast(name.count) }
        return r
    }

    /// Inserts the name stored at names[start..<start+length] (already in the blob).
    public mutating func insertSuffix(start: Int, length: Int) -> (index: Int, inserted: Bool) {
        if (starts.count + 1) * 10 > slots.count * 7 { grow() }
        let mask = slots.count - 1
        let full = names.withUnsafeBytes { NameIndex.hash($0, from: start, count: length) }
        let tag = UInt64(UInt32(truncatingIfNeeded: full))
        var h = full & mask
        while true {
            let slot = slots[h]
            if slot == 0 { break }
            let e = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF)
            if slot >> 32 == tag, Int(lengths[e - 1]) == length, equal(Int(starts[e - 1]), start, length) {
                return (e - 1, false)
            }
            h = (h + 1) & mask
        }
        starts.append(UInt32(start))
        lengths.append(UInt8(length))
        slots[h] = tag << 32 | UInt64(starts.count)
        return (starts.count - 1, true)
    }

    func equal(_ a: Int, _ b: Int, _ n: Int) -> Bool {
        if a == b { return true }
        return names.withUnsafeBufferPointer { p in
            var k = 0
            while k < n, p[a + k] == p[b + k] { k += 1 }
            return k == n
        }
    }

    private mutating func grow() {
        var bigger = [UInt64](repeating: 0, count: slots.count * 2)
        let mask = bigger.count - 1
        for slot in slots where slot != 0 {
            // The stored hash is the full 32 bits: no need to read the names again.
            var h = Int(slot >> 32) & mask
            while bigger[h] != 0 { h = (h + 1) & mask }
            bigger[h] = slot
        }
        slots = bigger
    }

    public func build() -> NameIndex { NameIndex(builder: self) }
}

/// Wire-name helpers for relative names (labels only, no root octet).
public enum RelativeName {
    /// Proper ancestors of a relative name, nearest first (`a.b.c` -> `b.c`, `c`).
    public static func ancestors(_ name: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var o = 0
        while o < name.count {
            o += 1 + Int(name[o])
            if o < name.count { out.append(Array(name[o...])) }
        }
        return out
    }
}
