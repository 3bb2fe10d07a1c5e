/// A message built off the query path (transfers, NOTIFY, TSIG answers): plain bytes, names
/// below the zone written as their relative labels and a pointer to the question's name. (The
/// query path writes its answers in place with `ResponseWriter`.)
public struct MessageBuilder {
    public var bytes: [UInt8]
    /// Where the question's name starts (the zone's origin in every message we build).
    public static let questionName = WireLimits.headerLength

    public init(id: UInt16, flags: UInt16, capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes += [UInt8(id >> 8), UInt8(id & 255), UInt8(flags >> 8), UInt8(flags & 255), 0, 0, 0, 0, 0, 0, 0, 0]
    }

    public var count: Int { bytes.count }

    public mutating func bump(_ offset: Int) {
        let n = (Int(bytes[offset]) << 8 | Int(bytes[offset + 1])) + 1
        bytes[offset] = UInt8(n >> 8)
        bytes[offset + 1] = UInt8(n & 255)
    }

    public mutating func question(_ name: [UInt8], type: UInt16, class rclass: UInt16 = 1) {
        bytes += name
        append16(type)
        append16(rclass)
        bump(4)
    }

    // Byte by byte: an array literal per field would be an allocation per field, and a zone
    // transfer writes millions of records.
    public mutating func append16(_ v: UInt16) {
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(v & 255))
    }

    public mutating func append32(_ v: UInt32) {
        append16(UInt16(v >> 16))
        append16(UInt16(v & 0xFFFF))
    }

    /// A record owned by `relative` (labels below the origin, no root) in section `count`
    /// (6 answer, 8 authority, 10 additional).
    public mutating func record(relative: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8], section: Int = 6) {
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
    public static func size(relative: [UInt8], rdata: [UInt8]) -> Int { relative.count + 2 + 10 + rdata.count }
}
