import DNSWire
import Glibc
import Testing

/// `AddressText` against glibc's inet_ntop: the same text for every address tried (RFC 5952
/// IPv6, with inet_ntop's IPv4 forms for ::ffff:a.b.c.d and ::a.b.c.d).
@Suite struct AddressTextTests {
    static func ntop(_ a: UInt128) -> String {
        var addr = in6_addr()
        withUnsafeMutableBytes(of: &addr) { $0.storeBytes(of: a.bigEndian, as: UInt128.self) }
        var buf = [CChar](repeating: 0, count: 64)
        _ = inet_ntop(AF_INET6, &addr, &buf, socklen_t(buf.count))
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test(arguments: [
        (UInt128(0), "::"), (UInt128(1), "::1"), (UInt128(0x2001_0DB8) << 96, "2001:db8::"),
        (UInt128(0xFFFF_7F00_0002), "::ffff:127.0.0.2"), (UInt128(0x0102_0304), "::1.2.3.4"),
        (UInt128(0x2001_0DB8_0000_0000_0001_0000_0000_0001), "2001:db8::1:0:0:1"),
        (UInt128(0x2001_0DB8_0000_0001_0001_0001_0001_0001), "2001:db8:0:1:1:1:1:1"),
        (UInt128.max, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), (UInt128(0x2002_CB00_7107) << 80, "2002:cb00:7107::"),
    ])
    func ipv6Text(_ a: UInt128, _ text: String) {
        #expect(AddressText.ipv6(a) == text)
        #expect(Self.ntop(a) == text)
    }

    @Test func ipv6LikeInetNtop() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        for _ in 0..<50_000 {
            var a = UInt128(next()) << 64 | UInt128(next())
            // Zero groups where runs and ties happen.
            let zeros = next()
            for g in 0..<8 where zeros >> UInt64(g) & 3 != 0 { a &= ~(UInt128(0xFFFF) << (16 * UInt128(g))) }
            if zeros & 0x300 == 0 { a &= UInt128(0xFFFF_FFFF) | UInt128(0xFFFF) << 32 }
            #expect(AddressText.ipv6(a) == Self.ntop(a), "\(Self.ntop(a))")
        }
    }

    @Test func ipv4() {
        #expect(AddressText.ipv4(0) == "0.0.0.0")
        #expect(AddressText.ipv4(0x7F00_0002) == "127.0.0.2")
        #expect(AddressText.ipv4(0xC0A8_FF0A) == "192.168.255.10")
        #expect(AddressText.ipv4(UInt32.max) == "255.255.255.255")
    }
}
