/// rbldnsd's address notations (rbldnsd(8) "ip4set Dataset"): prefixes of 1-4 octets, CIDRs,
/// `a-b` ranges whose last boundary may be a single octet. Byte-level, no Foundation.
enum AddressSyntax {
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    /// Parses 1-4 dotted octets at s[i...]: (address with octets from the top, bits = 8 * octets).
    static func prefix(_ s: [UInt8], _ i: inout Int) -> (address: UInt32, bits: Int)? {
        var a: UInt32 = 0
        for k in 0..<4 {
            guard i < s.count, isDigit(s[i]) else { return nil }
            var o: UInt32 = 0
            while i < s.count, isDigit(s[i]) {
                o = o * 10 + UInt32(s[i] - UInt8(ascii: "0"))
                if o > 255 { return nil }
                i += 1
            }
            a |= o << (24 - 8 * UInt32(k))
            if k == 3 || i >= s.count || s[i] != UInt8(ascii: ".") { return (a, 8 * (k + 1)) }
            // A dot must be followed by a digit to continue the prefix.
            guard i + 1 < s.count, isDigit(s[i + 1]) else { return (a, 8 * (k + 1)) }
            i += 1
        }
        return (a, 32)
    }

    static func maskBits(_ s: [UInt8], _ i: inout Int, max: Int) -> Int? {
        guard i < s.count, isDigit(s[i]) else { return nil }
        var bits = 0
        while i < s.count, isDigit(s[i]) {
            bits = bits * 10 + Int(s[i] - UInt8(ascii: "0"))
            if bits > max { return nil }
            i += 1
        }
        return bits
    }

    @inline(__always) static func mask(_ bits: Int) -> UInt32 { bits == 0 ? 0 : UInt32.max << (32 - bits) }

    /// rbldnsd `ip4range`: CIDR, prefix or range. Returns first, last and bits (32 for ranges).
    static func ipv4Range(_ s: [UInt8], _ i: inout Int) -> (first: UInt32, last: UInt32, bits: Int)? {
        guard let (a, bits) = prefix(s, &i) else { return nil }
        if i < s.count, s[i] == UInt8(ascii: "-") {
            i += 1
            guard var (b, bbits) = prefix(s, &i) else { return nil }
            if bbits == 8 {
                // 127.0.0.1-2 means 127.0.0.1-127.0.0.2: the single octet replaces the last one given.
                b = (b >> UInt32(bits - 8)) | (a & mask(bits - 8))
                bbits = bits
            } else if bbits != bits {
                return nil
            }
            if bbits != 32 { b |= ~mask(bbits) }
            guard a <= b else { return nil }
            return (a, b, 32)
        }
        var n = bits
        if i < s.count, s[i] == UInt8(ascii: "/") {
            i += 1
            guard let m = maskBits(s, &i, max: 32) else { return nil }
            n = m
        } else if bits == 8 {
            return nil  // a bare number is not an address: write 10/8
        }
        return (a, a | ~mask(n), n)
    }

    /// rbldnsd `ip4cidr`: a prefix with optional /bits (bare numbers refused).
    static func ipv4CIDR(_ s: [UInt8], _ i: inout Int) -> (address: UInt32, bits: Int)? {
        guard let (a, bits) = prefix(s, &i) else { return nil }
        if i < s.count, s[i] == UInt8(ascii: "/") {
            i += 1
            guard let m = maskBits(s, &i, max: 32) else { return nil }
            return (a, m)
        }
        return bits == 8 ? nil : (a, bits)
    }

    /// rbldnsd `ip4addr` for A values: `2` is 0.0.0.2 (later made 127.0.0.2), `127.0.0.2` itself.
    static func ipv4Value(_ s: [UInt8], _ i: inout Int) -> (address: UInt32, bits: Int)? {
        guard case (var a, let bits)? = prefix(s, &i) else { return nil }
        switch bits {
        case 8: a >>= 24
        case 16: a = (a & 0xFF00_0000) | ((a >> 16) & 255)
        case 24: a = (a & 0xFFFF_0000) | ((a >> 8) & 255)
        default: break
        }
        return (a, bits)
    }

    /// rbldnsd `ip6prefix`: groups of up to 4 hex digits separated by colons, `::` once.
    /// Returns the address and the bits given (16 per group, 128 when `::` was used).
    static func ipv6Prefix(_ s: [UInt8], _ i: inout Int) -> (address: UInt128, bits: Int)? {
        // The 16-bit words before a "::" and after it, packed as they are read: no array per
        // address (an IPv6 dataset has hundreds of thousands of them).
        var head: UInt128 = 0
        var tail: UInt128 = 0
        var headCount = 0
        var tailCount = 0
        var compressed = false
        if i + 1 < s.count, s[i] == UInt8(ascii: ":"), s[i + 1] == UInt8(ascii: ":") {
            compressed = true
            i += 2
        }
        while true {
            var v: UInt32 = 0
            let begin = i
            while i < s.count, let n = hexValue(s[i]) {
                v = v << 4 | UInt32(n)
                if v > 0xFFFF { return nil }
                i += 1
            }
            if i == begin { break }
            if compressed {
                tail = tail << 16 | UInt128(v)
                tailCount += 1
            } else {
                head = head << 16 | UInt128(v)
                headCount += 1
            }
            if i >= s.count || s[i] != UInt8(ascii: ":") || headCount + tailCount >= 8 { break }
            i += 1
            if !compressed, i < s.count, s[i] == UInt8(ascii: ":") {
                compressed = true
                i += 1
            }
        }
        let words = headCount + tailCount
        if compressed {
            guard words < 8 else { return nil }
            return (headCount == 0 ? tail : head << (16 * (8 - headCount)) | tail, 128)
        }
        if words == 0 { return nil }
        return (head << (16 * (8 - headCount)), words * 16)
    }

    static func ipv6CIDR(_ s: [UInt8], _ i: inout Int) -> (address: UInt128, bits: Int)? {
        guard let (a, bits) = ipv6Prefix(s, &i) else { return nil }
        if i < s.count, s[i] == UInt8(ascii: "/") {
            i += 1
            guard let m = maskBits(s, &i, max: 128) else { return nil }
            return (a, m)
        }
        return bits == 16 ? nil : (a, bits)
    }

    @inline(__always) static func hexValue(_ c: UInt8) -> UInt8? {
        if isDigit(c) { return c - UInt8(ascii: "0") }
        let l = c | 0x20
        if l >= UInt8(ascii: "a"), l <= UInt8(ascii: "f") { return l - UInt8(ascii: "a") + 10 }
        return nil
    }

    static func mask6(_ bits: Int) -> UInt128 { bits == 0 ? 0 : UInt128.max << (128 - bits) }
}
