import Glibc
@testable import RBLDatasets
import TestSupport
import Testing

/// rbldnsd's IPv6 prefixes (`2001:db8::/32`, `2001:db8:1:2` for the first 64 bits, `::1`):
/// what the parser reads, and where it stops.
@Suite struct AddressSyntaxTests {
    static func parse(_ text: String) -> (address: UInt128, bits: Int, stop: Int)? {
        let bytes = Array(text.utf8)
        var i = 0
        guard let (a, bits) = AddressSyntax.ipv6Prefix(bytes, &i) else { return nil }
        return (a, bits, i)
    }

    /// What inet_pton makes of a full address, for the cases it accepts.
    static func pton(_ text: String) -> UInt128? {
        var raw = in6_addr()
        guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
        return withUnsafeBytes(of: &raw) { $0.reduce(UInt128(0)) { $0 << 8 | UInt128($1) } }
    }

    @Test(arguments: [
        ("2001:db8::", UInt128(0x2001_0db8) << 96, 128, 10),
        ("::", UInt128(0), 128, 2),
        ("::1", UInt128(1), 128, 3),
        ("2001:db8:1:2", UInt128(0x2001_0db8_0001_0002) << 64, 64, 12),
        ("2001", UInt128(0x2001) << 112, 16, 4),
        ("1:2:3:4:5:6:7:8", UInt128(0x0001_0002_0003_0004_0005_0006_0007_0008), 128, 15),
        ("1:2:3:4:5:6:7:8:9", UInt128(0x0001_0002_0003_0004_0005_0006_0007_0008), 128, 15),
        ("fe80::1:2/64", UInt128(0xfe80) << 112 | 0x0001_0002, 128, 9),
        ("A:B::C", UInt128(0x000a_000b) << 96 | 0xc, 128, 6),
    ])
    func reads(_ text: String, _ address: UInt128, _ bits: Int, _ stop: Int) throws {
        let r = try #require(Self.parse(text))
        #expect(r.address == address)
        #expect(r.bits == bits)
        #expect(r.stop == stop)
    }

    @Test(arguments: ["", ":", "12345::", "1:2:3:4::5:6:7:8", "g::"])
    func refuses(_ text: String) {
        #expect(Self.parse(text) == nil)
    }

    /// Random addresses written with and without "::" read as inet_pton reads them.
    @Test func agreesWithInetPton() throws {
        var rng = SeededRandom(seed: 6)
        for _ in 0..<2000 {
            var words = (0..<8).map { _ in Int.random(in: 0..<4, using: &rng) == 0 ? 0 : UInt16.random(in: 0...UInt16.max, using: &rng) }
            if Bool.random(using: &rng) { for k in 2..<Int.random(in: 2...7, using: &rng) { words[k] = 0 } }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { b in for (k, w) in words.enumerated() { b[2 * k] = UInt8(w >> 8); b[2 * k + 1] = UInt8(w & 0xFF) } }
            // inet_ntop writes the shortest form (with "::" for the longest zero run).
            let text = String(cString: inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)))
            let full = words.map { String($0, radix: 16) }.joined(separator: ":")
            for form in [text, full] where !form.contains(".") {
                let r = try #require(Self.parse(form), "\(form)")
                #expect(r.address == Self.pton(form), "\(form)")
                #expect(r.stop == form.utf8.count, "\(form)")
            }
        }
    }
}
