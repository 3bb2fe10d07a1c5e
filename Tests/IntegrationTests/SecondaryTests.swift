import DNSWire
import Foundation
import Glibc
import ListingKeys
import TestSupport
import Testing

/// thurac as the primary of real secondaries (Debian's NSD, Knot and BIND), configured with the
/// files of docs/secondaries/ and a key made by `tsig-keygen`: after the first AXFR they must
/// answer every query like thurac; after new listings and expiries, NOTIFY and IXFR must bring
/// them along within two seconds.
@Suite(.serialized)
struct SecondaryTests {
    static let zones = ["bl.ninhthuan.gov.vn", "dbl.ninhthuan.gov.vn", "hbl.ninhthuan.gov.vn", "wl.ninhthuan.gov.vn"]
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The primary and its two secondaries, on loopback ports, in a directory of their own.
    final class Setup {
        let dir: String
        let config: String
        let secret: String
        let primaryPort: UInt16
        /// What `tsig-keygen -a hmac-sha256 thurac-xfr` printed: thurac's keys file as it is.
        let keyFile: String
        var thurac: ServerProcess?
        var secondaries: [(name: String, server: ServerProcess)] = []

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-secondaries-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let keygen = try CLITests.run("/usr/sbin/tsig-keygen", ["-a", "hmac-sha256", "thurac-xfr"])
            guard keygen.status == 0, let r = keygen.out.range(of: #"secret "([^"]+)""#, options: .regularExpression) else {
                throw HarnessError("tsig-keygen: \(keygen.out) \(keygen.err)")
            }
            keyFile = keygen.out
            secret = String(keygen.out[r].dropFirst(8).dropLast())
            primaryPort = try freePort()
            config = dir + "/thurac.toml"
        }

        func file(_ name: String, _ text: String) throws {
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }

        static func read(_ relative: String) throws -> String { try String(contentsOf: repo.appendingPathComponent(relative), encoding: .utf8) }

        /// Zones/thurac.toml with the transfer settings of docs/secondaries/thurac.toml, pointed
        /// at the secondaries' ports.
        func writePrimaryConfig(secondaryPorts: [UInt16]) throws {
            for z in SecondaryTests.zones { try file("\(z).zone", try Self.read("Zones/\(z).zone")) }
            try file("transfer.keys", keyFile)
            var toml = try Self.read("Zones/thurac.toml")
            toml = toml.replacingOccurrences(of: "path = \"var/thurac.db\"", with: "path = \"\(dir)/thurac.db\"")
            toml = toml.replacingOccurrences(of: "dns = [\"127.0.0.1:5300\"]", with: "dns = [\"127.0.0.1:\(primaryPort)\"]")
            toml = toml.replacingOccurrences(of: "[[zone]]\nname", with: "[[zone]]\nTRANSFER\nname")
            let transfer = """
                allow_transfer = ["127.0.0.1"]
                transfer_key = "thurac-xfr"
                notify = [\(secondaryPorts.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", "))]
                """
            toml = toml.replacingOccurrences(of: "TRANSFER", with: transfer)
            toml = toml.replacingOccurrences(of: "[policy]", with: "[transfer]\nkeys = \"transfer.keys\"\n\n[policy]")
            try file("thurac.toml", toml)
        }

        func startKnot(port: UInt16) throws -> ServerProcess {
            let d = dir + "/knot"
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            var conf = try Self.read("docs/secondaries/knot.conf")
            conf = conf.replacingOccurrences(of: "0.0.0.0@53", with: "127.0.0.1@\(port)")
                .replacingOccurrences(of: "/run/knot", with: d).replacingOccurrences(of: "/var/lib/knot", with: d)
                .replacingOccurrences(of: "192.0.2.1@53", with: "127.0.0.1@\(primaryPort)")
                .replacingOccurrences(of: "192.0.2.1", with: "127.0.0.1").replacingOccurrences(of: "SECRET-OF-THURAC-XFR", with: secret)
            try conf.write(toFile: d + "/knot.conf", atomically: true, encoding: .utf8)
            return try ServerProcess.daemon("/usr/sbin/knotd", ["-c", d + "/knot.conf"], port: port, log: d + "/knot.log")
        }

