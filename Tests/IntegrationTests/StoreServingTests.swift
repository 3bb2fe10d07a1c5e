import Foundation
import ListingKeys
import TestSupport
import Testing

/// `thurac serve` with no dataset serves the store, and picks up changes made by other processes.
@Suite(.serialized)
struct StoreServingTests {
    @Test func ingestFromAnotherProcessIsAnsweredWithinASecond() throws {
        let db = temporaryDirectory().appendingPathComponent("var/thurac.db").path
        #expect(try CLITests.thurac(["sources", "add", "vnpt", "--kind", "isp", "--db", db]).status == 0)
        #expect(try CLITests.thurac(["sources", "add", "mic", "--kind", "agency", "--db", db]).status == 0)
        let server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--db", db])
        defer { server.stop() }
        let zone = "bl.ninhthuan.gov.vn"
        func soaSerial() throws -> String? {
            try Decoded(DNSClient.query(zone, type: 6, port: server.port))?.answers.first?.split(separator: "\t").last
                .map { String($0.split(separator: " ")[2]) }
        }
        #expect(Decoded(try DNSClient.query("2.0.0.127.\(zone)", type: 1, port: server.port))?.aSet == ["127.0.0.2"])
        #expect(Decoded(try DNSClient.query("1.0.0.127.\(zone)", type: 1, port: server.port))?.rcode == 3)
        let before = try soaSerial()

        let feed = temporaryDirectory().appendingPathComponent("feed.csv")
        try "key,category,reason\n192.0.2.77,fraud,phishing kit $\n".write(to: feed, atomically: true, encoding: .utf8)
        #expect(try CLITests.thurac(["ingest", "--source", "mic", "--db", db, feed.path]).status == 0)
        let answered = try eventually { Decoded(try DNSClient.query("77.2.0.192.\(zone)", type: 1, port: server.port))?.aSet == ["127.0.0.3"] }
        #expect(answered, "the ingested key is answered by the running server")
        let txt = Decoded(try DNSClient.query("77.2.0.192.\(zone)", type: 16, port: server.port))?.txtSet
        #expect(txt == ["\"phishing kit 192.0.2.77\""])
        let after = try soaSerial()
        #expect(before != nil && after != nil && UInt32(after!)! > UInt32(before!)!, "serial \(before ?? "-") -> \(after ?? "-")")

        #expect(try CLITests.thurac(["delist", "192.0.2.77", "--reason", "wrong block", "--db", db]).status == 0)
        #expect(try eventually { Decoded(try DNSClient.query("77.2.0.192.\(zone)", type: 1, port: server.port))?.rcode == 3 })
    }
}

/// The rbldnsd dump of a store loads into rbldnsd unchanged and answers like thurac.
@Suite(.serialized)
struct DumpTests {
    /// A store in a fresh directory with one agency feed (CSV) in it.
    func store(with csv: String) throws -> (dir: URL, db: String) {
        let dir = temporaryDirectory()
        let db = dir.appendingPathComponent("var/thurac.db").path
        #expect(try CLITests.thurac(["sources", "add", "mic", "--kind", "agency", "--db", db]).status == 0)
        let feed = dir.appendingPathComponent("feed.csv")
        try csv.write(to: feed, atomically: true, encoding: .utf8)
        #expect(try CLITests.thurac(["ingest", "--source", "mic", "--db", db, feed.path]).status == 0)
        return (dir, db)
    }

