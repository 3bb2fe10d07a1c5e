import Crypto
import DNSWire
import ZoneConfig

/// A TSIG key ready to sign and verify with (RFC 8945, HMAC-SHA256 only).
struct TSIGKey: Sendable {
    /// Absolute wire form, lower case: how the key is named in TSIG records and MACs.
    let name: [UInt8]
    let text: String
    let bytes: [UInt8]
    var secret: SymmetricKey { SymmetricKey(data: bytes) }

    static let algorithm: [UInt8] = [11] + Array("hmac-sha256".utf8) + [0]

    init(_ config: TSIGKeyConfig) {
        name = (try? DomainName.wire(fromText: config.name, lowercase: true)) ?? [0]
        text = config.name
        bytes = config.secret
    }
}

/// TSIG error codes (RFC 8945 §3).
enum TSIGCode: UInt16 {
    case noError = 0
    case badSig = 16
    case badKey = 17
    case badTime = 18
}

/// A TSIG record as received.
struct TSIGRecord {
    var key: [UInt8]
    var algorithm: [UInt8]
    var timeSigned: UInt64
    var fudge: UInt16
    var mac: [UInt8]
    var originalID: UInt16
    var error: UInt16
    var other: [UInt8]
    /// Where the record starts in the message.
    var start: Int
}

enum TSIG {
    static let fudge: UInt16 = 300
    static let type: UInt16 = 250

    /// The message's TSIG record (the last additional record), nil when it has none or it is
    /// malformed.
    static func find(_ message: [UInt8]) -> TSIGRecord? {
        let reader = MessageReader(message)
        guard reader.count(3) > 0, let records = reader.records(), let last = records.last, last.type == type,
            records.dropLast().allSatisfy({ $0.type != type })
        else { return nil }
        var o = last.rdata.lowerBound
        guard let (algorithm, e) = reader.name(at: o) else { return nil }
        o = e
        guard let hi = reader.u16(o), let lo = reader.u32(o + 2), let fudge = reader.u16(o + 6), let macSize = reader.u16(o + 8),
            o + 10 + Int(macSize) + 6 <= last.rdata.upperBound
        else { return nil }
        let mac = Array(message[(o + 10)..<(o + 10 + Int(macSize))])
        o += 10 + Int(macSize)
        guard let original = reader.u16(o), let error = reader.u16(o + 2), let otherLength = reader.u16(o + 4),
            o + 6 + Int(otherLength) == last.rdata.upperBound
        else { return nil }
        return TSIGRecord(
            key: last.name, algorithm: algorithm, timeSigned: UInt64(hi) << 32 | UInt64(lo), fudge: fudge, mac: mac,
            originalID: original, error: error, other: Array(message[(o + 6)..<(o + 6 + Int(otherLength))]), start: last.start)
    }

    /// The message as it was before it was signed: no TSIG record, one additional record fewer,
    /// the original ID.
    static func unsigned(_ message: [UInt8], _ t: TSIGRecord) -> [UInt8] {
        var m = Array(message[0..<t.start])
        m[0] = UInt8(t.originalID >> 8)
        m[1] = UInt8(t.originalID & 255)
        let ar = (Int(m[10]) << 8 | Int(m[11])) - 1
        m[10] = UInt8(ar >> 8)
        m[11] = UInt8(ar & 255)
        return m
    }

