import Foundation
import ListingKeys
import Listings
import Store
import Publishing
import RateLimiting
import Testing
import ZoneConfig

@Suite struct ConfigTests {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")
    static func path(_ name: String) -> String { vectors.appendingPathComponent(name).path }
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Zones/thurac.toml").path

    @Test func theShippedConfigurationServesTheFourZones() throws {
        let c = try ThuracConfig.load(path: Self.shipped)
        #expect(c.zones.map(\.name) == ZoneDefinition.defaults.map(\.name))
        #expect(c.zones.map(\.role) == [.addresses, .domains, .hashedAddresses, .allowlist])
        for z in c.zones {
            let apex = try #require(z.apex, "\(z.name) has a skeleton")
            #expect(apex.nameservers.count == 2)
            #expect(apex.glue.count == 1)
            #expect(apex.soa.minimum == 300)
        }
        #expect(c.policy.publicReporters == 3)
        #expect(c.retention == 30 * 86400)
        #expect(c.zones[0].code(.manual) == 0x7F00_0009)
    }

    @Test func zonesCanBeRenamedWithTheirOwnCodesTemplatesAndSkeleton() throws {
        let c = try ThuracConfig.load(path: Self.path("renamed.toml"))
        #expect(c.ttl == 600)
        #expect(c.zones.map(\.name) == ["rbl.example.net", "dbl.example.net"])
        let z = c.zones[0]
        #expect(z.ttl == 900)
        #expect(z.code(.fraud) == 0x7F00_000A)
        #expect(z.code(.spam) == 0x7F00_0002)
        #expect(z.template(.spam, reason: nil) == "Blocked: $")
        #expect(z.template(.spam, reason: "own reason") == "own reason")
        let apex = try #require(z.apex)
        #expect(apex.soa.refresh == 7200)
        #expect(apex.soa.minimum == 600)
        #expect(apex.glue.map(\.type) == [1, 28], "ns2's A and AAAA are glue")
        #expect(apex.records[Array("\u{3}www".utf8)]?.first?.type == 16)
        #expect(c.zones[1].apex == nil)
    }

