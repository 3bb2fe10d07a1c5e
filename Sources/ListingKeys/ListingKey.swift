import DNSWire
import Glibc

/// What a listing is about (SPEC §2): an IPv4 range (an address and a CIDR are ranges too), an
/// IPv6 prefix, a domain (exactly, or with everything below it), or an e-mail address.
public enum ListingKey: Hashable, Sendable, CustomStringConvertible {
    case ipv4(first: UInt32, last: UInt32)
    case ipv6(address: UInt128, prefixLength: Int)
    /// Lower-cased presentation name without the trailing dot.
    case domain(name: String, subtree: Bool)
    /// Lower-cased address.
    case email(String)

    /// Canonical text: what `dump`, `lookup` and the store print and read back.
    public var description: String {
        switch self {
        case .ipv4(let first, let last):
            if first == last { return IPv4Text.format(first) }
            if let n = IPv4Text.prefixLength(first: first, last: last) { return "\(IPv4Text.format(first))/\(n)" }
            return "\(IPv4Text.format(first))-\(IPv4Text.format(last))"
        case .ipv6(let address, let length):
            let text = IPv6Text.format(address)
            return length == 128 ? text : "\(text)/\(length)"
        case .domain(let name, let subtree):
            return subtree ? "*.\(name)" : name
        case .email(let address):
            return address
        }
    }

    /// The zone family the key is published in.
    public var family: Family {
        switch self {
        case .ipv4, .ipv6: return .address
        case .domain: return .domain
        case .email: return .hashedAddress
        }
    }

    public enum Family: String, Sendable, CaseIterable {
        case address, domain, hashedAddress = "hashed-address"
    }
}

/// A key as written in a feed: the key, and whether it is an exclusion (`!key`).
public struct KeySpec: Hashable, Sendable, CustomStringConvertible {
    public var key: ListingKey
    public var excluded: Bool

    public init(key: ListingKey, excluded: Bool) {
        self.key = key
        self.excluded = excluded
    }

    public var description: String { (excluded ? "!" : "") + key.description }

    /// Parses every accepted form (SPEC §2). Nothing is guessed: `10.0.0.1/24` (host bits set),
    /// `1.2.3` (not an address), a reversed range or a malformed name is an error that says why.
    public init(parsing raw: String) throws(KeyError) {
        var text = Substring(raw.trimmingWhitespace())
        guard !text.isEmpty else { throw KeyError("empty key") }
        excluded = text.first == "!"
        if excluded { text = text.dropFirst().drop { $0 == " " || $0 == "\t" } }
        key = try Self.parseKey(String(text))
    }

    static func parseKey(_ text: String) throws(KeyError) -> ListingKey {
        if text.contains("@") { return try EmailSyntax.parse(text) }
        if text.contains(":") { return try IPv6Text.parseKey(text) }
        if let c = text.unicodeScalars.first, c.properties.numericType != nil || c == "0",
            text.unicodeScalars.allSatisfy({ "0123456789./-".unicodeScalars.contains($0) })
        {
            return try IPv4Text.parseKey(text)
        }
        return try DomainSyntax.parse(text)
    }
}

public struct KeyError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s.removeLast() }
        return s
    }
}

enum IPv4Text {
    /// Strict dotted quad via inet_pton (no shortened or octal forms).
    static func parse(_ text: String) -> UInt32? {
        var addr = in_addr()
        guard inet_pton(AF_INET, text, &addr) == 1 else { return nil }
        return UInt32(bigEndian: addr.s_addr)
    }

    static func prefixLength(first: UInt32, last: UInt32) -> Int? {
        let span = last &- first
        guard span != UInt32.max else { return first == 0 ? 0 : nil }
        let size = UInt64(span) + 1
        guard size & (size - 1) == 0, UInt64(first) & (size - 1) == 0 else { return nil }
        return 32 - size.trailingZeroBitCount
    }