        func startNSD(port: UInt16) throws -> ServerProcess {
            let d = dir + "/nsd"
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            var conf = try Self.read("docs/secondaries/nsd.conf")
            conf = conf.replacingOccurrences(of: "ip-address: 0.0.0.0", with: "ip-address: 127.0.0.1")
                .replacingOccurrences(of: "port: 53\n", with: "port: \(port)\n").replacingOccurrences(of: "/var/lib/nsd", with: d)
                .replacingOccurrences(of: "192.0.2.1@53", with: "127.0.0.1@\(primaryPort)")
                .replacingOccurrences(of: "192.0.2.1", with: "127.0.0.1").replacingOccurrences(of: "SECRET-OF-THURAC-XFR", with: secret)
            // Run unprivileged in the test directory (the packaged service has its own user and paths).
            conf = conf.replacingOccurrences(
                of: "server:\n",
                with: "server:\n    username: \"\"\n    chroot: \"\"\n    pidfile: \"\(d)/nsd.pid\"\n    logfile: \"\(d)/nsd.log\"\n    verbosity: 2\n")
            try conf.write(toFile: d + "/nsd.conf", atomically: true, encoding: .utf8)
            return try ServerProcess.daemon("/usr/sbin/nsd", ["-d", "-c", d + "/nsd.conf"], port: port, log: d + "/nsd.out")
        }

        func startBIND(port: UInt16) throws -> ServerProcess {
            let d = dir + "/bind"
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            var conf = try Self.read("docs/secondaries/named.conf")
            conf = conf.replacingOccurrences(of: "listen-on port 53 { any; };", with: "listen-on port \(port) { 127.0.0.1; };")
                .replacingOccurrences(of: "listen-on-v6 port 53 { any; };", with: "listen-on-v6 { none; };")
                .replacingOccurrences(of: "/var/cache/bind", with: d)
                .replacingOccurrences(of: "primaries port 53 { 192.0.2.1", with: "primaries port \(primaryPort) { 127.0.0.1")
                .replacingOccurrences(of: "server 192.0.2.1", with: "server 127.0.0.1").replacingOccurrences(of: "SECRET-OF-THURAC-XFR", with: secret)
            // Run in the test directory, without the packaged service's control channel.
            conf = conf.replacingOccurrences(
                of: "options {\n",
                with: "options {\n\tpid-file \"\(d)/named.pid\";\n\tsession-keyfile \"\(d)/session.key\";\n\tmanaged-keys-directory \"\(d)\";\n")
            conf += "controls { };\n"
            try conf.write(toFile: d + "/named.conf", atomically: true, encoding: .utf8)
            return try ServerProcess.daemon("/usr/sbin/named", ["-g", "-c", d + "/named.conf"], port: port, log: d + "/named.log")
        }

        func stop() {
            thurac?.stop()
            for s in secondaries { s.server.stop() }
        }

