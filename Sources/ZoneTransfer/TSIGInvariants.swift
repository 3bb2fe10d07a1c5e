import DNSWire

/// What must hold for any message, however hostile, given to TSIG: checked on every input by the
/// TSIG fuzz target (Fuzz/TSIGFuzz.swift) and by the test that replays its corpus. A violation
/// stops the process (precondition), naming what broke.
enum TSIGInvariants {
    static let key = TSIGKey(name: "fuzz-key", secret: Array(0..<32))
    static let keys = [key.name: key]
    static let now: UInt64 = 1_800_000_000

    static func check(_ message: [UInt8]) {
        // Any verdict but a valid one for input no key signed; the record's parts lie in it.
        switch TSIG.verify(message, keys: keys, now: now) {
        case .valid(_, let t), .failed(_, _, let t):
            precondition(t.start >= WireLimits.headerLength && t.start < message.count, "a TSIG record outside the message")
            precondition(t.unsignedMessage(message).count == t.start, "the unsigned message is not the octets before the record")
        case .unsigned, .malformed: break
        }
        // A query signed here verifies, with its MAC, and stops verifying when any octet of it
        // changes.
        guard message.count >= WireLimits.headerLength, case .success(let q) = message.withUnsafeBytes({ QueryParser.parse($0) }),
            q.tsigOffset == nil, message.count < 60_000
        else { return }
        let request = Array(message[0..<q.messageEnd])
        var signed = request
        let mac = TSIG.sign(&signed, key: key, prior: nil, time: now)
        guard case .valid(_, let t) = TSIG.verify(signed, keys: keys, now: now + 10) else { preconditionFailure("a signed query does not verify") }
        precondition(t.mac == mac && t.unsignedMessage(signed) == request, "the verified record is not the one signed")
        // (Not the ID: RFC 8945 §4.3.1 lets a forwarder change it; the MAC covers the original.)
        let at = 2 + (Int(mac[0]) * 256 + Int(mac[1])) % (request.count - 2)
        var changed = signed
        changed[at] ^= 0x01
        if case .valid = TSIG.verify(changed, keys: keys, now: now) { preconditionFailure("a changed message still verifies") }
        guard case .failed(.badTime, _, _) = TSIG.verify(signed, keys: keys, now: now + 301) else {
            preconditionFailure("a signature outside the fudge is not BADTIME")
        }
    }
}
