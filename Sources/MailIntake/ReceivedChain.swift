import Foundation
import ListingKeys

/// One `Received:` field (RFC 5321 §4.4): who connected (address, and the host name the
/// receiver gave it) and who received.
public struct ReceivedHop: Sendable, Equatable {
    /// The connecting client's address, as the receiving server wrote it.
    public var address: ListingKey?
    /// The address as written (`203.0.113.7`, `2001:db8::7`).
    public var addressText: String?
    /// The client's host name: the reverse-DNS name in the comment, else its HELO name.
    public var host: String?
    /// The receiving server (`by`).
    public var by: String?
    public var raw: String

    /// Reads the forms real servers write: Postfix `from helo (rdns [addr])`, Exim
    /// `from rdns ([addr] helo=x)`, Sendmail `from helo (rdns [addr] (may be forged))`,
    /// Exchange `from host (addr) by`, qmail `from unknown (HELO x) (addr)`, and `IPv6:` literals.
    public init(_ value: String) {
        raw = value
        // The `from` clause: up to ` by ` (or the whole field when there is none).
        guard let fromRange = value.range(of: "from ", options: .caseInsensitive) else { return }
        let byRange = value.range(of: " by ", options: .caseInsensitive, range: fromRange.upperBound..<value.endIndex)
        let clause = String(value[fromRange.upperBound..<(byRange?.lowerBound ?? value.endIndex)])
        if let byRange {
            let rest = value[byRange.upperBound...].split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ";" || $0 == "(" })
            by = rest.first.map { String($0).lowercased() }
        }
        let helo = clause.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init)
        // The address the receiver saw is in the comment, where the client has no say: a
        // bracketed literal there first, then a bare one; outside it only when there is no
        // comment (a HELO of `[192.0.2.1]` is the client's own claim).
        var candidates: [String] = []
        func literals(_ text: Substring) {
            var i = text.startIndex
            while let open = text[i...].firstIndex(of: "[") {
                guard let close = text[open...].firstIndex(of: "]") else { break }
                candidates.append(String(text[text.index(after: open)..<close]))
                i = text.index(after: close)
            }
            for token in text.split(whereSeparator: { " \t()[]=,;".contains($0) }) { candidates.append(String(token)) }
        }
        if let open = clause.firstIndex(of: "(") { literals(clause[open...]) } else { literals(clause[...]) }
        for c in candidates {
            var text = c.trimmingWhitespace()
            if text.lowercased().hasPrefix("ipv6:") { text = String(text.dropFirst(5)) }
            guard let key = try? KeySpec(parsing: text).key else { continue }
            switch key {
            case .ipv4(let f, let l) where f == l && text.split(separator: ".").count == 4:
                address = key
            case .ipv6(_, let n) where n == 128 && text.contains(":"):
                address = key
            default: continue
            }
            addressText = text
            break
        }
        // The client's verified name (never its HELO, which it chooses itself): the first word
        // of the comment (Postfix, Sendmail), unless "unknown" or an address; Exim writes it
        // first, before `([addr] helo=...)`.
        if let open = clause.firstIndex(of: "(") {
            let words = clause[clause.index(after: open)...].split(whereSeparator: { " \t()[]".contains($0) })
            if let w = words.first.map({ String($0).lowercased() }), Self.isHostName(w) {
                host = w.hasSuffix(".") ? String(w.dropLast()) : w
            } else if clause.lowercased().contains("helo="), let h = helo?.lowercased(), Self.isHostName(h) {
                host = h
            }
        }
    }

    static func isHostName(_ s: String) -> Bool {
        s.contains(".") && s != "unknown" && s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
            && !s.allSatisfy { $0.isNumber || $0 == "." }
    }
}

/// The province's own mail relays (`[intake] trusted_relays`): addresses, CIDRs and host
/// names (`.example.vn` for every host below it).
public struct TrustedRelays: Sendable {
    let cover: KeyCover
    let names: Set<String>
    let suffixes: [String]

    public init(_ entries: [String]) throws(KeyError) {
        var keys: [ListingKey] = []
        var names = Set<String>()
        var suffixes: [String] = []
        for e in entries {
            let t = e.trimmingWhitespace().lowercased()
            if t.hasPrefix(".") {
                suffixes.append(t)
            } else if let k = try? KeySpec(parsing: t).key, case .domain = k {
                names.insert(t)
            } else {
                keys.append(try KeySpec(parsing: t).key)
            }
        }
        cover = KeyCover(keys)
        self.names = names
        self.suffixes = suffixes
    }

    public func trusts(_ hop: ReceivedHop) -> Bool {
        if let a = hop.address, cover.covers(a) { return true }
        guard let h = hop.host else { return false }
        return names.contains(h) || suffixes.contains { h.hasSuffix($0) }
    }

    /// The registrable domains of the relays named by host name (never reported).
    public var hostNames: [String] { Array(names) + suffixes.map { String($0.dropFirst()) } }
}

/// Where the spam came from, SpamAssassin's `trusted_networks` way: from the newest hop down,
/// a hop whose client is a trusted relay passes the message on; the first hop that a trusted
/// relay (or the top receiver) received from an untrusted client names the source. The hops
/// below it were written by machines nobody vouches for and are ignored, as SpamCop does.
public enum SourceFinder {
    public enum Outcome: Sendable, Equatable {
        case source(ListingKey, hop: ReceivedHop)
        /// The first untrusted client has an address that is never reported (private, ...).
        case unreportable(String, hop: ReceivedHop)
        case none(String)
    }

    public static func source(_ received: [String], trusted: TrustedRelays) -> Outcome {
        let hops = received.map(ReceivedHop.init)
        guard !hops.isEmpty else { return .none("no Received fields") }
        for hop in hops {
            if trusted.trusts(hop) { continue }
            guard let a = hop.address else {
                // A hop without a client address (a local submission, `from userid`): the next
                // one down is no more trustworthy than this; stop.
                return .none("the first untrusted hop names no client address")
            }
            if let why = SpecialAddresses.why(a) { return .unreportable("\(hop.addressText ?? "") is \(why)", hop: hop) }
            return .source(a, hop: hop)
        }
        return .none("every hop is a trusted relay")
    }
}

/// Addresses that never identify a spam source on the Internet.
public enum SpecialAddresses {
    static let v4: [(UInt32, Int, String)] = [
        (0x0000_0000, 8, "unspecified (0/8)"), (0x0A00_0000, 8, "private (RFC 1918)"), (0x6440_0000, 10, "CGNAT (RFC 6598)"),
        (0x7F00_0000, 8, "loopback"), (0xA9FE_0000, 16, "link-local"), (0xAC10_0000, 12, "private (RFC 1918)"),
        (0xC0A8_0000, 16, "private (RFC 1918)"), (0xE000_0000, 3, "multicast or reserved"),
    ]

    public static func why(_ key: ListingKey) -> String? {
        switch key {
        case .ipv4(let a, _):
            for (net, bits, why) in v4 where a & (UInt32.max << (32 - bits)) == net { return why }
            return nil
        case .ipv6(let a, _):
            if a == 0 { return "unspecified" }
            if a == 1 { return "loopback" }
            if a >> 121 == 0x7E { return "unique local (ULA)" }
            if a >> 118 == 0x3FA { return "link-local" }
            if a >> 120 == 0xFF { return "multicast" }
            if a >> 32 == 0xFFFF { return why(.ipv4(first: UInt32(truncatingIfNeeded: a), last: UInt32(truncatingIfNeeded: a))) }
            return nil
        default: return nil
        }
    }
}
