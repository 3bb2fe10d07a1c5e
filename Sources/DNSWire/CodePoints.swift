/// DNS code points as open types: every 16-bit value is representable, so a parser never fails
/// on a type it does not know (RFC 3597), and unknown values print as `TYPE65534`.
public struct RRType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RRType(1)
    public static let ns = RRType(2)
    public static let cname = RRType(5)
    public static let soa = RRType(6)
    public static let ptr = RRType(12)
    public static let hinfo = RRType(13)
    public static let mx = RRType(15)
    public static let txt = RRType(16)
    public static let aaaa = RRType(28)
    public static let opt = RRType(41)
    public static let tsig = RRType(250)
    public static let ixfr = RRType(251)
    public static let axfr = RRType(252)
    public static let any = RRType(255)
    public static let caa = RRType(257)

    static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
        41: "OPT", 43: "DS", 46: "RRSIG", 48: "DNSKEY", 64: "SVCB", 65: "HTTPS", 250: "TSIG",
        251: "IXFR", 252: "AXFR", 255: "ANY", 257: "CAA",
    ]

    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }

    /// Parses `A`, `txt` or `TYPE65534`.
    public init?(name: String) {
        let upper = name.uppercased()
        if let hit = Self.names.first(where: { $0.value == upper }) {
            self.rawValue = hit.key
        } else if upper.hasPrefix("TYPE"), let v = UInt16(upper.dropFirst(4)) {
            self.rawValue = v
        } else {
            return nil
        }
    }
}

public struct RRClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let `in` = RRClass(1)
    public static let chaos = RRClass(3)
    public static let none = RRClass(254)
    public static let any = RRClass(255)

    public var description: String {
        switch rawValue {
        case 1: return "IN"
        case 3: return "CH"
        case 254: return "NONE"
        case 255: return "ANY"
        default: return "CLASS\(rawValue)"
        }
    }
}

public struct Opcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
    public static let query = Opcode(rawValue: 0)
    public static let notify = Opcode(rawValue: 4)
    public static let update = Opcode(rawValue: 5)
    public var description: String {
        switch rawValue {
        case 0: return "QUERY"
        case 4: return "NOTIFY"
        case 5: return "UPDATE"
        default: return "OPCODE\(rawValue)"
        }
    }
}

/// Response codes, including the extended ones carried partly in the OPT TTL (RFC 6891).
public struct RCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let noError = RCode(rawValue: 0)
    public static let formErr = RCode(rawValue: 1)
    public static let servFail = RCode(rawValue: 2)
    public static let nxDomain = RCode(rawValue: 3)
    public static let notImp = RCode(rawValue: 4)
    public static let refused = RCode(rawValue: 5)
    public static let notAuth = RCode(rawValue: 9)
    public static let badVers = RCode(rawValue: 16)

    public var description: String {
        switch rawValue {
        case 0: return "NOERROR"
        case 1: return "FORMERR"
        case 2: return "SERVFAIL"
        case 3: return "NXDOMAIN"
        case 4: return "NOTIMP"
        case 5: return "REFUSED"
        case 9: return "NOTAUTH"
        case 16: return "BADVERS"
        default: return "RCODE\(rawValue)"
        }
    }
}