    static func time48(_ t: UInt64) -> [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: t >> (40 - 8 * UInt64($0))) } }
    static func u16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 255)] }

    /// RFC 8945 §4.3: the MAC over the prior MAC (answers), the unsigned message and the TSIG
    /// variables (or the timers only, for the later messages of a transfer, §5.3.1).
    static func mac(
        _ key: TSIGKey, prior: [UInt8]?, message: [UInt8], time: UInt64, error: UInt16, other: [UInt8], timersOnly: Bool
    ) -> [UInt8] {
        var h = HMAC<SHA256>(key: key.secret)
        if let prior { h.update(data: u16(UInt16(prior.count)) + prior) }
        h.update(data: message)
        if timersOnly {
            h.update(data: time48(time) + u16(fudge))
        } else {
            h.update(data: key.name + [0, 255, 0, 0, 0, 0] + TSIGKey.algorithm + time48(time) + u16(fudge) + u16(error))
            h.update(data: u16(UInt16(other.count)) + other)
        }
        return Array(h.finalize())
    }

    /// Appends a TSIG record to `message` (its ID is the original ID). `mac` empty: an unsigned
    /// error answer (BADKEY, BADSIG).
    static func appendRecord(_ message: inout [UInt8], keyName: [UInt8], time: UInt64, mac: [UInt8], error: UInt16, other: [UInt8]) {
        var rdata = TSIGKey.algorithm + time48(time) + u16(fudge) + u16(UInt16(mac.count)) + mac
        rdata += [message[0], message[1]] + u16(error) + u16(UInt16(other.count)) + other
        message += keyName + u16(type) + [0, 255, 0, 0, 0, 0] + u16(UInt16(rdata.count)) + rdata
        let ar = (Int(message[10]) << 8 | Int(message[11])) + 1
        message[10] = UInt8(ar >> 8)
        message[11] = UInt8(ar & 255)
    }

    /// Signs `message` in place; returns the MAC (the next message's prior MAC).
    @discardableResult
    static func sign(
        _ message: inout [UInt8], key: TSIGKey, prior: [UInt8]?, time: UInt64, error: UInt16 = 0, other: [UInt8] = [],
        timersOnly: Bool = false
    ) -> [UInt8] {
        let m = mac(key, prior: prior, message: message, time: time, error: error, other: other, timersOnly: timersOnly)
        appendRecord(&message, keyName: key.name, time: time, mac: m, error: error, other: other)
        return m
    }

    enum Verdict {
        case unsigned
        case valid(TSIGKey, TSIGRecord)
        /// The answer is NOTAUTH with this TSIG error; signed with the key for BADTIME only.
        case failed(TSIGCode, TSIGKey?, TSIGRecord)
        case malformed
    }

    /// Checks a signed request (RFC 8945 §5.2: key, then MAC, then time) or, with `prior`, a
    /// signed answer to our request.
    static func verify(_ message: [UInt8], keys: [[UInt8]: TSIGKey], prior: [UInt8]? = nil, now: UInt64) -> Verdict {
        guard MessageReader(message).count(3) > 0 else { return .unsigned }
        guard let t = find(message) else {
            // A TSIG record somewhere else, or a broken one.
            let hasTSIG = MessageReader(message).records()?.contains { $0.type == type } ?? false
            return hasTSIG ? .malformed : .unsigned
        }
        guard let key = keys[t.key], t.algorithm == TSIGKey.algorithm else { return .failed(.badKey, nil, t) }
        // Truncated MACs (RFC 8945 §5.2.2.1) are not accepted: the full 32 octets, compared in constant time.
        guard t.mac.count == SHA256.byteCount, HMAC<SHA256>.isValidAuthenticationCode(t.mac, authenticating: macInput(key, prior, message, t), using: key.secret)
        else { return .failed(.badSig, nil, t) }
        let skew = now > t.timeSigned ? now - t.timeSigned : t.timeSigned - now
        guard skew <= UInt64(t.fudge) else { return .failed(.badTime, key, t) }
        return .valid(key, t)
    }

    /// The bytes the MAC of `t` covers (for the constant-time check).
    static func macInput(_ key: TSIGKey, _ prior: [UInt8]?, _ message: [UInt8], _ t: TSIGRecord) -> [UInt8] {
        var input: [UInt8] = []
        if let prior { input += u16(UInt16(prior.count)) + prior }
        input += unsigned(message, t)
        input += key.name + [0, 255, 0, 0, 0, 0] + TSIGKey.algorithm + time48(t.timeSigned) + u16(t.fudge) + u16(t.error)
        input += u16(UInt16(t.other.count)) + t.other
        return input
    }
}
