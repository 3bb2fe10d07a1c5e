import DNSWire
import Listings

/// What must hold for any packet, however hostile, answered against any snapshot: checked on
/// every input by the packet fuzz target (Fuzz/PacketResponderFuzz.swift) and by the test that
/// replays its corpus. A violation stops the process (precondition), naming what broke.
public enum AnswerInvariants {
    /// Parses `input` and answers it over UDP and over TCP, from `client`.
    public static func check(_ input: [UInt8], snapshot: ServingSnapshot, client: ClientAddress = .v4(0x7F00_0001)) {
        let n = min(input.count, WireLimits.maxTCPMessage)
        let parsed = input.withUnsafeBytes { QueryParser.parse(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        if case .success(let q) = parsed {
            precondition(q.questionEnd <= n && q.messageEnd <= n, "the parse reaches past the packet")
            precondition(q.questionNameOffset + q.questionNameLength + 4 == q.questionEnd, "the question's parts do not add up")
            precondition(q.tsigOffset.map { $0 >= q.questionEnd && $0 < q.messageEnd } ?? true, "a TSIG record outside the records")
            _ = input.withUnsafeBytes { DomainName.text(fromWire: $0, at: q.questionNameOffset) }
        }
        var buffer = [UInt8](repeating: 0, count: WireLimits.maxTCPMessage)
        for overTCP in [false, true] {
            buffer.replaceSubrange(0..<n, with: input[0..<n])
            let summary = buffer.withUnsafeMutableBytes {
                Responder().respond(packet: $0, length: n, overTCP: overTCP, client: client, snapshot: snapshot)
            }
            guard summary.length > 0 else {
                // Nothing sent: only a packet that is not a query (too short, or a response) or
                // an ACL's ignore may go unanswered.
                if case .success = parsed { precondition(ignored(input, snapshot, client), "a query went unanswered") }
                continue
            }
            let answer = Array(buffer[0..<summary.length])
            checkAnswer(answer, to: input, parsed: parsed, overTCP: overTCP)
        }
    }

    static func ignored(_ input: [UInt8], _ snapshot: ServingSnapshot, _ client: ClientAddress) -> Bool {
        snapshot.globalACL != nil || snapshot.zones.contains { $0.acl != nil }
    }

    static func checkAnswer(_ answer: [UInt8], to input: [UInt8], parsed: Result<Query, QueryRejection>, overTCP: Bool) {
        precondition(answer.count >= WireLimits.headerLength, "an answer shorter than a header")
        precondition(answer[0] == input[0] && answer[1] == input[1], "the answer's ID is not the query's")
        precondition(answer[2] & 0x80 != 0, "an answer without QR")
        var limit = overTCP ? WireLimits.maxTCPMessage : WireLimits.classicUDPPayload
        if !overTCP, case .success(let q) = parsed, q.edns.present {
            limit = max(WireLimits.classicUDPPayload, min(Int(q.edns.udpPayloadSize), WireLimits.advertisedUDPPayload))
        }
        precondition(answer.count <= limit, "an answer of \(answer.count) octets over the limit of \(limit)")
        let reader = MessageReader(answer)
        if reader.count(0) == 1 {
            guard let records = reader.records(), let q = reader.question() else { preconditionFailure("an answer that does not parse") }
            let end = records.last?.rdata.upperBound ?? q.end
            precondition(end == answer.count, "octets after the answer's last record")
        } else {
            precondition(reader.count(0) == 0 && reader.count(1) == 0 && reader.count(2) == 0, "records without a question")
        }
        if case .success(let q) = parsed {
            precondition(reader.count(0) == 1, "the question is not echoed")
            precondition(answer.count >= q.questionEnd && answer[12..<q.questionEnd] == input[12..<q.questionEnd], "the question echoed differs")
        }
    }
}
