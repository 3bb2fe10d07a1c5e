import Crypto
import DNSWire

/// A TSIG key ready to sign and verify with (RFC 8945, HMAC-SHA256 only).
struct TSIGKey: Sendable {
    /// Absolute wire form, lower case: how the key is named in TSIG records and MACs.
    let name: [UInt8]
    let text: String
    let bytes: [UInt8]
    var secret: SymmetricKey { SymmetricKey(data: bytes) }

    static let algorithm: [UInt8] = [11] + Array("hmac-sha256".utf8) + [0]

    init(name text: String, secret: [UInt8]) {
        name = (try? DomainName.wire(fromText: text, lowercase: true)) ?? [0]
        self.text = text
        bytes = secret
    }
}

/// TSIG error codes (RFC 8945 §3).
enum TSIGCode: UInt16 {
    case noError = 0
    case badSig = 16
    case badKey = 17
    case badTime = 18
}

enum TSIG {
    static let fudge: UInt16 = 300

    /// The message's TSIG record, nil when it has none or it is malformed.
    static func find(_ message: [UInt8]) -> TSIGRecord? {
        if case .record(let t) = TSIGRecord.find(in: message) { return t }
        return nil
    }

    /// The message as it was before it was signed.
    static func unsigned(_ message: [UInt8], _ t: TSIGRecord) -> [UInt8] { t.unsignedMessage(message) }

    static func time48(_ t: UInt64) -> [UInt8] { TSIGRecord.time48(t) }
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
            h.update(data: TSIGRecord.timers(time: time, fudge: fudge))
        } else {
            h.update(data: TSIGRecord.variables(key: key.name, algorithm: TSIGKey.algorithm, time: time, fudge: fudge, error: error, other: other))
        }
        return Array(h.finalize())
    }

    /// Appends a TSIG record to `message` (its ID is the original ID). `mac` empty: an unsigned
    /// error answer (BADKEY, BADSIG).
    static func appendRecord(_ message: inout [UInt8], keyName: [UInt8], time: UInt64, mac: [UInt8], error: UInt16, other: [UInt8]) {
        TSIGRecord.append(to: &message, key: keyName, algorithm: TSIGKey.algorithm, time: time, fudge: fudge, mac: mac, error: error, other: other)
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
        let t: TSIGRecord
        switch TSIGRecord.find(in: message) {
        case .none: return .unsigned
        case .malformed: return .malformed
        case .record(let r): t = r
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
        input += t.unsignedMessage(message)
        input += TSIGRecord.variables(key: key.name, algorithm: TSIGKey.algorithm, time: t.timeSigned, fudge: t.fudge, error: t.error, other: t.other)
        return input
    }
}
