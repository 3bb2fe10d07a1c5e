import DNSWire
import Foundation
import TestSupport
import Testing

/// Query ACLs of the store's zones (`[acl] rules`, `[[zone]] acl`) against the built binary,
/// from several loopback client addresses.
@Suite struct QueryACLTests {
    struct Case: Sendable, CustomStringConvertible {
        var from: String
        var name: String
        var type: UInt16 = 1
        /// nil: no answer at all.
        var rcode: UInt8?
        var answer: String? = nil
        var description: String { "\(from) asks \(name)/\(type)" }
    }

    // bl: .21 ignored, .22 empty, .23 a fixed answer, .24/30 refused before .25's allow (first
    // match); then the global rules: .20 refused, the rest of 127/8 allowed.
    static let cases: [Case] = [
        Case(from: "127.0.0.1", name: "9.2.0.192.bl.ninhthuan.gov.vn", rcode: 0, answer: "127.0.0.2"),
        Case(from: "127.0.0.1", name: "8.2.0.192.bl.ninhthuan.gov.vn", rcode: 3),
        Case(from: "127.0.0.20", name: "9.2.0.192.bl.ninhthuan.gov.vn", rcode: 5),
        Case(from: "127.0.0.20", name: "spam.example.dbl.ninhthuan.gov.vn", rcode: 5),
        Case(from: "127.0.0.21", name: "9.2.0.192.bl.ninhthuan.gov.vn", rcode: nil),
        Case(from: "127.0.0.21", name: "spam.example.dbl.ninhthuan.gov.vn", rcode: 0, answer: "127.0.0.2"),
        Case(from: "127.0.0.22", name: "9.2.0.192.bl.ninhthuan.gov.vn", rcode: 3),
        Case(from: "127.0.0.22", name: "bl.ninhthuan.gov.vn", type: 6, rcode: 0),
        Case(from: "127.0.0.23", name: "8.2.0.192.bl.ninhthuan.gov.vn", rcode: 0, answer: "127.255.255.254"),
        Case(from: "127.0.0.23", name: "8.2.0.192.bl.ninhthuan.gov.vn", type: 16, rcode: 0, answer: "127.0.0.23"),
        Case(from: "127.0.0.25", name: "9.2.0.192.bl.ninhthuan.gov.vn", rcode: 5),
        Case(from: "127.0.0.25", name: "spam.example.dbl.ninhthuan.gov.vn", rcode: 0, answer: "127.0.0.2"),
    ]

    /// One server for the whole table (stopped by PID at the end).
    @Test func firstMatchingRuleDecides() throws {
        let dir = temporaryDirectory().path
        for z in ["bl", "dbl", "hbl", "wl"] {
            let name = "\(z).ninhthuan.gov.vn.zone"
            try FileManager.default.copyItem(atPath: APITests.repo.appendingPathComponent("Zones/\(name)").path, toPath: dir + "/" + name)
        }
        var toml = try String(contentsOf: APITests.repo.appendingPathComponent("Zones/thurac.toml"), encoding: .utf8)
        toml = toml.replacingOccurrences(of: "path = \"var/thurac.db\"", with: "path = \"\(dir)/thurac.db\"")
        toml = toml.replacingOccurrences(
            of: "lists = \"addresses\"\n",
            with: """
                lists = "addresses"
                acl = [
                  { from = "127.0.0.21", action = "ignore" },
                  { from = "127.0.0.22", action = "empty" },
                  { from = "127.0.0.23", action = "127.255.255.254" },
                  { from = "127.0.0.24/30", action = "refuse" },
                  { from = "127.0.0.25", action = "allow" },
                ]

                """)
        toml += "\n[acl]\nrules = [{ from = \"127.0.0.20\", action = \"refuse\" }, { from = \"127.0.0.0/8\", action = \"allow\" }]\n"
        let config = dir + "/thurac.toml"
        try toml.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try CLITests.thurac(["sources", "add", "isp1", "--kind", "isp", "--config", config]).status == 0)
        try "192.0.2.9\nspam.example\n".write(toFile: dir + "/feed.txt", atomically: true, encoding: .utf8)
        #expect(try CLITests.thurac(["ingest", "--source", "isp1", "--config", config, dir + "/feed.txt"]).status == 0)
        let server = try ServerProcess.thurac(["serve", "--config", config, "--listen", "127.0.0.1:0"])
        defer { server.stop() }

        for c in Self.cases {
            let reply = try DNSClient.exchange(
                try DNSClient.makeQuery(c.name, type: c.type), port: server.port, timeout: c.rcode == nil ? 1 : 2, from: c.from)
            guard let rcode = c.rcode else {
                #expect(reply.isEmpty, "\(c): ignored, so no answer")
                continue
            }
            guard reply.count >= 12 else {
                Issue.record("\(c): no answer")
                continue
            }
            #expect(reply[3] & 0x0F == rcode, "\(c)")
            if let a = c.answer {
                let text = Decoded(reply)?.answers.joined(separator: " ") ?? ""
                #expect(text.contains(a), "\(c): \(text)")
            }
        }
    }
}