    @Test func rbldnsdAnswersTheDumpLikeThurac() throws {
        let (dir, db) = try store(
            with: """
            key,category,reason
            10.0.0.0/16,spam,big net $
            !10.0.5.0/24,spam,
            10.0.5.7,fraud,phish $
            10.0.9.0/24,malware,both categories $
            192.0.2.0-192.0.2.40,advertising,ads
            2001:db8::/32,malware,v6 net
            2001:db8::/48,fraud,v6 inner
            spam.example,fraud,phishing domain $
            *.evil.example,spam,everything below
            """)
        var zones: [String] = []
        for z in ["bl.ninhthuan.gov.vn", "dbl.ninhthuan.gov.vn"] {
            let out = dir.appendingPathComponent("\(z).rbldnsd").path
            #expect(try CLITests.thurac(["dump", "--zone", z, "--format", "rbldnsd", "--output", out, "--db", db]).status == 0)
            zones.append("\(z):combined:\(out)")
        }
        let rbldnsd = try ServerProcess.rbldnsd(zones)
        defer { rbldnsd.stop() }
        let thurac = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--db", db])
        defer { thurac.stop() }
        let bl = "bl.ninhthuan.gov.vn"
        var names: [String] = []
        for a in ["10.0.0.1", "10.0.5.1", "10.0.5.7", "10.0.9.9", "10.0.255.255", "10.1.0.0", "192.0.2.0", "192.0.2.40", "192.0.2.41", "127.0.0.2", "127.0.0.1"] {
            names.append(a.split(separator: ".").reversed().joined(separator: ".") + "." + bl)
        }
        names.append(nibbles(UInt128(0x2001_0DB8) << 96 | 5) + "." + bl)
        names.append(nibbles(UInt128(0x2001_0DB8_0001) << 80) + "." + bl)
        names.append(nibbles(UInt128(0x2001_0DB9) << 96) + "." + bl)
        for d in ["spam.example", "www.spam.example", "a.evil.example", "a.b.evil.example", "test", "other.example"] {
            names.append(d + ".dbl.ninhthuan.gov.vn")
        }
        for name in names {
            for type: UInt16 in [1, 16] {
                let ours = try #require(Decoded(try DNSClient.query(name, type: type, port: thurac.port)))
                let theirs = try #require(Decoded(try DNSClient.query(name, type: type, port: rbldnsd.port)))
                #expect(ours.aSet == theirs.aSet, "\(name) A: thurac \(ours.aSet) rbldnsd \(theirs.aSet)")
                #expect(ours.txtSet == theirs.txtSet, "\(name) TXT: thurac \(ours.txtSet) rbldnsd \(theirs.txtSet)")
            }
        }
    }
}