    static func parseKey(_ text: String) throws(KeyError) -> ListingKey {
        if let dash = text.firstIndex(of: "-") {
            let a = String(text[..<dash])
            let b = String(text[text.index(after: dash)...])
            guard let first = parse(a) else { throw KeyError("\(quoted(a)) is not an IPv4 address") }
            guard let last = parse(b) else { throw KeyError("\(quoted(b)) is not an IPv4 address") }
            guard first <= last else { throw KeyError("range \(text) ends before it starts") }
            return .ipv4(first: first, last: last)
        }
        if let slash = text.firstIndex(of: "/") {
            let a = String(text[..<slash])
            guard let address = parse(a) else { throw KeyError("\(quoted(a)) is not an IPv4 address") }
            guard let n = Int(text[text.index(after: slash)...]), (0...32).contains(n) else {
                throw KeyError("prefix length in \(quoted(text)) must be 0 to 32")
            }
            let mask: UInt32 = n == 0 ? 0 : UInt32.max << (32 - n)
            guard address & ~mask == 0 else {
                throw KeyError("\(text) has host bits set; the network is \(format(address & mask))/\(n)")
            }
            return .ipv4(first: address, last: address | ~mask)
        }
        guard let a = parse(text) else { throw KeyError("\(quoted(text)) is not an IPv4 address") }
        return .ipv4(first: a, last: a)
    }
}

enum IPv6Text {
    static func parse(_ text: String) -> UInt128? {
        var addr = in6_addr()
        guard inet_pton(AF_INET6, text, &addr) == 1 else { return nil }
        return withUnsafeBytes(of: addr) { UInt128(bigEndian: $0.loadUnaligned(as: UInt128.self)) }
    }

    static func format(_ a: UInt128) -> String { AddressText.ipv6(a) }

    static func parseKey(_ text: String) throws(KeyError) -> ListingKey {
        var addressText = text
        var length = 128
        if let slash = text.firstIndex(of: "/") {
            addressText = String(text[..<slash])
            guard let n = Int(text[text.index(after: slash)...]), (0...128).contains(n) else {
                throw KeyError("prefix length in \(quoted(text)) must be 0 to 128")
            }
            length = n
        }
        guard let a = parse(addressText) else { throw KeyError("\(quoted(addressText)) is not an IPv6 address") }
        let mask: UInt128 = length == 0 ? 0 : UInt128.max << (128 - length)
        guard a & ~mask == 0 else {
            throw KeyError("\(text) has host bits set; the network is \(format(a & mask))/\(length)")
        }
        return .ipv6(address: a, prefixLength: length)
    }
}

enum DomainSyntax {
    /// Host-name rules (letters, digits, hyphen, and underscore, which mail senders do use),
    /// at least two labels, each 1-63 octets, not starting or ending with a hyphen.
    static func validName(_ name: String) -> String? {
        let lower = name.lowercased()
        let labels = lower.split(separator: ".", omittingEmptySubsequences: false)
        // An all-numeric top-level label is an address written as a name (RFC 3696 §2).
        guard labels.count >= 2, lower.utf8.count <= 253, let tld = labels.last,
            !tld.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { return nil }
        for l in labels {
            guard (1...WireLimits.maxLabelLength).contains(l.utf8.count), l.first != "-", l.last != "-",
                l.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 })
            else { return nil }
        }
        return lower
    }

    static func parse(_ text: String) throws(KeyError) -> ListingKey {
        var name = Substring(text)
        var subtree = false
        if name.hasPrefix("*.") {
            subtree = true
            name = name.dropFirst(2)
        } else if name.hasPrefix(".") {
            subtree = true
            name = name.dropFirst()
        }
        if name.hasSuffix(".") { name = name.dropLast() }
        guard let valid = validName(String(name)) else { throw KeyError("\(quoted(text)) is not a domain name") }
        return .domain(name: valid, subtree: subtree)
    }
}

enum EmailSyntax {
    static func parse(_ text: String) throws(KeyError) -> ListingKey {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw KeyError("\(quoted(text)) is not an e-mail address (one @ expected)") }
        let local = parts[0]
        guard (1...64).contains(local.utf8.count), local.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 34 }) else {
            throw KeyError("\(quoted(text)) has an invalid local part")
        }
        guard let domain = DomainSyntax.validName(String(parts[1])) else {
            throw KeyError("\(quoted(text)) has an invalid domain")
        }
        return .email(local.lowercased() + "@" + domain)
    }
}

/// Lower-case hex, two digits an octet (digests, tokens).
public enum HexText {
    public static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
