import Foundation
import TestSupport
import Testing

/// SPEC §2 and §5 end to end, through the `thurac` binary and a live `thurac serve`: two ISPs
/// and an agency with overlapping feeds, public reports, the allowlist, expiry with `--now`,
/// delisting, restore, lookup, dumps and the report, with DNS answers following each step.
@Suite(.serialized)
struct ScenarioTests {
    let dir = temporaryDirectory()
    var db: String { dir.appendingPathComponent("var/thurac.db").path }
    let bl = "bl.ninhthuan.gov.vn"
    /// What this test asked the live server and how many answers were listed, for the report.
    final class Tally: @unchecked Sendable { var sent = 0, listed = 0 }
    let tally = Tally()

    func cli(_ args: [String]) throws -> CLITests.Run {
        let r = try CLITests.thurac(args + ["--db", db])
        #expect(r.status == 0, "thurac \(args.joined(separator: " ")): \(r.err)")
        return r
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The A records thurac answers for an IPv4 address, once they equal `want` (or after 10 s).
    func answers(_ address: String, _ port: UInt16, want: [String]) throws -> [String] {
        let name = address.split(separator: ".").reversed().joined(separator: ".") + "." + bl
        var last: [String] = []
        for _ in 0..<200 {
            last = Decoded(try DNSClient.query(name, type: 1, port: port))?.aSet ?? ["no answer"]
            tally.sent += 1
            if !last.isEmpty && last != ["no answer"] { tally.listed += 1 }
            if last == want { break }
            usleep(50_000)
        }
        return last
    }

    @Test func feedsPolicyExpiryAllowlistDelistRestoreLiveAndDumps() throws {
        // The scenario runs at the real time, so the live server (which uses the clock) and the
        // CLI (which uses --now) see the same moment; later steps move the CLI forward.
        let t = Int(Date().timeIntervalSince1970)
        func at(_ days: Double) -> String {
            ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(t) + days * 86400))
        }
        for (name, kind) in [("viettel", "isp"), ("vnpt", "isp"), ("mic", "agency"), ("a", "public"), ("b", "public"), ("c", "public")] {
            _ = try cli(["sources", "add", name, "--kind", kind])
        }
        let server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--db", db, "--stats-interval", "0.5"])
        defer { server.stop() }

        // Overlapping feeds: the same address from both ISPs and, in another category, the agency.
        let viettel = try cli(["ingest", "--source", "viettel", "--now", at(0), try file("viettel.csv", """
            key,category,reason
            192.0.2.1,spam,botnet $
            198.51.100.0/24,spam,snowshoe range
            """)])
        #expect(viettel.out.contains("added 2, refreshed 0, pending 0, allowlisted 0, rejected 0"))
        let vnpt = try cli(["ingest", "--source", "vnpt", "--now", at(0), try file("vnpt.txt", "192.0.2.1\n192.0.2.2 open relay\n")])
        #expect(vnpt.out.contains("added 1, refreshed 1, pending 0"))
        let mic = try cli(["ingest", "--source", "mic", "--now", at(0), try file("mic.jsonl", """
            {"key": "203.0.113.5", "category": "fraud", "reason": "phishing kit $"}
            {"key": "192.0.2.1", "category": "fraud", "reason": "also phishing"}
            {"key": "*.evil.example", "category": "malware"}
            """)])
        #expect(mic.out.contains("added 3"))
        #expect(try answers("192.0.2.1", server.port, want: ["127.0.0.2", "127.0.0.3"]) == ["127.0.0.2", "127.0.0.3"])
        #expect(try answers("192.0.2.2", server.port, want: ["127.0.0.2"]) == ["127.0.0.2"])
        #expect(try answers("198.51.100.200", server.port, want: ["127.0.0.2"]) == ["127.0.0.2"])

        // Public reports publish with three distinct reporters within seven days.
        _ = try cli(["ingest", "--source", "a", "--now", at(0), try file("p.txt", "10.9.9.9\n")])
        _ = try cli(["ingest", "--source", "b", "--now", at(0.5), try file("p.txt", "10.9.9.9\n")])
        #expect(try cli(["lookup", "10.9.9.9", "--now", at(0.5)]).out.contains("spam: pending"))
        #expect(try answers("10.9.9.9", server.port, want: []) == [])
        _ = try cli(["ingest", "--source", "c", "--now", at(0.6), try file("p.txt", "10.9.9.9\n")])
        #expect(try answers("10.9.9.9", server.port, want: ["127.0.0.2"]) == ["127.0.0.2"])

