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

    /// Dotted quad text without string interpolation (this runs once per published address
    /// when a snapshot or a dump is built).
    static func format(_ a: UInt32) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buf in
            var n = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                let o = Int(a >> UInt32(shift) & 255)
                if o >= 100 { buf[n] = UInt8(ascii: "0") + UInt8(o / 100); n += 1 }
                if o >= 10 { buf[n] = UInt8(ascii: "0") + UInt8(o / 10 % 10); n += 1 }
                buf[n] = UInt8(ascii: "0") + UInt8(o % 10)
                n += 1
                if shift > 0 { buf[n] = UInt8(ascii: "."); n += 1 }
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buf[..<n]), as: UTF8.self)
        }
    }
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
