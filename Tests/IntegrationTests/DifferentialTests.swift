import Foundation
import TestSupport
import Testing

/// thurac and rbldnsd serve the same generated datasets; their A and TXT answers must agree.
@Suite(.serialized)
struct DifferentialTests {
    struct Data {
        var files: [String: String] = [:]
        var ipv4Probes: [UInt32] = []
        var ipv6Probes: [UInt128] = []
        var domainProbes: [String] = []
    }

    static func generate(seed: UInt64) -> Data {
        var rng = SeededRandom(seed: seed)
        var d = Data()
        let texts = ["Listed: $", "See http://bl.example/?ip=$ now", "", "spam source $ ($1)", "=raw $ text"]
        var ip4 = "$SOA 600 ns.bl.test. hostmaster.bl.test. 7 1h 10m 1w 5m\n$NS 600 ns.bl.test.\n$1 variable one\n"
        ip4 += ":127.0.0.2:Default $\n127.0.0.2\n"
        for _ in 0..<1500 {
            let base = UInt32.random(in: 0x0100_0000...0xDF00_0000, using: &rng) & 0x0FFF_FFFF | 0x1000_0000
            let kind = Int.random(in: 0..<10, using: &rng)
            var line: String
            switch kind {
            case 0..<4: line = dotted(base)
            case 4..<6:
                let len = Int.random(in: 16...31, using: &rng)
                let net = base & (UInt32.max << (32 - len))
                line = "\(dotted(net))/\(len)"
                d.ipv4Probes.append(net &+ UInt32.random(in: 0...(UInt32(1) << (32 - len)), using: &rng))
            case 6:
                let end = base &+ UInt32.random(in: 0...700, using: &rng)
                line = end >= base ? "\(dotted(base))-\(dotted(end))" : dotted(base)
                d.ipv4Probes.append(base &+ 200)
            default:
                line = "!\(dotted(base))"
            }
            if !line.hasPrefix("!") && Int.random(in: 0..<3, using: &rng) == 0 {
                let code = Int.random(in: 2...9, using: &rng)
                line += " :\(code):\(texts.randomElement(using: &rng)!)"
            }
            ip4 += line + "\n"
            for k in [0, 1, 255, 256] { d.ipv4Probes.append(base &+ UInt32(k)) }
            d.ipv4Probes.append(base &- 1)
        }
        // Exclusions inside listed ranges, and a /32 entry sharing a key with another value.
        ip4 += "10.20.0.0/16 :3:Range $\n!10.20.5.0/24\n10.20.5.7 :4:Back in\n10.20.5.7 :5:Twice\n"
        d.ipv4Probes += [0x0A14_0001, 0x0A14_0501, 0x0A14_0507, 0x0A14_0508, 0x0A15_0000, 0x7F00_0001, 0x7F00_0002]
        d.files["ip4"] = ip4

        var trie = ":127.0.0.3:Trie $\n"
        for _ in 0..<600 {
            let len = Int.random(in: 8...32, using: &rng)
            let net = UInt32.random(in: 0x2000_0000...0x3FFF_FFFF, using: &rng) & (len == 0 ? 0 : UInt32.max << (32 - len))
            trie += (Int.random(in: 0..<5, using: &rng) == 0 ? "!" : "") + "\(dotted(net))/\(len)"
            if Int.random(in: 0..<3, using: &rng) == 0 { trie += " :\(Int.random(in: 2...9, using: &rng)):Trie value $" }
            trie += "\n"
            d.ipv4Probes.append(net)
            d.ipv4Probes.append(net | UInt32.random(in: 0...255, using: &rng))
        }
        d.files["ip4trie"] = trie

        var ip6 = ":127.0.0.5:v6 $\n"
        for _ in 0..<500 {
            let len = [32, 48, 56, 64, 96, 128].randomElement(using: &rng)!
            let hi = UInt128(UInt64.random(in: 0...UInt64.max, using: &rng)) << 64
            let a = (hi | UInt128(UInt64.random(in: 0...UInt64.max, using: &rng))) & (UInt128.max << (128 - len))
            let prefix = (UInt128(0x2001_0DB8) << 96) | (a & (UInt128.max >> 32))
            let masked = prefix & (UInt128.max << (128 - len))
            ip6 += (Int.random(in: 0..<6, using: &rng) == 0 ? "!" : "") + "\(ipv6Text(masked))/\(len)\n"
            d.ipv6Probes.append(masked)
            d.ipv6Probes.append(masked | 1)
        }
        d.files["ip6"] = ip6

        var dn = ":127.0.0.6:Domain $ listed\n"
        let words = ["spam", "mail", "shop", "win", "cheap", "pills", "news", "promo", "ad", "click"]
        for i in 0..<800 {
            let name = "\(words.randomElement(using: &rng)!)\(i).\(words.randomElement(using: &rng)!).\(["com", "net", "vn", "org"].randomElement(using: &rng)!)"
            let kind = Int.random(in: 0..<6, using: &rng)
            let prefix = ["", "", "*.", ".", "!", "!*."][kind]
            dn += prefix + name
            if kind < 4 && Int.random(in: 0..<4, using: &rng) == 0 { dn += " :\(Int.random(in: 2...9, using: &rng)):Why $" }
            dn += "\n"
            d.domainProbes += [name, "www.\(name)", "a.b.\(name)", String(name.split(separator: ".", maxSplits: 1)[1])]
        }
        d.files["dnset"] = dn
        return d
    }

