import ListingKeys
import Testing

@Suite struct KeySpecTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"),
        ("192.0.2.0/24", "192.0.2.0/24"),
        ("192.0.2.0-192.0.2.255", "192.0.2.0/24"),
        ("192.0.2.10-192.0.2.20", "192.0.2.10-192.0.2.20"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("!198.51.100.7", "!198.51.100.7"),
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:db8::/32", "2001:db8::/32"),
        ("!2001:db8::/48", "!2001:db8::/48"),
        ("Example.COM", "example.com"),
        ("example.com.", "example.com"),
        ("*.spam.example", "*.spam.example"),
        (".spam.example", "*.spam.example"),
        ("_dmarc-x.example.vn", "_dmarc-x.example.vn"),
        ("  Bulk.Sender@Example.COM ", "bulk.sender@example.com"),
    ])
    func acceptedForms(_ input: String, _ canonical: String) throws {
        let k = try KeySpec(parsing: input)
        #expect(k.description == canonical)
        // The canonical text reads back to the same key.
        #expect(try KeySpec(parsing: k.description) == k)
    }

    @Test(arguments: [
        "", "1.2.3", "10.0.0.1/24", "10.0.0.0/33", "10.0.0.9-10.0.0.1", "256.1.1.1", "010.1.1.1",
        "2001:db8::1/64", "2001:db8::/129", "gggg::1", "localhost", "-bad.example", "bad-.example",
        "a..example", "sp ace.example", "user@", "@example.com", "a@b@example.com", "user@bad_domain",
        "*.example", String(repeating: "a", count: 64) + ".example",
    ])
    func rejectedForms(_ input: String) {
        #expect(throws: KeyError.self) { try KeySpec(parsing: input) }
    }

    @Test func hostBitsErrorNamesTheNetwork() {
        #expect(throws: KeyError("10.0.0.1/24 has host bits set; the network is 10.0.0.0/24")) {
            try KeySpec(parsing: "10.0.0.1/24")
        }
    }

    @Test func hashedAddressLabelIsSHA1OfTheLowerCasedAddress() {
        // sha1("test@example.com")
        #expect(ListingKey.hashedLabel(email: "Test@Example.com") == "567159d622ffbb50b11b0efd307be358624a26ee")
    }

    @Test func categoriesAndDurations() throws {
        #expect(try Category(parsing: "Fraud").defaultReturnCode == 0x7F00_0003)
        #expect(throws: KeyError.self) { try Category(parsing: "phish") }
        #expect(try DurationText.seconds("7d") == 604_800)
        #expect(try DurationText.seconds("90s") == 90)
        #expect(throws: KeyError.self) { try DurationText.seconds("90") }
    }

    /// The fast readers (feed bytes, store text) agree with the full parser on every form.
    @Test(arguments: [
        "192.0.2.1", "0.0.0.0", "255.255.255.255", "10.0.0.0/8", "192.0.2.0-192.0.2.9", "!192.0.2.7",
        "2001:db8::1", "2001:db8::/32", "!2001:db8:1::/48", "::ffff:127.0.0.2", "example.com", "*.example.com",
        "!mx.example.com", "a_b-c.example", "user.name+tag@example.com", "x@y.example",
    ])
    func fastReadersAgreeWithTheParser(_ text: String) throws {
        let full = try KeySpec(parsing: text)
        var canonical = full.description
        #expect(try canonical.withUTF8 { try KeySpec(canonicalBytes: $0) } == full)
        var raw = text
        #expect(try raw.withUTF8 { try KeySpec(parsingBytes: $0) } == full)
    }

    @Test(arguments: ["192.0.2.01", "192.0.2", "192.0.2.256", "1.2.3.4.5", "192.0.2.1.", ".192.0.2.1", "1..2.3"])
    func dottedQuadReaderIsStrict(_ text: String) {
        var raw = text
        #expect(throws: KeyError.self) { try raw.withUTF8 { try KeySpec(parsingBytes: $0) } }
    }
}
