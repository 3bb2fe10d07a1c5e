/// EDNS(0) state of a query, from its OPT record (RFC 6891 §6.1.3).
public struct EDNS: Sendable, Equatable {
    public var present: Bool
    public var version: UInt8
    /// The requestor's UDP payload size, as sent (values below 512 are treated as 512 by callers).
    public var udpPayloadSize: UInt16
    public var dnssecOK: Bool

    public static let absent = EDNS(present: false, version: 0, udpPayloadSize: 0, dnssecOK: false)

    public init(present: Bool, version: UInt8, udpPayloadSize: UInt16, dnssecOK: Bool) {
        self.present = present
        self.version = version
        self.udpPayloadSize = udpPayloadSize
        self.dnssecOK = dnssecOK
    }
}

/// A received query: a view of where things are in the packet, checked once, nothing copied.
/// The question name stays in the packet at `questionNameOffset`, exactly as the client sent it
/// (so a 0x20-randomised case is echoed back as it came).
public struct Query: Sendable, Equatable {
    public var id: UInt16
    public var opcode: Opcode
    public var recursionDesired: Bool
    public var checkingDisabled: Bool
    public let questionNameOffset = WireLimits.headerLength
    /// Wire length of the question name, including the root byte.
    public var questionNameLength: Int
    /// Number of labels, the root excluded.
    public var labelCount: Int
    public var type: RRType
    public var `class`: RRClass
    /// First byte after the question section: where answers start in a response built in place.
    public var questionEnd: Int
    public var edns: EDNS
    /// Offset of a TSIG record (the last additional record), if the query carries one.
    public var tsigOffset: Int?
    /// End of the last record parsed.
    public var messageEnd: Int
}

/// Why a packet was not turned into a query. Counted by the transport.
public enum QueryRejection: Error, Sendable, Equatable {
    /// Not worth an answer: shorter than a header, or a response (QR=1; answering those invites loops).
    case drop
    /// The header parsed but the rest did not: answer FORMERR (RFC 1035 §4.1.1).
    case formatError(questionEnd: Int?)
    /// An opcode we do not implement: answer NOTIMP with the opcode echoed.
    case notImplemented(questionEnd: Int?)
}

public enum QueryParser {
    /// Parses a query in place. Only the header and question are interpreted fully; the other
    /// sections are walked to find the OPT and TSIG records and to reject malformed packets.
    public static func parse(_ p: UnsafeRawBufferPointer) -> Result<Query, QueryRejection> {
        guard p.count >= WireLimits.headerLength else { return .failure(.drop) }
        let flags1 = p[Header.flags1]
        if flags1 & Header.qr != 0 { return .failure(.drop) }
        let opcode = Opcode(rawValue: (flags1 & Header.opcodeMask) >> 3)
        // NOTIFY joins QUERY here when zone transfers arrive.
        let implemented = opcode == .query

        guard p.readUInt16(at: Header.qdCount) == 1 else {
            return .failure(implemented ? .formatError(questionEnd: nil) : .notImplemented(questionEnd: nil))
        }
        // Question name: no compression is possible here (nothing precedes it but the header).
        var o = WireLimits.headerLength
        var labels = 0
        while true {
            guard o < p.count else { return .failure(bad(implemented)) }
            let len = Int(p[o])
            if len == 0 { o += 1; break }
            if len > WireLimits.maxLabelLength { return .failure(bad(implemented)) }
            o += 1 + len
            labels += 1
            if o - WireLimits.headerLength + 1 > WireLimits.maxNameLength { return .failure(bad(implemented)) }
        }
        let nameLength = o - WireLimits.headerLength
        guard o + 4 <= p.count else { return .failure(bad(implemented)) }
        let qtype = RRType(p.readUInt16(at: o))
        let qclass = RRClass(p.readUInt16(at: o + 2))
        o += 4
        let questionEnd = o
        if !implemented { return .failure(.notImplemented(questionEnd: questionEnd)) }

        let an = Int(p.readUInt16(at: Header.anCount))
        let ns = Int(p.readUInt16(at: Header.nsCount))
        let ar = Int(p.readUInt16(at: Header.arCount))
        var edns = EDNS.absent
        var tsigOffset: Int? = nil
        let total = an + ns + ar
        var index = 0
        while index < total {
            let recordStart = o
            guard let afterName = DomainName.walk(p, at: o) else { return .failure(.formatError(questionEnd: questionEnd)) }
            o = afterName
            guard o + 10 <= p.count else { return .failure(.formatError(questionEnd: questionEnd)) }
            let rtype = RRType(p.readUInt16(at: o))
            let rclass = p.readUInt16(at: o + 2)
            let ttl = p.readUInt32(at: o + 4)
            let rdlength = Int(p.readUInt16(at: o + 8))
            o += 10
            guard o + rdlength <= p.count else { return .failure(.formatError(questionEnd: questionEnd)) }
            let inAdditional = index >= an + ns
            if rtype == .opt {
                // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
                guard inAdditional, !edns.present, p[recordStart] == 0 else {
                    return .failure(.formatError(questionEnd: questionEnd))
                }
                guard optionsWellFormed(p, from: o, length: rdlength) else {
                    return .failure(.formatError(questionEnd: questionEnd))
                }
                edns = EDNS(
                    present: true, version: UInt8(truncatingIfNeeded: ttl >> 16),
                    udpPayloadSize: rclass, dnssecOK: ttl & 0x8000 != 0)
            } else if rtype == .tsig {
                // RFC 8945 §5.1: TSIG must be the last record.
                guard inAdditional, index == total - 1 else { return .failure(.formatError(questionEnd: questionEnd)) }
                tsigOffset = recordStart
            }
            o += rdlength
            index += 1
        }
        return .success(
            Query(
                id: p.readUInt16(at: Header.id), opcode: opcode, recursionDesired: flags1 & Header.rd != 0,
                checkingDisabled: p[Header.flags2] & Header.cd != 0, questionNameLength: nameLength,
                labelCount: labels, type: qtype, class: qclass, questionEnd: questionEnd, edns: edns,
                tsigOffset: tsigOffset, messageEnd: o))
    }

    @inline(__always)
    private static func bad(_ implemented: Bool) -> QueryRejection {
        implemented ? .formatError(questionEnd: nil) : .notImplemented(questionEnd: nil)
    }

    private static func optionsWellFormed(_ p: UnsafeRawBufferPointer, from: Int, length: Int) -> Bool {
        var o = from
        let end = from + length
        while o < end {
            guard o + 4 <= end else { return false }
            let optLength = Int(p.readUInt16(at: o + 2))
            o += 4 + optLength
        }
        return o == end
    }
}