        // The allowlist wins over every feed, for a whole range inside a listed one.
        _ = try cli(["allow", "add", "198.51.100.128/28", "--reason", "partner relay", "--now", at(0.7)])
        #expect(try answers("198.51.100.130", server.port, want: []) == [])
        #expect(try answers("198.51.100.144", server.port, want: ["127.0.0.2"]) == ["127.0.0.2"])
        #expect(try cli(["lookup", "198.51.100.130", "--now", at(0.7)]).out.contains("allowlisted through 198.51.100.128/28"))
        // An address inside a listed range: lookup names the range; delisting the address alone
        // is refused with what to do instead.
        #expect(try cli(["lookup", "198.51.100.200", "--now", at(0.7)]).out.contains("covered by 198.51.100.0/24 spam: published in bl.ninhthuan.gov.vn 127.0.0.2"))
        let inside = try CLITests.thurac(["delist", "198.51.100.200", "--reason", "x", "--db", db])
        #expect(inside.status != 0 && inside.err.contains("inside 198.51.100.0/24"))

        // Dumps of the published zone.
        let csv = try cli(["dump", "--zone", bl, "--format", "csv", "--now", at(0.7)]).out
        #expect(csv.contains("192.0.2.1,fraud,also phishing"))
        #expect(csv.contains("viettel vnpt"), "provenance lists both ISPs")
        let bind = dir.appendingPathComponent("bl.zone").path
        _ = try cli(["dump", "--zone", bl, "--format", "bind", "--output", bind, "--now", at(0.7)])
        #expect(try CLITests.run("/usr/bin/named-checkzone", ["-q", bl, bind]).status == 0)

        // Eight days on, the ISPs' reports (7 days) have expired; the agency's (30 days) stay.
        #expect(try cli(["expire", "--now", at(8)]).out.hasPrefix("expired 4,"), "three ISP listings and the public one (3 days)")
        #expect(try answers("192.0.2.2", server.port, want: []) == [])
        #expect(try answers("192.0.2.1", server.port, want: ["127.0.0.3"]) == ["127.0.0.3"])
        #expect(try cli(["lookup", "192.0.2.2", "--now", at(8)]).out.contains("spam: expired"))

        // Delisting takes it out at once and holds back an untrusted re-report during the grace.
        _ = try cli(["delist", "203.0.113.5", "--reason", "customer moved", "--grace", "14d", "--now", at(8)])
        #expect(try answers("203.0.113.5", server.port, want: []) == [])
        let rereport = try cli(["ingest", "--source", "a", "--category", "fraud", "--now", at(9), try file("r.txt", "203.0.113.5\n")])
        #expect(rereport.out.contains("pending 1"))
        #expect(try cli(["lookup", "203.0.113.5", "--now", at(9)]).out.contains("fraud: delisted"), "held back by the grace")
        // The operator restores it from history.
        _ = try cli(["restore", "203.0.113.5", "--now", at(10)])
        #expect(try answers("203.0.113.5", server.port, want: ["127.0.0.3"]) == ["127.0.0.3"])

        // The server writes its query counts every 0.5 s here: wait until all of ours are in.
        func report() throws -> (text: String, queries: Int, listed: Int) {
            let text = try cli(["report", "--since", at(0), "--now", at(10)]).out
            let line = text.split(separator: "\n").first { $0.hasPrefix("\(bl)\t") }.map { $0.split(separator: "\t") }
            return (text, line.flatMap { Int($0[1]) } ?? 0, line.flatMap { Int($0[2]) } ?? 0)
        }
        var counted = try report()
        var waited = 0
        while counted.queries < tally.sent && waited < 100 {
            usleep(100_000)
            counted = try report()
            waited += 1
        }
        #expect(counted.text.contains("viettel\tisp\tspam\t2"))
        #expect(counted.text.contains("mic\tagency\tfraud\t2"))
        // Queries and hits per zone, as the live server counted them: exactly the ones sent here.
        #expect(counted.queries == tally.sent, "queries counted: \(counted.text)")
        #expect(counted.listed == tally.listed, "hits counted: \(counted.text)")
    }
}
