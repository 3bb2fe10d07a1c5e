import DNSWire
import Glibc

/// Key parsing from raw feed bytes. Feeds are mostly bare IPv4 addresses, so those are read
/// straight from the bytes (strict dotted quad: no leading zeros, no shortened forms, exactly
/// what inet_pton accepts); every other form goes through `KeySpec(parsing:)`.
extension KeySpec {
    public init(parsingBytes bytes: UnsafeBufferPointer<UInt8>) throws(KeyError) {
        if let a = IPv4Text.parseDottedQuad(bytes) {
            self.init(key: .ipv4(first: a, last: a), excluded: false)
        } else {
            try self.init(parsing: String(decoding: bytes, as: UTF8.self))
        }
    }
}

extension IPv4Text {
    /// `a.b.c.d`, each 0-255 in decimal without leading zeros; nil for anything else.
    static func parseDottedQuad(_ s: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard s.count >= 7, s.count <= 15 else { return nil }
        var address: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for c in s {
            if c == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                address = address << 8 | octet
                octet = 0
                digits = 0
                dots += 1
            } else {
                let d = c &- UInt8(ascii: "0")
                guard d < 10, !(digits == 1 && octet == 0) else { return nil }
                octet = octet * 10 + UInt32(d)
                digits += 1
                guard octet <= 255 else { return nil }
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return address << 8 | octet
    }

    static func format(_ a: UInt32) -> String { AddressText.ipv4(a) }
}

extension ListingKey {
    /// The fewest CIDR blocks covering [first, last] exactly.
    public static func ipv6Prefixes(from first: UInt128, through last: UInt128) -> [(UInt128, Int)] {
        var out: [(UInt128, Int)] = []
        var a = first
        while true {
            // Largest block aligned at `a` that stays within `last`.
            var size = a == 0 ? 128 : a.trailingZeroBitCount
            while size > 0 {
                let span = size == 128 ? UInt128.max : (UInt128(1) << size) - 1
                if a <= last, last - a >= span { break }
                size -= 1
            }
            out.append((a, 128 - size))
            let span = size == 128 ? UInt128.max : (UInt128(1) << size) - 1
            if a > last - span || a + span == last { break }
            a += span + 1
        }
        return out
    }
}

extension KeySpec {
    /// A key as the store writes it (`description`): canonical already, so only its shape is
    /// read; anything unexpected goes through the full parser.
    public init(canonicalBytes s: UnsafeBufferPointer<UInt8>) throws(KeyError) {
        if let a = IPv4Text.parseDottedQuad(s) {
            self.init(key: .ipv4(first: a, last: a), excluded: false)
            return
        }
        var body = s
        let excluded = s.first == UInt8(ascii: "!")
        if excluded { body = UnsafeBufferPointer(rebasing: s.dropFirst()) }
        let isName = !body.isEmpty && !body.contains(UInt8(ascii: ":")) && !body.contains(UInt8(ascii: "@"))
            && body.contains { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
            && body.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 || $0 == 46 || $0 == 42 }
        if isName {
            let subtree = body.starts(with: "*.".utf8)
            let name = String(decoding: subtree ? UnsafeBufferPointer(rebasing: body.dropFirst(2)) : body, as: UTF8.self)
            self.init(key: .domain(name: name, subtree: subtree), excluded: excluded)
            return
        }
        if !excluded, let at = body.firstIndex(of: UInt8(ascii: "@")),
            !body.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }), at > 0
        {
            self.init(key: .email(String(decoding: body, as: UTF8.self)), excluded: false)
            return
        }
        if body.contains(UInt8(ascii: ":")), let v6 = IPv6Text.parseCanonical(body) {
            self.init(key: .ipv6(address: v6.address, prefixLength: v6.length), excluded: excluded)
            return
        }
        try self.init(parsing: String(decoding: s, as: UTF8.self))
    }
}

extension IPv6Text {
    /// `address[/length]` straight from bytes (inet_pton on a stack copy), host bits zero.
    static func parseCanonical(_ s: UnsafeBufferPointer<UInt8>) -> (address: UInt128, length: Int)? {
        let slash = s.firstIndex(of: UInt8(ascii: "/")) ?? s.count
        guard slash > 1, slash < 46 else { return nil }
        var length = 128
        if slash < s.count {
            length = 0
            for c in s[(slash + 1)...] {
                let d = c &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                length = length * 10 + Int(d)
                guard length <= 128 else { return nil }
            }
        }
        var addr = in6_addr()
        let ok = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { buf -> Bool in
            for i in 0..<slash { buf[i] = CChar(bitPattern: s[i]) }
            buf[slash] = 0
            return inet_pton(AF_INET6, buf.baseAddress, &addr) == 1
        }
        guard ok else { return nil }
        let a = withUnsafeBytes(of: addr) { UInt128(bigEndian: $0.loadUnaligned(as: UInt128.self)) }
        let mask: UInt128 = length == 0 ? 0 : UInt128.max << (128 - length)
        guard a & ~mask == 0 else { return nil }
        return (a, length)
    }
}
