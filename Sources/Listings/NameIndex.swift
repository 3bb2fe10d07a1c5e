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
    /// 0 = empty, otherwise entry index + 1.
    @usableFromInline let slots: [UInt32]
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

    /// FNV-1a over case-folded octets.
    @inlinable @inline(__always)
    static func hash(_ p: UnsafeRawBufferPointer, from: Int, count: Int) -> Int {
        var h: UInt32 = 2_166_136_261
        var i = from
        let end = from + count
        while i < end {
            h = (h ^ UInt32(DomainName.lower(p[i]))) &* 16_777_619
            i += 1
        }
        return Int(h)
    }

    /// Entry index of the name at p[from..<from+count], matched case-insensitively.
    @inlinable
    public func find(_ p: UnsafeRawBufferPointer, from: Int, count: Int) -> Int? {
        var h = Self.hash(p, from: from, count: count) & mask
        return slots.withUnsafeBufferPointer { sl in
            starts.withUnsafeBufferPointer { st in
                lengths.withUnsafeBufferPointer { ln in
                    names.withUnsafeBytes { nm in
                        while true {
                            let e = Int(sl[h])
                            if e == 0 { return nil }
                            if Int(ln[e - 1]) == count {
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

    public var byteCount: Int { names.count + starts.count * 5 + slots.count * 4 }
}

/// Builds a `NameIndex` incrementally: names are appended to the blob once, suffixes of stored
/// names can be added without copying (`insertSuffix`), and the table grows as it fills.
public struct NameIndexBuilder {
    public private(set) var names: [UInt8] = []
    public private(set) var starts: [UInt32] = []
    public private(set) var lengths: [UInt8] = []
    var slots = [UInt32](repeating: 0, count: 1024)

    public init(expectedCount: Int = 0) {
        var capacity = 1024
        while capacity < expectedCount * 10 / 7 + 1 { capacity <<= 1 }
        slots = [UInt32](repeating: 0, count: capacity)
        names.reserveCapacity(expectedCount * 12)
        starts.reserveCapacity(expectedCount)
        lengths.reserveCapacity(expectedCount)
    }

    public var count: Int { starts.count }

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
        var h = names.withUnsafeBytes { NameIndex.hash($0, from: start, count: length) } & mask
        while true {
            let e = Int(slots[h])
            if e == 0 { break }
            if Int(lengths[e - 1]) == length, equal(Int(starts[e - 1]), start, length) { return (e - 1, false) }
            h = (h + 1) & mask
        }
        starts.append(UInt32(start))
        lengths.append(UInt8(length))
        slots[h] = UInt32(starts.count)
        return (starts.count - 1, true)
    }

    private func equal(_ a: Int, _ b: Int, _ n: Int) -> Bool {
        if a == b { return true }
        return names.withUnsafeBufferPointer { p in
            var k = 0
            while k < n, p[a + k] == p[b + k] { k += 1 }
            return k == n
        }
    }

    private mutating func grow() {
        var bigger = [UInt32](repeating: 0, count: slots.count * 2)
        let mask = bigger.count - 1
        names.withUnsafeBytes { nm in
            for i in 0..<starts.count {
                var h = NameIndex.hash(nm, from: Int(starts[i]), count: Int(lengths[i])) & mask
                while bigger[h] != 0 { h = (h + 1) & mask }
                bigger[h] = UInt32(i + 1)
            }
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
