import Foundation
import Listings
import RBLDatasets
import Testing

@Suite struct DatasetSyntaxTests {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

    static func load(_ name: String, _ type: DatasetType, options: LoadOptions = LoadOptions()) throws -> LoadedDataset {
        try DatasetLoader.load(type: type, files: [vectors.appendingPathComponent(name).path], options: options)
    }

    static func ip(_ s: String) -> UInt32 {
        s.split(separator: ".").reduce(0) { $0 << 8 | UInt32($1)! }
    }

    /// (A address, compiled template as text with `$` for the key) of every value of `a`.
    static func answers(_ ds: ZoneDataset, _ a: String) -> [String] {
        ds.ipValues.values(ds.ipv4.lookup(ip(a))).map { v in
            let t = String(decoding: v.template.map { $0 == 0 ? UInt8(ascii: "@") : $0 }, as: UTF8.self)
            return "\(v.address & 255):\(t)"
        }.sorted()
    }

    @Test func ip4setNotations() throws {
        let loaded = try Self.load("syntax.ip4set", .ip4set)
        let ds = loaded.parts[0].dataset
        let listed = "2:Listed, see http://bl.test/lookup?ip=@ for details"
        #expect(Self.answers(ds, "127.0.0.2") == [listed])
        #expect(Self.answers(ds, "127.0.1.77") == [listed], "a 3-octet prefix is a /24")
        #expect(Self.answers(ds, "127.0.2.255") == [listed])
        #expect(Self.answers(ds, "127.3.200.1") == [listed])
        #expect(Self.answers(ds, "127.3.4.5").isEmpty, "exclusion inside a /16")
        #expect(Self.answers(ds, "127.4.0.128") == [listed])
        #expect(Self.answers(ds, "127.5.0.0").isEmpty, "127.5.0.1-255 starts at .1")
        #expect(Self.answers(ds, "127.5.0.255") == [listed])
        #expect(Self.answers(ds, "127.31.255.255") == [listed], "127.16-31 is 127.16.0.0-127.31.255.255")
        #expect(Self.answers(ds, "127.32.0.0").isEmpty)
        #expect(Self.answers(ds, "1.2.3.4") == ["5:Listed, see http://bl.test/lookup?ip=@ for details"])
        #expect(Self.answers(ds, "1.2.3.5") == ["6:"], ":A: means no TXT")
        #expect(Self.answers(ds, "1.2.3.6") == ["2:Own text @"])
        #expect(Self.answers(ds, "1.2.3.7") == ["7:Full $ sign $9"], "$$ is a dollar, an unset $9 stays")
        #expect(Self.answers(ds, "1.2.3.8") == ["8:no space"])
        #expect(Self.answers(ds, "10.0.0.1").isEmpty, "host bits set: skipped without -e")
        #expect(ds.ttl == 600)
        #expect(loaded.soa?.ttl == 3600)
        #expect(loaded.soa?.minimum == 300)
        #expect(loaded.nameservers?.count == 2, "a '-' name server is left out")
        #expect(loaded.nsTTL == 2100, "NS TTL 0 means the dataset TTL in force when $NS is read")
        let lines = Set(loaded.warnings.map(\.line))
        #expect(lines.contains(22), "bogus line: \(loaded.warnings)")
        #expect(lines.contains(23), "reversed range")
        #expect(lines.contains(21), "host bits")
        #expect(loaded.warnings.allSatisfy { $0.file.hasSuffix("syntax.ip4set") })
    }

    @Test func acceptHostBitsMasksThem() throws {
        var o = LoadOptions()
        o.acceptHostBits = true
        let ds = try Self.load("syntax.ip4set", .ip4set, options: o).parts[0].dataset
        #expect(!Self.answers(ds, "10.0.0.200").isEmpty)
    }

