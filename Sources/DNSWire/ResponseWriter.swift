/// Builds a response in the buffer that holds the query (as NSD does): the header and question
/// stay, the sections are appended after the question. Nothing is allocated; every append checks
/// the size limit first and reports whether it fitted, so a caller can set TC instead of
/// sending a partial RRset.
public struct ResponseWriter {
    public let buffer: UnsafeMutableRawBufferPointer
    /// The most octets the response may use (client's UDP size, 65535 over TCP, or the buffer size).
    public let limit: Int
    public var position: Int

    @inlinable
    public init(buffer: UnsafeMutableRawBufferPointer, limit: Int, position: Int) {
        self.buffer = buffer
        self.limit = min(limit, buffer.count)
        self.position = position
    }

    @inlinable public func fits(_ octets: Int) -> Bool { position + octets <= limit }

    @inlinable public mutating func rewind(to offset: Int) { position = offset }

    @inlinable
    public mutating func append(_ byte: UInt8) {
        buffer[position] = byte
        position += 1
    }

    @inlinable
    public mutating func append(_ value: UInt16) {
        buffer.writeUInt16(value, at: position)
        position += 2
    }

    @inlinable
    public mutating func append(_ value: UInt32) {
        buffer.writeUInt32(value, at: position)
        position += 4
    }

    @inlinable
    public mutating func append(bytes: UnsafeRawBufferPointer) {
        if bytes.isEmpty { return }
        UnsafeMutableRawBufferPointer(rebasing: buffer[position..<(position + bytes.count)]).copyMemory(from: bytes)
        position += bytes.count
    }

    /// A compression pointer to an earlier offset (RFC 1035 §4.1.4).
    @inlinable
    public mutating func appendPointer(to offset: Int) {
        append(UInt16(0xC000) | UInt16(truncatingIfNeeded: offset))
    }

    /// Type, class, TTL and a placeholder RDLENGTH; returns where RDLENGTH sits, for `finishRecord`.
    @inlinable
    public mutating func appendRecordHeader(type: RRType, class: RRClass, ttl: UInt32) -> Int {
        append(type.rawValue)
        append(`class`.rawValue)
        append(ttl)
        let at = position
        append(UInt16(0))
        return at
    }

    @inlinable
    public func finishRecord(rdlengthAt at: Int) {
        buffer.writeUInt16(UInt16(truncatingIfNeeded: position - at - 2), at: at)
    }

    // MARK: header

    @inlinable public func setCount(_ offset: Int, _ value: Int) {
        buffer.writeUInt16(UInt16(truncatingIfNeeded: value), at: offset)
    }

    @inlinable public func count(_ offset: Int) -> Int { Int(buffer.readUInt16(at: offset)) }

    @inlinable public func incrementCount(_ offset: Int) { setCount(offset, count(offset) + 1) }

    /// Sets QR, keeps ID, opcode and RD; sets AA as asked, clears TC, RA, Z, AD; sets the RCODE
    /// (low four bits; the upper eight live in the OPT record).
    @inlinable
    public func setResponseFlags(authoritative: Bool, rcode: RCode, keepCD: Bool, truncated: Bool = false) {
        var f1 = buffer[Header.flags1] & (Header.opcodeMask | Header.rd)
        f1 |= Header.qr
        if authoritative { f1 |= Header.aa }
        if truncated { f1 |= Header.tc }
        buffer[Header.flags1] = f1
        let cd = keepCD ? buffer[Header.flags2] & Header.cd : 0
        buffer[Header.flags2] = cd | UInt8(truncatingIfNeeded: rcode.rawValue & 0x0F)
    }

    /// Appends an OPT record (RFC 6891 §6.1.2) advertising `payloadSize`, with the upper bits of
    /// `rcode`. Needs 11 octets: callers reserve them before filling the sections.
    @inlinable
    public mutating func appendOPT(payloadSize: UInt16, rcode: RCode) {
        append(UInt8(0))
        append(RRType.opt.rawValue)
        append(payloadSize)
        append(UInt8(truncatingIfNeeded: rcode.rawValue >> 4))
        append(UInt8(0))  // version 0
        append(UInt16(0))  // DO clear: we do not sign
        append(UInt16(0))  // no options
    }

    public static let optLength = 11
}
