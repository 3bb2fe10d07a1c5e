/// Reads what the transfer code needs out of a received message: names (with compression),
/// the question, and the records after it.
public struct MessageReader {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func u16(_ o: Int) -> UInt16? { o + 2 <= bytes.count ? UInt16(bytes[o]) << 8 | UInt16(bytes[o + 1]) : nil }
    public func u32(_ o: Int) -> UInt32? {
        guard let hi = u16(o), let lo = u16(o + 2) else { return nil }
        return UInt32(hi) << 16 | UInt32(lo)
    }

    public var id: UInt16 { u16(0) ?? 0 }
    public var flags: UInt16 { u16(2) ?? 0 }
    public func count(_ section: Int) -> Int { Int(u16(4 + 2 * section) ?? 0) }

    /// The name at `o`, lower-cased and uncompressed, and the offset after it in place.
    public func name(at o: Int) -> (name: [UInt8], end: Int)? {
        bytes.withUnsafeBytes { DomainName.read($0, at: o, lowercase: true) }
    }

    public struct Record {
        public var name: [UInt8]
        public var type: UInt16
        public var rclass: UInt16
        public var ttl: UInt32
        /// Where the record starts, and its RDATA.
        public var start: Int
        public var rdata: Range<Int>
    }

    /// The question (name, type, class) and where the first record starts.
    public func question() -> (name: [UInt8], type: UInt16, rclass: UInt16, end: Int)? {
        guard count(0) == 1, let (n, e) = name(at: WireLimits.headerLength), let t = u16(e), let c = u16(e + 2) else { return nil }
        return (n, t, c, e + 4)
    }

    /// Every record after the question section, in order; nil when the message is malformed.
    public func records() -> [Record]? {
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
