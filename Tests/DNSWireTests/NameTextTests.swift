import DNSWire
import Testing

/// Presentation text to wire form: `\DDD` is exactly three decimal digits; anything else after a
/// backslash is that character itself (RFC 1035 §5.1). `\-12` once trapped (found by fuzzing).
@Suite struct NameTextTests {
    @Test(arguments: [
        ("a\\065b", [3, 0x61, 0x41, 0x62, 0]),
        ("\\-12", [3, 0x2D, 0x31, 0x32, 0]),
        ("\\+12", [3, 0x2B, 0x31, 0x32, 0]),
        ("\\256x", [4, 0x32, 0x35, 0x36, 0x78, 0]),
        ("a\\.b", [3, 0x61, 0x2E, 0x62, 0]),
        ("\\0a1", [3, 0x30, 0x61, 0x31, 0]),
    ] as [(String, [UInt8])])
    func escapes(_ text: String, _ wire: [UInt8]) throws {
        #expect(try DomainName.wire(fromText: text) == wire)
    }

    @Test func walkFollowsPointersBackwardsOnly() {
        // "a" at 0, then a pointer to it, then a pointer to itself (a loop), then one forward.
        let bytes: [UInt8] = [1, 0x61, 0, 0xC0, 0x00, 0xC0, 0x05, 0xC0, 0x09, 0, 0]
        bytes.withUnsafeBytes { p in
            #expect(DomainName.walk(p, at: 3) == 5)
            #expect(DomainName.walk(p, at: 5) == nil, "a pointer to itself")
            #expect(DomainName.walk(p, at: 7) == nil, "a pointer forwards")
            #expect(DomainName.read(p, at: 3, lowercase: true)?.name == [1, 0x61, 0])
        }
    }
}
