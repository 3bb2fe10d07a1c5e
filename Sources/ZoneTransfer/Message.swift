import DNSWire

/// A message built off the query path (transfers, NOTIFY, TSIG answers): plain bytes, names
/// below the zone written as their relative labels and a pointer to the question's name.
struct MessageBuilder {
    var bytes: [UInt8]
    /// Where the question's name starts (the zone's origin in every message we build).
    static let questionName = 12

    init(id: UInt16, flags: UInt16, capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes += [UInt8(id >> 8), UInt8(id & 255), UInt8(flags >> 8), UInt8(flags & 255), 0, 0, 0, 0, 0, 0, 0, 0]
    }

    var count: Int { bytes.count }

    mutating func bump(_ offset: Int) {
        let n = (Int(bytes[offset]) << 8 | Int(bytes[offset + 1])) + 1
        bytes[offset] = UInt8(n >> 8)
        bytes[offset + 1] = UInt8(n & 255)
    }

    mutating func question(_ name: [UInt8], type: UInt16, class rclass: UInt16 = 1) {
        bytes += name
        append16(type)
        append16(rclass)
        bump(4)
    }

    // Byte by byte: an array literal per field would be an allocation per field, and a zone
    // transfer writes millions of records.
    mutating func append16(_ v: UInt16) {
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(v & 255))
    }

    mutating func append32(_ v: UInt32) {
        append16(UInt16(v >> 16))
        append16(UInt16(v & 0xFFFF))
    }

    /// A record owned by `relative` (labels below the origin, no root) in section `count`
    /// (6 answer, 8 authority, 10 additional).
    mutating func record(relative: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8], section: Int = 6) {
        bytes.append(contentsOf: relative)
        append16(0xC000 | UInt16(Self.questionName))
        append16(type)
        append16(1)
        append32(ttl)
        append16(UInt16(rdata.count))
        bytes.append(contentsOf: rdata)
        bump(section)
    }

    /// Octets `record(relative:...)` adds.
    static func size(relative: [UInt8], rdata: [UInt8]) -> Int { relative.count + 2 + 10 + rdata.count }
}

/// Reads what the transfer code needs out of a received message: names (with compression),
/// the question, and the records after it.
struct MessageReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func u16(_ o: Int) -> UInt16? { o + 2 <= bytes.count ? UInt16(bytes[o]) << 8 | UInt16(bytes[o + 1]) : nil }
    func u32(_ o: Int) -> UInt32? {
        guard let hi = u16(o), let lo = u16(o + 2) else { return nil }
        return UInt32(hi) << 16 | UInt32(lo)
    }

    var id: UInt16 { u16(0) ?? 0 }
    var flags: UInt16 { u16(2) ?? 0 }
    func count(_ section: Int) -> Int { Int(u16(4 + 2 * section) ?? 0) }

    /// The name at `o`, lower-cased and uncompressed, and the offset after it in place.
    func name(at o: Int) -> (name: [UInt8], end: Int)? {
        var out: [UInt8] = []
        var p = o
        var end: Int? = nil
        var jumps = 0
        while true {
            guard p < bytes.count else { return nil }
            let len = Int(bytes[p])
            if len & 0xC0 == 0xC0 {
                guard p + 1 < bytes.count, jumps < 64 else { return nil }
                if end == nil { end = p + 2 }
                let target = (len & 0x3F) << 8 | Int(bytes[p + 1])
                guard target < p else { return nil }
                p = target
                jumps += 1
                continue
            }
            guard len & 0xC0 == 0, p + 1 + len <= bytes.count else { return nil }
            out.append(UInt8(len))
            if len == 0 { break }
            for c in bytes[(p + 1)...(p + len)] { out.append(DomainName.lower(c)) }
            p += 1 + len
            guard out.count <= WireLimits.maxNameLength else { return nil }
        }
        return (out, end ?? p + 1)
    }

    struct Record {
        var name: [UInt8]
        var type: UInt16
        var rclass: UInt16
        var ttl: UInt32
        /// Where the record starts, and its RDATA.
        var start: Int
        var rdata: Range<Int>
    }

    /// The question (name, type, class) and where the first record starts.
    func question() -> (name: [UInt8], type: UInt16, rclass: UInt16, end: Int)? {
        guard count(0) == 1, let (n, e) = name(at: 12), let t = u16(e), let c = u16(e + 2) else { return nil }
        return (n, t, c, e + 4)
    }

    /// Every record after the question section, in order; nil when the message is malformed.
    func records() -> [Record]? {
        guard let q = question() else { return nil }
        var o = q.end
        var out: [Record] = []
        for _ in 0..<(count(1) + count(2) + count(3)) {
            guard let (n, e) = name(at: o), let t = u16(e), let c = u16(e + 2), let ttl = u32(e + 4), let len = u16(e + 8),
                e + 10 + Int(len) <= bytes.count
            else { return nil }
            out.append(Record(name: n, type: t, rclass: c, ttl: ttl, start: o, rdata: (e + 10)..<(e + 10 + Int(len))))
            o = e + 10 + Int(len)
        }
        return out
    }
}