extension DumpTests {
    /// The BIND dump passes named-checkzone and kzonecheck, and Knot, loaded with it, gives the
    /// same listed / not-listed answer and the same A records as thurac (SPEC §3 "zone
    /// consistency": where thurac says NXDOMAIN, NODATA is as good).
    @Test func knotAnswersTheBindDumpLikeThurac() throws {
        let (dir, db) = try store(
            with: """
            key,category,reason
            10.0.0.0/12,spam,big net $
            !10.3.5.0/24,spam,
            10.3.5.7,fraud,phish $
            10.4.9.0/24,malware,both categories $
            10.200.0.0/16,harmful,outside the /12
            192.0.2.0-192.0.2.40,advertising,ads
            198.51.100.77,spam,"a ""quoted"" reason"
            2001:db8::/32,malware,v6 net
            2001:db8:1::/49,fraud,v6 inner
            !2001:db8:2::/48,spam,
            2001:db8:3::5,spam,one v6 address
            spam.example,fraud,phishing domain $
            *.evil.example,spam,everything below
            mx.evil.example,fraud,a named host below
            !ok.evil.example,spam,
            user@spam.example,spam,sender
            """)
        #expect(try CLITests.thurac(["allow", "add", "10.0.3.0/28", "--db", db]).status == 0)
        var zones: [(name: String, file: String)] = []
        for z in ["bl", "dbl", "hbl"].map({ "\($0).ninhthuan.gov.vn" }) {
            let file = dir.appendingPathComponent("\(z).zone").path
            #expect(try CLITests.thurac(["dump", "--zone", z, "--format", "bind", "--output", file, "--db", db]).status == 0)
            #expect(try CLITests.run("/usr/bin/named-checkzone", ["-q", z, file]).status == 0, "named-checkzone \(z)")
            #expect(try CLITests.run("/usr/bin/kzonecheck", ["-o", z, file]).status == 0, "kzonecheck \(z)")
            zones.append((z, file))
        }
        let knot = try ServerProcess.knot(zones: zones)
        defer { knot.stop() }
        let thurac = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--db", db])
        defer { thurac.stop() }

        let bl = "bl.ninhthuan.gov.vn"
        var names: [String] = []
        func v4(_ a: UInt32) { names.append("\(a & 255).\(a >> 8 & 255).\(a >> 16 & 255).\(a >> 24).\(bl)") }
        // Both sides of every boundary, and a spread inside.
        for edge: UInt32 in [0x0A00_0000, 0x0A0F_FFFF, 0x0A03_0500, 0x0A03_05FF, 0x0A03_0507, 0x0A04_0900, 0x0A04_09FF, 0x0A00_0300, 0x0A00_030F, 0x0AC8_0000, 0x0AC8_FFFF, 0xC000_0200, 0xC000_0228, 0xC633_644D, 0x7F00_0002, 0x7F00_0001] {
            for d: UInt32 in [0, 1, 0xFFFF_FFFF] { v4(edge &+ d) }
        }
        var rng = SeededRandom(seed: 7)
        for _ in 0..<300 { v4(0x0A00_0000 | UInt32.random(in: 0...0x000F_FFFF, using: &rng)) }
        for _ in 0..<100 { v4(0x0A00_0000 | UInt32.random(in: 0...0x00FF_FFFF, using: &rng)) }
        for _ in 0..<60 { v4(0xC000_0200 | UInt32.random(in: 0...63, using: &rng)) }
        for a: UInt128 in [0x2001_0DB8 << 96, 0x2001_0DB8_0001 << 80, (0x2001_0DB8_0001 << 80) | (1 << 79), 0x2001_0DB8_0002 << 80 | 9,
                           0x2001_0DB8_0003 << 80 | 5, 0x2001_0DB8_0003 << 80 | 6, 0x2001_0DB9 << 96, (0x2001_0DB8 << 96) - 1] {
            names.append(nibbles(a) + "." + bl)
        }
        for d in ["spam.example", "www.spam.example", "evil.example", "a.evil.example", "a.b.evil.example", "mx.evil.example",
                  "x.mx.evil.example", "ok.evil.example", "x.ok.evil.example", "test", "invalid", "other.example"] {
            names.append(d + ".dbl.ninhthuan.gov.vn")
        }
        names.append(ListingKey.hashedLabel(email: "user@spam.example") + "._email.hbl.ninhthuan.gov.vn")
        names.append(ListingKey.hashedLabel(email: "other@spam.example") + "._email.hbl.ninhthuan.gov.vn")
        var listed = 0
        for name in names {
            let ours = try #require(Decoded(try DNSClient.query(name, type: 1, port: thurac.port)))
            let theirs = try #require(Decoded(try DNSClient.query(name, type: 1, port: knot.port)))
            #expect(ours.aSet == theirs.aSet, "\(name): thurac \(ours.aSet) knot \(theirs.aSet)")
            if !ours.aSet.isEmpty { listed += 1 }
            if ours.rcode == 3 { #expect(theirs.aSet.isEmpty, "\(name): not listed in thurac, listed in knot") }
        }
        #expect(listed > 200, "the comparison saw listed names (\(listed))")
    }
}

/// A killed ingest leaves the store as before or after the feed, never in between.
@Suite(.serialized)
struct CrashSafetyTests {
    @Test func killedIngestAppliesAllOrNothing() throws {
        let dir = temporaryDirectory()
        let db = dir.appendingPathComponent("var/thurac.db").path
        #expect(try CLITests.thurac(["sources", "add", "isp", "--kind", "isp", "--db", db]).status == 0)
        let count = 50_000
        var text = ""
        for i in 0..<count { text += "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)\n" }
        let feed = dir.appendingPathComponent("big.txt")
        try text.write(to: feed, atomically: true, encoding: .utf8)
        // The first, a middle and the last key of the feed: all listed or none (a partial ingest
        // would list a prefix of the feed).
        func publishedCount() throws -> Int {
            var listed = 0
            for i in [0, count / 2, count - 1] {
                let key = "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)"
                if try CLITests.thurac(["lookup", key, "--db", db]).out.contains(": published") { listed += 1 }
            }
            return listed == 0 ? 0 : listed == 3 ? count : -listed
        }
        for delay in [150_000, 400_000, 900_000] as [UInt32] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: thuracBinary)
            p.arguments = ["ingest", "--source", "isp", "--db", db, feed.path]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(delay)
            kill(p.processIdentifier, SIGKILL)
            while p.isRunning { usleep(10_000) }
            let n = try publishedCount()
            #expect(n == 0 || n == count, "a killed ingest left \(n) of \(count) listings")
        }
        // And the store still works: a full ingest completes.
        #expect(try CLITests.thurac(["ingest", "--source", "isp", "--db", db, feed.path]).status == 0)
        #expect(try publishedCount() == count)
    }
}