    /// Both ways of starting thurac: `serve --zone` and rbldnsd's own command line.
    @Test(arguments: ["serve", "rbldnsd"])
    func answersEqualRbldnsd(commandLine: String) throws {
        let data = Self.generate(seed: 20_261_129)
        let dir = temporaryDirectory()
        for (name, text) in data.files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let p = { (n: String) in dir.appendingPathComponent(n).path }
        let zones = [
            "bl.test:ip4set:\(p("ip4"))", "bl.test:ip6trie:\(p("ip6"))", "trie.test:ip4trie:\(p("ip4trie"))",
            "dbl.test:dnset:\(p("dnset"))",
        ]
        let rbldnsd = try ServerProcess.rbldnsd(zones)
        defer { rbldnsd.stop() }
        let thurac =
            commandLine == "serve"
            ? try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0"] + zones.flatMap { ["--zone", $0] })
            : try ServerProcess.thurac(["rbldnsd", "-n", "-q", "-b", "127.0.0.1/\(try freePort())"] + zones)
        defer { thurac.stop() }

        var queries: [(String, UInt16, Bool)] = []  // name, type, compare rcode too
        for a in data.ipv4Probes {
            queries.append(("\(reversedIPv4(a)).bl.test", 1, true))
            queries.append(("\(reversedIPv4(a)).bl.test", 16, true))
            queries.append(("\(reversedIPv4(a)).trie.test", 1, true))
            queries.append(("\(reversedIPv4(a)).trie.test", 16, true))
        }
        for a in data.ipv6Probes {
            queries.append(("\(nibbles(a)).bl.test", 1, true))
            queries.append(("\(nibbles(a)).bl.test", 16, true))
        }
        for n in data.domainProbes {
            // Empty non-terminals answer NODATA here (RFC 8020) and NXDOMAIN in rbldnsd: compare data only.
            queries.append(("\(n).dbl.test", 1, false))
            queries.append(("\(n).dbl.test", 16, false))
        }
        #expect(queries.count >= 10_000)
        var mismatches: [String] = []
        var listed = 0
        for (name, type, withRcode) in queries {
            let oursRaw = try DNSClient.query(name, type: type, port: thurac.port, timeout: 1)
            let theirsRaw = try DNSClient.query(name, type: type, port: rbldnsd.port, timeout: 1)
            guard let ours = Decoded(oursRaw), let theirs = Decoded(theirsRaw) else {
                if mismatches.count < 20 {
                    mismatches.append("\(name) \(type): no answer (thurac \(oursRaw.count) octets, rbldnsd \(theirsRaw.count))")
                }
                continue
            }
            if !ours.aSet.isEmpty || !ours.txtSet.isEmpty { listed += 1 }
            let same = ours.aSet == theirs.aSet && ours.txtSet == theirs.txtSet && (!withRcode || ours.rcode == theirs.rcode)
            if !same && mismatches.count < 20 { mismatches.append("\(name) type \(type): thurac \(ours) rbldnsd \(theirs)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        #expect(listed > 1000, "the generated data should list a good share of the probes")
    }
}