    @Test(arguments: [
        ("unknown-key.toml", "unknown setting 'policy.public_reportres'"),
        ("bad-code.toml", "zone[1].codes.spam: 127.0.0.1 is not a usable return code"),
        ("bad-syntax.toml", "bad-syntax.toml:"),
        ("missing.toml", "cannot read the file"),
        ("transfer-unknown-key.toml", "zone[1].transfer_key: no key 'nokey' in the [transfer] keys file"),
        ("transfer-bad-notify.toml", "zone[1].notify: 'ns2.example.net:53' is not an address"),
    ])
    func badConfigurationsSayWhere(_ file: String, _ message: String) {
        #expect {
            try ThuracConfig.load(path: Self.path(file))
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    static func loadText(_ text: String) throws -> ThuracConfig {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-config-\(UUID().uuidString).toml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try ThuracConfig.load(path: file)
    }

    @Test func rateLimitingIsReadWithBINDsNames() throws {
        let shipped = try Self.loadText("").rateLimit
        #expect(shipped == .shipped && shipped.responsesPerSecond == 1000 && shipped.exempt.map(\.description) == ["127.0.0.0/8", "::1"])
        #expect(try Self.loadText("[rrl]\nresponses_per_second = 0\n").rateLimit.isEnabled == false)
        let r = try Self.loadText(
            """
            [rrl]
            responses_per_second = 200
            nxdomains_per_second = 50
            errors_per_second = 10
            window = 30
            slip = 3
            ipv4_prefix_length = 28
            ipv6_prefix_length = 64
            exempt = ["203.0.113.0/24", "2001:db8::53"]
            log_only = true
            """
        ).rateLimit
        #expect(r.limit(.positive) == 200 && r.limit(.nodata) == 200 && r.limit(.nxdomain) == 50 && r.limit(.error) == 10)
        #expect(r.window == 30 && r.slip == 3 && r.ipv4PrefixLength == 28 && r.ipv6PrefixLength == 64 && r.logOnly)
        #expect(r.exempt.map(\.description) == ["203.0.113.0/24", "2001:db8::53"])
        #expect(try Self.loadText("[rrl]\nwindow = \"1m\"\n").rateLimit.window == 60)
    }

    @Test(arguments: [
        ("slip = 11", "rrl.slip must be 0 to 10"),
        ("window = 0", "rrl.window must be 1s to 1h"),
        ("responses_per_sec = 5", "unknown setting 'rrl.responses_per_sec'"),
        ("exempt = [\"10.0.0.1/8\"]", "rrl.exempt: '10.0.0.1/8' has host bits set"),
        ("exempt = [\"resolver.example\"]", "is not an IPv4 or IPv6 address or CIDR"),
        ("log_only = \"yes\"", "rrl.log_only must be true or false"),
        ("ipv6_prefix_length = 8", "rrl.ipv6_prefix_length must be 16 to 128"),
        ("responses_per_second = -5", "rrl.responses_per_second must be 0 (no limit) to 1000000"),
    ])
    func badRateLimitSettingsSayWhat(_ line: String, _ message: String) {
        #expect {
            try Self.loadText("[rrl]\n\(line)\n")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func queryRulesPutTheZonesBeforeTheGlobalOnes() throws {
        let c = try Self.loadText(
            """
            [acl]
            rules = [{ from = "0.0.0.0/0", action = "allow" }]

            [[zone]]
            name = "bl.example.net"
            lists = "addresses"
            acl = [{ from = "192.0.2.0/24", action = "127.255.255.254" }, { from = "2001:db8::/32", action = "ignore" }]

            [[zone]]
            name = "dbl.example.net"
            lists = "domains"
            """)
        #expect(c.zones[0].acl.map(\.from.description) == ["192.0.2.0/24", "2001:db8::/32", "0.0.0.0/0"])
        #expect(c.zones[0].acl.map(\.action) == [.answer(0x7FFF_FFFE), .ignore, .allow])
        #expect(c.zones[1].acl.map(\.action) == [.allow])
        // Without [[zone]] tables the shipped zones get the global rules too.
        #expect(try Self.loadText("[acl]\nrules = [{ from = \"::/0\", action = \"refuse\" }]\n").zones.allSatisfy { $0.acl.map(\.action) == [.refuse] })
    }

    @Test(arguments: [
        ("rules = [{ from = \"192.0.2.0/24\", action = \"deny\" }]", "acl.rules[1].action: 'deny' (expected allow, refuse, ignore, empty or an answer"),
        ("rules = [{ from = \"192.0.2.0/24\", action = \"10.0.0.1\" }]", "acl.rules[1].action: '10.0.0.1'"),
        ("rules = [{ from = \"192.0.2.1/24\", action = \"refuse\" }]", "acl.rules[1].from: '192.0.2.1/24' has host bits set"),
        ("rules = [{ action = \"refuse\" }]", "acl.rules[1].from is missing"),
        ("rules = [{ from = \"::/0\", action = \"refuse\", why = \"x\" }]", "unknown setting 'acl.rules[1].why'"),
        ("rules = \"refuse\"", "acl.rules must be an array of tables"),
    ])
    func badQueryRulesSayWhat(_ line: String, _ message: String) {
        #expect {
            try Self.loadText("[acl]\n\(line)\n")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test(arguments: [
        ("no-ns.zone", "no NS record at the apex"),
        ("outside.zone", "other.example.org is outside rbl.example.net"),
        ("broken.zone", "broken.zone:4:"),
        // libldns's zone reader drops a second SOA and then crashes on the next record: refused first.
        ("two-soa.zone", "two-soa.zone:5: a second SOA record"),
        ("include.zone", "include.zone:5: $INCLUDE is not read in a skeleton"),
    ])
    func badSkeletonsSayWhere(_ file: String, _ message: String) {
        #expect {
            try ZoneSkeleton.load(path: Self.path(file), origin: "rbl.example.net")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func transferSettingsAndKeysAreRead() throws {
        let c = try ThuracConfig.load(path: Self.path("transfer.toml"))
        #expect(c.keys.keys.sorted() == ["second.key", "thurac-xfr"])
        #expect(c.keys["thurac-xfr"]?.secret.count == 32)
        #expect(c.keys["second.key"]?.secret == Array("second key secret".utf8))
        let rbl = try #require(c.transfers["rbl.example.net"])
        #expect(rbl.key == "thurac-xfr")
        #expect(rbl.allow.count == 3)
        #expect(rbl.notify.map { "\($0.host) \($0.port)" } == ["192.0.2.2 53", "192.0.2.3 5353", "2001:db8::53 53"])
        #expect(c.transfers["dbl.example.net"]?.key == "second.key")
        #expect(c.transfers["hbl.example.net"] == nil, "no transfer settings: not transferred")
    }

    @Test(arguments: [
        ("key \"k\" { algorithm hmac-md5; secret \"AAAA\"; };", "algorithm hmac-md5 is not supported"),
        ("key \"k\" { algorithm hmac-sha256; secret \"not base64!\"; };", "the secret of 'k' is not base64"),
        ("key \"k\" { algorithm hmac-sha256; secret \"AAAA\" };", "'secret <value>;' expected"),
        ("key \"k\" { algorithm hmac-sha256; };", "needs an algorithm and a secret"),
        ("key k { algorithm hmac-sha256; secret \"AAAA\"; };", "a quoted key name expected"),
        ("key \"k\" { algorithm hmac-sha256; secret \"AAAA\"; };\nkey \"K\" { algorithm hmac-sha256; secret \"AAAA\"; };", "keys:2: the key 'K' is defined twice"),
        ("options { };", "'key' expected"),
    ])
    func badKeyFilesSayWhatAndWhere(_ text: String, _ message: String) {
        #expect {
            try TSIGKeyConfig.parse(text, file: "keys")
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
