/// The TSIG record (RFC 8945 §4.2) as it is on the wire: read from a received message, and
/// written after a message is signed. The MAC itself is computed by the transfer code (it
/// needs a crypto library); this file knows only the record's bytes.
public struct TSIGRecord: Sendable, Equatable {
    /// The key's name (the record's owner), lower case.
    public var key: [UInt8]
    public var algorithm: [UInt8]
    public var timeSigned: UInt64
    public var fudge: UInt16
    public var mac: [UInt8]
    public var originalID: UInt16
    public var error: UInt16
    public var other: [UInt8]
    /// Where the record starts in the message.
    public var start: Int

    public enum Found: Sendable, Equatable {
        /// The message has no TSIG record.
        case none
        case record(TSIGRecord)
        /// A TSIG record elsewhere than last, more than one, or one that does not parse.
        case malformed
    }

    /// The message's TSIG record, which must be its last additional record and its only one
    /// (RFC 8945 §5.1).
    public static func find(in message: [UInt8]) -> Found {
        let reader = MessageReader(message)
        guard reader.count(3) > 0 else { return .none }
        guard let records = reader.records() else { return .none }
        let tsig = RRType.tsig.rawValue
        guard let last = records.last, last.type == tsig else { return records.contains { $0.type == tsig } ? .malformed : .none }
        guard records.dropLast().allSatisfy({ $0.type != tsig }), let (algorithm, e) = reader.name(at: last.rdata.lowerBound) else {
            return .malformed
        }
        var o = e
        guard let hi = reader.u16(o), let lo = reader.u32(o + 2), let fudge = reader.u16(o + 6), let macSize = reader.u16(o + 8),
            o + 10 + Int(macSize) + 6 <= last.rdata.upperBound
        else { return .malformed }
        let mac = Array(message[(o + 10)..<(o + 10 + Int(macSize))])
        o += 10 + Int(macSize)
        guard let original = reader.u16(o), let error = reader.u16(o + 2), let otherLength = reader.u16(o + 4),
            o + 6 + Int(otherLength) == last.rdata.upperBound
        else { return .malformed }
        return .record(
            TSIGRecord(
                key: last.name, algorithm: algorithm, timeSigned: UInt64(hi) << 32 | UInt64(lo), fudge: fudge, mac: mac,
                originalID: original, error: error, other: Array(message[(o + 6)..<(o + 6 + Int(otherLength))]), start: last.start))
    }

    /// The message as it was before it was signed: no TSIG record, one additional record fewer,
    /// the original ID (what the MAC covers, RFC 8945 §4.3.1).
    public func unsignedMessage(_ message: [UInt8]) -> [UInt8] {
        var m = Array(message[0..<start])
        m[0] = UInt8(originalID >> 8)
        m[1] = UInt8(originalID & 255)
        let ar = (Int(m[10]) << 8 | Int(m[11])) - 1
        m[10] = UInt8(ar >> 8)
        m[11] = UInt8(ar & 255)
        return m
    }

    /// The TSIG variables the MAC covers after the message (RFC 8945 §4.3.3): name, class ANY,
    /// TTL 0, algorithm, time, fudge, error, other data.
    public static func variables(key: [UInt8], algorithm: [UInt8], time: UInt64, fudge: UInt16, error: UInt16, other: [UInt8]) -> [UInt8] {
        var v = key + classAnyTTL0 + algorithm + time48(time)
        append16(&v, fudge)
        append16(&v, error)
        append16(&v, UInt16(other.count))
        return v + other
    }

    /// The timers alone: what the later messages of a signed transfer cover (RFC 8945 §5.3.1).
    public static func timers(time: UInt64, fudge: UInt16) -> [UInt8] {
        var v = time48(time)
        append16(&v, fudge)
        return v
    }

    /// Appends a TSIG record to a message (whose ID is the original ID) and counts it in the
    /// additional section. `mac` empty: an unsigned error answer (BADKEY, BADSIG).
    public static func append(
        to message: inout [UInt8], key: [UInt8], algorithm: [UInt8], time: UInt64, fudge: UInt16, mac: [UInt8], error: UInt16,
        other: [UInt8]
    ) {
        var rdata = algorithm + time48(time)
        append16(&rdata, fudge)
        append16(&rdata, UInt16(mac.count))
        rdata += mac
        rdata += [message[0], message[1]]
        append16(&rdata, error)
        append16(&rdata, UInt16(other.count))
        rdata += other
        message += key
        append16(&message, RRType.tsig.rawValue)
        message += classAnyTTL0
        append16(&message, UInt16(rdata.count))
        message += rdata
        let ar = (Int(message[10]) << 8 | Int(message[11])) + 1
        message[10] = UInt8(ar >> 8)
        message[11] = UInt8(ar & 255)
    }

    /// Class ANY and TTL 0, as every TSIG record has them.
    static let classAnyTTL0: [UInt8] = [0, 255, 0, 0, 0, 0]

    /// A 48-bit time (RFC 8945 §4.2: seconds since the epoch).
    public static func time48(_ t: UInt64) -> [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: t >> (40 - 8 * UInt64($0))) } }

    static func append16(_ out: inout [UInt8], _ v: UInt16) {
        out.append(UInt8(v >> 8))
        out.append(UInt8(v & 255))
    }
}
