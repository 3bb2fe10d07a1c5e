import DNSWire

/// An immutable open-addressing hash index of domain names in lower-cased wire form (labels
/// relative to a zone, no root octet). Lookups take the bytes straight from the packet and
/// fold case while hashing and comparing, so nothing is copied or allocated.
public struct NameIndex: Sendable {
    public let names: [UInt8]
    /// Name i is names[offsets[i]..<offsets[i+1]].
    public let offsets: [UInt32]
    /// 0 = empty, otherwise entry index + 1.
    @usableFromInline let slots: [UInt32]
    @usableFromInline let mask: Int

    public var count: Int { offsets.count - 1 }

    /// `names` must be distinct and already lower-cased.
    public init(names list: [[UInt8]]) {
        var blob: [UInt8] = []
        blob.reserveCapacity(list.reduce(0) { $0 + $1.count })
        var offs: [UInt32] = [0]
        offs.reserveCapacity(list.count + 1)
        for n in list {
            blob.append(contentsOf: n)
            offs.append(UInt32(blob.count))
        }
        var capacity = 16
        while capacity < list.count * 10 / 7 + 1 { capacity <<= 1 }
        var s = [UInt32](repeating: 0, count: capacity)
        let m = capacity - 1
        blob.withUnsafeBytes { b in
            for i in 0..<list.count {
                var h = Self.hash(b, from: Int(offs[i]), count: Int(offs[i + 1] - offs[i])) & m
                while s[h] != 0 { h = (h + 1) & m }
                s[h] = UInt32(i + 1)
            }
        }
        names = blob
        offsets = offs
        slots = s
        mask = m
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
        if count == 0 && self.count == 0 { return nil }
        var h = Self.hash(p, from: from, count: count) & mask
        return slots.withUnsafeBufferPointer { sl in
            offsets.withUnsafeBufferPointer { of in
                names.withUnsafeBytes { nm in
                    while true {
                        let e = Int(sl[h])
                        if e == 0 { return nil }
                        let start = Int(of[e - 1])
                        if Int(of[e]) - start == count {
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

    public func find(_ name: [UInt8]) -> Int? {
        name.withUnsafeBytes { find($0, from: 0, count: name.count) }
    }

    public func name(_ i: Int) -> [UInt8] { Array(names[Int(offsets[i])..<Int(offsets[i + 1])]) }

    public var byteCount: Int { names.count + offsets.count * 4 + slots.count * 4 }
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