    @Test func baseTemplateAndMaxRange() throws {
        let loaded = try Self.load("base.ip4set", .ip4set)
        let ds = loaded.parts[0].dataset
        #expect(Self.answers(ds, "127.0.0.2") == ["2:See http://bl.test/?r123 (@) for details"])
        #expect(Self.answers(ds, "127.0.0.3") == ["2:See http://bl.test/?@ (@) for details"])
        #expect(Self.answers(ds, "127.0.0.4") == ["2:See other blocklists for details about @"])
        #expect(Self.answers(ds, "10.0.1.1").isEmpty, "a /16 is above $MAXRANGE4 /24")
        #expect(!Self.answers(ds, "10.1.0.1").isEmpty)
        #expect(loaded.warnings.contains { $0.line == 6 && $0.message.contains("too large") })
    }

    @Test func combinedAttachesSubzones() throws {
        let loaded = try Self.load("combined", .combined)
        let subzones = Set(loaded.parts.map { String(decoding: $0.subzone.filter { $0 > 32 }, as: UTF8.self) })
        #expect(subzones == ["", "proxies", "dom"])
        #expect(loaded.soa?.minimum == 3600)
        let base = loaded.parts.filter { $0.subzone.isEmpty }.map(\.dataset)
        #expect(base.contains { $0.records != nil })
        let proxy = try #require(base.first { $0.hasIPv4 })
        #expect(Self.answers(proxy, "127.0.0.10") == ["2:Open proxy @"])
    }

    @Test func aclActions() throws {
        let loaded = try Self.load("acl", .acl)
        let acl = try #require(loaded.acl)
        func action(_ c: ClientAddress) -> AccessAction? { acl.action(for: c).map { acl.actions[$0] } }
        #expect(action(.v4(Self.ip("127.0.0.1"))) == .pass)
        #expect(action(.v4(Self.ip("10.1.1.1"))) == .refuse)
        #expect(action(.v4(Self.ip("192.168.3.3"))) == .empty)
        #expect(action(.v4(Self.ip("172.20.0.1"))) == .ignore)
        #expect(action(.v4(Self.ip("8.8.8.8"))) == nil)
        if case .always? = action(.v6(UInt128(0x2001_0DB8) << 96 | 1)) {} else { Issue.record("v6 always action") }
    }

    @Test func ip6tsetListsSixtyFoursWithSingleExclusions() throws {
        let loaded = try Self.load("trivial.ip6tset", .ip6tset)
        let ds = loaded.parts[0].dataset
        let p = UInt128(0x2001_0DB8_0001_0002) << 64
        #expect(ds.ipv6.lookup(p | 1).isListed)
        #expect(!ds.ipv6.lookup(p | 5).isListed)
        #expect(!ds.ipv6.lookup(UInt128(0x2001_0DB8_0001_0004) << 64).isListed, "a /48 is not a /64 entry")
        #expect(ds.ipValues.values(ds.ipv6.lookup(p)).first?.address == 0x7F00_0006, "only the first default counts")
        #expect(loaded.warnings.count == 1)
    }

    @Test func gzipFilesAreReadTransparently() throws {
        let loaded = try Self.load("compressed.ip4tset.gz", .ip4tset)
        #expect(loaded.parts[0].dataset.ipv4.lookup(Self.ip("10.20.30.40")).isListed)
        #expect(loaded.soa?.serial == 1)
    }

    @Test func unreadableFileIsAnError() {
        #expect(throws: DatasetError.self) { try Self.load("does-not-exist", .ip4set) }
    }

    @Test func zoneSpecParsing() throws {
        let s = try ZoneSpec(parsing: "BL.Test:ip4set:a,b")
        #expect(s == ZoneSpec(zone: "bl.test", type: .ip4set, files: ["a", "b"]))
        #expect(throws: DatasetError.self) { try ZoneSpec(parsing: "bl.test:nosuch:a") }
        #expect(throws: DatasetError.self) { try ZoneSpec(parsing: ":ip4set:a") }
        #expect(try ZoneSpec(parsing: ":acl:a").zone == "")
    }