        func logs() -> String {
            [thurac?.stderrPath, dir + "/knot/knot.log", dir + "/nsd/nsd.log", dir + "/nsd/nsd.out", dir + "/bind/named.log"].compactMap { $0 }.map {
                "--- \($0)\n" + ((try? String(contentsOfFile: $0, encoding: .utf8)) ?? "").split(separator: "\n").suffix(25).joined(separator: "\n")
            }.joined(separator: "\n")
        }
    }

    static func serial(_ zone: String, port: UInt16) -> UInt32? {
        guard let d = (try? DNSClient.query(zone, type: 6, port: port, timeout: 0.5)).flatMap({ Decoded($0) }), d.rcode == 0,
            let soa = d.answers.first(where: { $0.contains("\tSOA\t") })
        else { return nil }
        return soa.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst(6).first.flatMap { UInt32($0) }
    }

    /// Runs a thurac command that changes the store; from the moment thurac serves a new serial,
    /// the seconds until every secondary serves it too (nil: not within ten seconds).
    static func catchUp(_ s: Setup, _ arguments: [String]) throws -> Double? {
        let before = serial("bl.ninhthuan.gov.vn", port: s.primaryPort)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: thuracBinary)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let start = Date()
        while serial("bl.ninhthuan.gov.vn", port: s.primaryPort) == before {
            if Date().timeIntervalSince(start) > 10 { return nil }
            usleep(2_000)
        }
        let took = waitForSync(s, timeout: 10)
        while p.isRunning { usleep(10_000) }
        #expect(p.terminationStatus == 0, "thurac \(arguments[0]) failed")
        return took
    }

    /// Waits until every secondary serves thurac's serial of every zone; the seconds it took.
    static func waitForSync(_ s: Setup, timeout: Double) -> Double? {
        let start = Date()
        while Date().timeIntervalSince(start) < timeout {
            let synced = zones.allSatisfy { z in
                guard let want = serial(z, port: s.primaryPort) else { return false }
                return s.secondaries.allSatisfy { serial(z, port: $0.server.port) == want }
            }
            if synced { return Date().timeIntervalSince(start) }
            usleep(20_000)
        }
        return nil
    }

    /// Listed or not, and the A records, for `names` at thurac and at each secondary; with
    /// `existence`, a name thurac says exists (NOERROR) must not be NXDOMAIN there (RFC 8020;
    /// right after a change thurac's delta may still call a removed name an empty non-terminal).
    static func compare(_ names: [String], _ s: Setup, existence: Bool = false) throws -> (compared: Int, listed: Int) {
        var listed = 0
        var compared = 0
        for name in names {
            let ours = try #require(ask(name, s.primaryPort), "\(name)")
            if !ours.aSet.isEmpty { listed += 1 }
            for (label, server) in s.secondaries {
                let port = server.port
                let theirs = try #require(ask(name, port), "\(label) \(name)")
                #expect(ours.aSet == theirs.aSet, "\(name): thurac \(ours.aSet) (rcode \(ours.rcode)), \(label) \(theirs.aSet) (rcode \(theirs.rcode))")
                if existence && ours.rcode == 0 { #expect(theirs.rcode == 0, "\(name): thurac NOERROR, \(label) rcode \(theirs.rcode)") }
                compared += 1
            }
        }
        return (compared, listed)
    }

    /// An A query over UDP, asked again if a datagram was lost.
    static func ask(_ name: String, _ port: UInt16) -> Decoded? {
        for _ in 0..<3 {
            if let d = (try? DNSClient.query(name, type: 1, port: port, timeout: 1)).flatMap({ Decoded($0) }) { return d }
        }
        return nil
    }

    /// The RFC 5782 test points of every zone kind (IPv4 and IPv6, listed and not), the apex,
    /// the glue and the `_email` label; addresses in and around the keys (both edges, inside)
    /// with their IPv4-mapped and 6to4 names, and a spread where octets and nibbles are digits,
    /// where the two families share names.
    static func queries(_ keys: [String], _ rng: inout SeededRandom, count: Int) -> [String] {
        var names: [String] = []
        for zone in zones {
            names += ["", "ns1.", "test.", "invalid.", "2.0.0.127.", "1.0.0.127.", "_email.", nibbles(0xFFFF_7F00_0002) + ".",
                      nibbles(0xFFFF_7F00_0001) + "."].map { $0 + zone }
        }
        func v4(_ a: UInt32) { names.append(reversedIPv4(a) + ".bl.ninhthuan.gov.vn") }
        func v6(_ a: UInt128) {
            names.append((0..<32).map { String((a >> (4 * UInt128($0))) & 15, radix: 16) }.joined(separator: ".") + ".bl.ninhthuan.gov.vn")
        }
        // The names rbldnsd answers from IPv4 data: thurac's store zones do not, nor do mirrors.
        func mapped(_ a: UInt32) {
            v6(UInt128(0xFFFF) << 32 | UInt128(a))
            v6(UInt128(0x2002) << 112 | UInt128(a) << 80 | UInt128(UInt8.random(in: 0...9, using: &rng)))
        }
        for k in keys {
            let text = k.split(separator: ",")[0].trimmingCharacters(in: .whitespaces)
            guard let spec = try? KeySpec(parsing: text) else { continue }
            switch spec.key {
            case .ipv4(let f, let l):
                for a in [f &- 1, f, f &+ 1, l &- 1, l, l &+ 1] {
                    v4(a)
                    mapped(a)
                }
                for _ in 0..<6 { v4(f &+ UInt32.random(in: 0...(l &- f), using: &rng)) }
            case .ipv6(let a, let n):
                let last = n == 0 ? UInt128.max : a | (UInt128.max >> n)
                for x in [a &- 1, a, a &+ 1, last, last &+ 1] { v6(x) }
                for _ in 0..<6 { v6(a | (UInt128.random(in: 0...UInt128.max, using: &rng) & ~(UInt128.max << (128 - n)))) }
            case .domain(let name, _):
                for q in [name, "a." + name, "b.c." + name, "x" + name] { names.append(q + ".dbl.ninhthuan.gov.vn") }
            case .email(let address):
                names.append(ListingKey.hashedLabel(email: address) + "._email.hbl.ninhthuan.gov.vn")
            }
        }
        while names.count < count {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                v4(UInt32.random(in: 1...10, using: &rng) << 24 | UInt32.random(in: 0...12, using: &rng) << 16
                    | UInt32.random(in: 0...255, using: &rng) << 8 | UInt32.random(in: 0...255, using: &rng))
            case 1: v4(UInt32.random(in: 0...UInt32.max, using: &rng))
            case 2:
                var a = UInt128.random(in: 0...UInt128.max, using: &rng) >> 24
                for i in 0..<6 { a |= UInt128(Int.random(in: 0...10, using: &rng)) << (124 - 4 * i) }
                v6(a)
            default:
                let labels = ["spam", "evil", "ok", "mx", "www", "a"]
                names.append((0..<Int.random(in: 1...3, using: &rng)).map { _ in labels.randomElement(using: &rng)! }.joined(separator: ".") + ".example.dbl.ninhthuan.gov.vn")
            }
        }
        return names
    }

    /// The first listings: CIDRs of many lengths, ranges, exclusions (also inside ranges),
    /// categories, where IPv4 and IPv6 names meet (all-digit labels), domains and subtrees.
    static func firstFeed(_ rng: inout SeededRandom) -> [String] {
        var keys = [
            "2.0.0.0/16,spam", "3.4.0.0/14,fraud", "5.6.7.0/24,spam", "5.6.7.128/25,malware", "10.0.0.0/8,spam",
            "!10.1.2.0/24,spam", "10.1.2.64/26,fraud", "192.0.2.0/24,spam", "!192.0.2.128/28,spam", "198.51.100.7-198.51.100.77,advertising",
            "203.0.113.5,spam", "203.0.113.5,fraud", "1.2.3.4,spam", "9.9.8.0/23,spam", "2001:db8::/32,spam", "!2001:db8:1::/48,spam",
            "2001:db8:1:2::/64,fraud", "2a00:1450::/29,spam", "3000::/4,spam", "2::/16,malware", "2001:db8:ffff::1,spam",
            "spam.example,spam", "*.evil.example,fraud", "!ok.evil.example,spam", "x.ok.evil.example,malware", "*.mx.evil.example,spam",
            "user@spam.example,spam", "other@evil.example,fraud",
        ]
        for _ in 0..<40 {
            let bits = [12, 16, 19, 22, 24, 26, 29, 32].randomElement(using: &rng)!
            let a = (UInt32.random(in: 1...10, using: &rng) << 24 | UInt32.random(in: 0...12, using: &rng) << 16 | UInt32.random(in: 0...0xFFFF, using: &rng))
                & (UInt32.max << (32 - bits))
            let bang = Int.random(in: 0..<6, using: &rng) == 0 ? "!" : ""
            keys.append("\(bang)\(dotted(a))/\(bits),\(["spam", "fraud", "malware"].randomElement(using: &rng)!)")
        }
        return keys
    }

    static func ingest(_ s: Setup, source: String, _ lines: [String], name: String) throws {
        try s.file(name, "key,category\n" + lines.joined(separator: "\n") + "\n")
        let r = try CLITests.thurac(["ingest", "--source", source, "--config", s.config, s.dir + "/" + name])
        #expect(r.status == 0, "\(r.err)")
    }

    @Test func nsdKnotAndBINDMirrorThuracWithTSIG() throws {
        let s = try Setup()
        defer { s.stop() }
        let ports = [try freePort(), try freePort(), try freePort()]
        try s.writePrimaryConfig(secondaryPorts: ports)
        for (name, kind) in [("agency", "agency"), ("isp", "isp")] {
            let r = try CLITests.thurac(["sources", "add", name, "--kind", kind, "--config", s.config])
            #expect(r.status == 0, "\(r.err)")
        }
        var rng = SeededRandom(seed: 4)
        let first = Self.firstFeed(&rng)
        try Self.ingest(s, source: "agency", first, name: "first.csv")
        // The isp's listings expire after its TTL: some of them go with `expire --now` below.
        let expiring = ["4.4.0.0/16,spam", "198.18.0.0/16,spam", "6.6.6.0/24,spam", "2001:db8:e::/48,spam", "gone.example,spam", "*.gone.example,spam"]
        try Self.ingest(s, source: "isp", expiring, name: "isp.csv")

        s.thurac = try ServerProcess.thurac(["serve", "--config", s.config])
        s.secondaries.append(("knot", try s.startKnot(port: ports[0])))
        s.secondaries.append(("nsd", try s.startNSD(port: ports[1])))
        s.secondaries.append(("bind", try s.startBIND(port: ports[2])))
        let initial = Self.waitForSync(s, timeout: 60)
        try #require(initial != nil, "the secondaries did not load the zones:\n\(s.logs())")

        let names = Self.queries(first + expiring, &rng, count: 5000)
        let (compared, listed) = try Self.compare(names, s, existence: true)
        #expect(compared >= 15_000 && listed > 1000, "compared \(compared), listed \(listed)")

        // `dump --format bind` and AXFR give the same records (canonical form by named-compilezone;
        // the dump's SOA serial is the store's last, the transfer's the live one).
        for zone in Self.zones {
            let transfer = s.dir + "/\(zone).axfr"
            let axfr = try CLITests.run(
                "/usr/bin/kdig", ["-y", "hmac-sha256:thurac-xfr:\(s.secret)", "@127.0.0.1", "-p", "\(s.primaryPort)", zone, "AXFR", "+nocomments", "+nostats"])
            #expect(axfr.status == 0 && !axfr.out.contains("failed"), "kdig AXFR \(zone): \(axfr.out.prefix(500)) \(axfr.err)")
            // kdig shows the transfer's TSIG record too: not zone data.
            let records = axfr.out.split(separator: "\n").filter { !$0.contains("\tTSIG\t") }.joined(separator: "\n")
            try (records + "\n").write(toFile: transfer, atomically: true, encoding: .utf8)
            let dump = s.dir + "/\(zone).dump"
            let d = try CLITests.thurac(["dump", "--zone", zone, "--format", "bind", "--output", dump, "--config", s.config])
            #expect(d.status == 0, "\(d.err)")
            var canonical: [Set<String>] = []
            for file in [transfer, dump] {
                let r = try CLITests.run("/usr/bin/named-compilezone", ["-q", "-i", "none", "-k", "ignore", "-o", file + ".canonical", zone, file])
                #expect(r.status == 0, "named-compilezone \(file): \(r.out) \(r.err)")
                let text = (try? String(contentsOfFile: file + ".canonical", encoding: .utf8)) ?? ""
                canonical.append(Set(text.split(separator: "\n").map(String.init).filter { !$0.contains("SOA\t") && !$0.hasPrefix(";") }))
            }
            #expect(canonical[0] == canonical[1] && canonical[0].count > 1, "\(zone): AXFR and dump differ: \(Array(canonical[0].symmetricDifference(canonical[1]).prefix(10)))")
        }

        // Changes: new listings, then the isp's listings expire (their TTL passes): each must
        // reach every secondary within two seconds of thurac serving it.
        let added = ["7.7.0.0/16,spam", "!7.7.7.0/24,spam", "2.0.5.5,fraud", "2001:db8:77::/48,malware", "new.example,spam", "*.evil.example,spam",
                     "newuser@spam.example,spam"]
        try s.file("added.csv", "key,category\n" + added.joined(separator: "\n") + "\n")
        // Ten days on: past the isp's seven-day TTL, within the agency's thirty.
        let later = ISOTime.format(Int(Date().timeIntervalSince1970) + 10 * 86400)
        for change in [["ingest", "--source", "agency", "--config", s.config, s.dir + "/added.csv"], ["expire", "--now", later, "--config", s.config]] {
            let took = try Self.catchUp(s, change)
            try #require(took != nil, "the secondaries did not follow \(change[0]):\n\(s.logs())")
            // How long it took is reported, not asserted (a loaded machine is slower, not wrong).
            print("secondaries: \(change[0]) served by all three \(String(format: "%.3f", took!)) s after thurac served it")
        }
        #expect(Self.ask("5.5.0.2.bl.ninhthuan.gov.vn", s.primaryPort)?.aSet.contains("127.0.0.3") == true, "the addition is served")
        #expect(Self.ask("1.1.18.198.bl.ninhthuan.gov.vn", s.primaryPort)?.rcode == 3, "the expiry is served")
        print("secondaries: initial transfer \(String(format: "%.2f", initial!)) s, \(compared) answers compared (\(listed) names listed)")
        let log = (try? String(contentsOfFile: s.thurac!.stderrPath, encoding: .utf8)) ?? ""
        #expect(log.contains("IXFR of bl.ninhthuan.gov.vn to 127.0.0.1: serial"), "the secondaries caught up by IXFR:\n\(s.logs())")
        let again = Self.queries(added + expiring + first, &rng, count: 2500)
        let (compared2, _) = try Self.compare(again, s)
        #expect(compared2 >= 7500)

        // Transfers without the key are refused.
        let axfr = try DNSClient.makeQuery("bl.ninhthuan.gov.vn", type: 252, rd: false)
        let refused = try DNSClient.tcpExchange([axfr], port: s.primaryPort)
        #expect(refused.first.flatMap { Decoded($0) }?.rcode == 5, "unsigned AXFR: \(refused)")
        // A wrong secret: NOTAUTH with BADSIG, which kdig reports.
        let wrong = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let badsig = try CLITests.run(
            "/usr/bin/kdig", ["-y", "hmac-sha256:thurac-xfr:\(wrong)", "@127.0.0.1", "-p", "\(s.primaryPort)", "bl.ninhthuan.gov.vn", "AXFR"])
        #expect(badsig.status != 0 && badsig.err.contains("BADSIG"), "\(badsig.out) \(badsig.err)")
        // IXFR over UDP: the SOA alone, which sends the client to TCP (RFC 1995 §2).
        let udp = try CLITests.run(
            "/usr/bin/kdig", ["-y", "hmac-sha256:thurac-xfr:\(s.secret)", "@127.0.0.1", "-p", "\(s.primaryPort)", "+notcp", "bl.ninhthuan.gov.vn", "IXFR=1",
                              "+noall", "+answer"])
        #expect(udp.out.split(separator: "\n").filter { $0.contains("\tSOA\t") }.count == 1, "\(udp.out)")
    }
}