    @Test func timeUnits() {
        #expect(DatasetLoader.parseTime(Array("35m".utf8)) == 2100)
        #expect(DatasetLoader.parseTime(Array("2w".utf8)) == 1_209_600)
        #expect(DatasetLoader.parseTime(Array("90".utf8)) == 90)
        #expect(DatasetLoader.parseTime(Array("9x".utf8)) == nil)
    }
}

/// rbldnsd warns about a prefix given twice in an ip4trie, ip6trie or acl dataset, naming the
/// file, the line of the later one and the prefix ("duplicated entry for 1.2.3.0/24"); the first
/// one read stays.
@Suite struct DuplicateEntryTests {
    @Test(arguments: [
        ("duplicates.ip4trie", DatasetType.ip4trie, [(4, "1.2.3.0/24"), (5, "5.6.7.8/32")]),
        ("duplicates.ip6trie", .ip6trie, [(2, "2001:db8::/32"), (4, "2001:db8:1::1/128")]),
        ("duplicates.acl", .acl, [(3, "10.0.0.0/8"), (5, "2001:db8::/48")]),
    ])
    func warnsOncePerLaterDuplicate(_ file: String, _ type: DatasetType, _ expected: [(Int, String)]) throws {
        let loaded = try DatasetSyntaxTests.load(file, type)
        let duplicates = loaded.warnings.filter { $0.message.hasPrefix("duplicated entry") }
        #expect(duplicates.map(\.line) == expected.map(\.0), "\(loaded.warnings)")
        #expect(duplicates.map(\.message) == expected.map { "duplicated entry for \($0.1)" })
        #expect(duplicates.allSatisfy { $0.file.hasSuffix(file) })
        #expect(duplicates.map(\.description).first?.contains("\(file):\(expected[0].0): duplicated entry for") == true)
    }

    @Test func theFirstOfTwoStays() throws {
        let ds = try DatasetSyntaxTests.load("duplicates.ip4trie", .ip4trie).parts[0].dataset
        #expect(DatasetSyntaxTests.answers(ds, "1.2.3.200") == ["3:first"])
        #expect(DatasetSyntaxTests.answers(ds, "1.2.3.1") == ["2:"], "the /25 is more specific")
    }

    @Test func aPrefixRepeatedInASecondFileIsADuplicateToo() throws {
        let v = DatasetSyntaxTests.vectors
        let loaded = try DatasetLoader.load(
            type: .ip4trie, files: [v.appendingPathComponent("duplicates.ip4trie").path, v.appendingPathComponent("duplicates.ip4trie").path],
            options: LoadOptions())
        let second = loaded.warnings.filter { $0.message == "duplicated entry for 1.2.3.0/24" }
        #expect(second.count == 3)
        #expect(second.map(\.line) == [4, 2, 4], "\(second)")
    }
}

/// Names at and over the 255-octet limit of a domain name, with and without the trailing dot:
/// the longest is kept, a longer one is a warning and the load goes on.
@Suite struct LongDomainNameTests {
    static func load(_ text: String) throws -> LoadedDataset {
        try DatasetLoader.load(
            type: .dnset, sources: [DatasetLoader.Source(name: "long.dnset", bytes: Array(text.utf8))], options: LoadOptions(), name: "long")
    }

    // Three labels of 63 octets and one of 61: 253 octets of text, 255 of wire with the root.
    static let longest = [String](repeating: String(repeating: "a", count: 63), count: 3).joined(separator: ".") + "." + String(repeating: "b", count: 61)
    static let tooLong = longest + "c"

    @Test(arguments: ["", "."])
    func theLongestNameIsKeptALongerOneIsRefused(_ dot: String) throws {
        let muchTooLong = [String](repeating: String(repeating: "d", count: 63), count: 5).joined(separator: ".")
        let loaded = try Self.load("\(Self.longest)\(dot)\n\(Self.tooLong)\(dot)\n\(muchTooLong)\(dot)\n")
        #expect(loaded.entryCount == 1)
        #expect(loaded.warnings.map(\.message) == ["invalid domain name", "invalid domain name"])
        #expect(loaded.warnings.map(\.line) == [2, 3])
    }
}
