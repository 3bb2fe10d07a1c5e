import Foundation
import TestSupport
import Testing

/// SPEC §3 behaviours, one row per case, checked with libldns as the decoder (CoreDNS-style table).
@Suite(.serialized)
final class BehaviourTests {
    let dir = temporaryDirectory()
    let server: ServerProcess

    init() throws {
        let ip4 = """
            $SOA 3600 ns1.bl.test. hostmaster.bl.test. 42 1h 10m 1w 300
            $NS 3600 ns1.bl.test. ns2.elsewhere.example.
            :127.0.0.2:Listed: $ see https://bl.test/lookup?$
            127.0.0.2
            10.0.0.0/8 :3:Ten $
            !10.1.2.3
            192.0.2.0/24 :2:\(String(repeating: "long reason ", count: 50))$
            192.0.2.0/24 :4:second value
            192.0.2.0/24 :5:third value
            """
        let generic = """
            ns1 A 192.0.2.53
            www A 192.0.2.80
            """
        let dnset = """
            :127.0.0.2:Domain $
            test
            spam.example.com
            *.evil.test
            """
        try ip4.write(to: dir.appendingPathComponent("ip4"), atomically: true, encoding: .utf8)
        try generic.write(to: dir.appendingPathComponent("generic"), atomically: true, encoding: .utf8)
        try dnset.write(to: dir.appendingPathComponent("dnset"), atomically: true, encoding: .utf8)
        server = try ServerProcess.thurac([
            "serve", "--listen", "127.0.0.1:0",
            "--zone", "bl.test:ip4set:\(dir.appendingPathComponent("ip4").path)",
            "--zone", "bl.test:generic:\(dir.appendingPathComponent("generic").path)",
            "--zone", "dbl.test:dnset:\(dir.appendingPathComponent("dnset").path)",
        ])
    }

    deinit { server.stop() }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var type: UInt16
        var rcode: Int
        var answers: Int
        var authority: Int
        var aa = true
        var a: [String]? = nil
        var testDescription: String { "\(name) type \(type)" }
    }

    static let cases: [Case] = [
        Case(name: "2.0.0.127.bl.test", type: 1, rcode: 0, answers: 1, authority: 0, a: ["127.0.0.2"]),
        Case(name: "2.0.0.127.bl.test", type: 16, rcode: 0, answers: 1, authority: 0),
        Case(name: "1.0.0.127.bl.test", type: 1, rcode: 3, answers: 0, authority: 1),  // RFC 5782 negative test point
        Case(name: "0.0.127.bl.test", type: 1, rcode: 0, answers: 0, authority: 1),  // ENT: NODATA (RFC 8020)
        Case(name: "127.bl.test", type: 1, rcode: 0, answers: 0, authority: 1),
        Case(name: "2.0.0.127.bl.test", type: 257, rcode: 0, answers: 0, authority: 1),  // CAA: NODATA
        Case(name: "2.0.0.127.bl.test", type: 65, rcode: 0, answers: 0, authority: 1),  // HTTPS: NODATA
        Case(name: "2.0.0.127.bl.test", type: 65280, rcode: 0, answers: 0, authority: 1),  // private type: NODATA
        Case(name: "2.0.0.127.bl.test", type: 255, rcode: 0, answers: 1, authority: 0),  // ANY: minimal (RFC 8482)
        Case(name: "3.2.1.10.bl.test", type: 1, rcode: 3, answers: 0, authority: 1),  // exclusion
        Case(name: "4.2.1.10.bl.test", type: 1, rcode: 0, answers: 1, authority: 0, a: ["127.0.0.3"]),
        Case(name: "9.2.0.192.bl.test", type: 1, rcode: 0, answers: 3, authority: 0, a: ["127.0.0.2", "127.0.0.4", "127.0.0.5"]),
        Case(name: "bl.test", type: 6, rcode: 0, answers: 1, authority: 0),
        Case(name: "bl.test", type: 2, rcode: 0, answers: 2, authority: 0),
        Case(name: "bl.test", type: 1, rcode: 0, answers: 0, authority: 1),
        Case(name: "www.bl.test", type: 1, rcode: 0, answers: 1, authority: 0, a: ["192.0.2.80"]),
        Case(name: "www.bl.test", type: 16, rcode: 0, answers: 0, authority: 1),
        Case(name: "nothing.bl.test", type: 1, rcode: 3, answers: 0, authority: 1),
        Case(name: "1.2.3.4.5.bl.test", type: 1, rcode: 3, answers: 0, authority: 1),
        Case(name: "test.dbl.test", type: 1, rcode: 0, answers: 1, authority: 0),
        Case(name: "invalid.dbl.test", type: 1, rcode: 3, answers: 0, authority: 1),
        Case(name: "example.com.dbl.test", type: 1, rcode: 0, answers: 0, authority: 1),  // ENT
        Case(name: "com.dbl.test", type: 1, rcode: 0, answers: 0, authority: 1),  // ENT
        Case(name: "a.b.evil.test.dbl.test", type: 1, rcode: 0, answers: 1, authority: 0),
        Case(name: "evil.test.dbl.test", type: 1, rcode: 0, answers: 0, authority: 1),  // owner of a wildcard: exists
        Case(name: "example.org", type: 1, rcode: 5, answers: 0, authority: 0, aa: false),  // out of zone
    ]

    @Test(arguments: cases)
    func answers(_ c: Case) throws {
        let raw = try DNSClient.query(c.name, type: c.type, port: server.port)
        let d = try #require(Decoded(raw))
        #expect(d.rcode == c.rcode)
        #expect(d.answers.count == c.answers, "\(d.answers)")
        #expect(d.authority.count == c.authority, "\(d.authority)")
        #expect(d.aa == c.aa)
        if let a = c.a { #expect(d.aSet == a.sorted()) }
        if c.rcode == 3 || (c.rcode == 0 && c.answers == 0), c.name.hasSuffix("bl.test"), !c.name.hasSuffix("dbl.test") {
            // RFC 2308: the SOA in authority carries min(SOA TTL 3600, MINIMUM 300) = 300.
            #expect(d.authority.first?.contains("\t300\tIN\tSOA\t") == true, "\(d.authority)")
        }
    }

    @Test func negativeAnswerRequestsRecursionStillAuthoritative() throws {
        let d = try #require(Decoded(try DNSClient.query("1.0.0.127.bl.test", type: 1, port: server.port)))
        #expect(d.aa)
        let raw = try DNSClient.query("1.0.0.127.bl.test", type: 1, port: server.port)
        #expect(raw[2] & 0x01 == 1, "RD echoed")
        #expect(raw[3] & 0x80 == 0, "RA clear")
    }

    @Test func caseIsEchoedAsSent() throws {
        let raw = try DNSClient.query("2.0.0.127.Bl.TeSt", type: 1, port: server.port)
        let d = try #require(Decoded(raw))
        #expect(d.question.hasPrefix("2.0.0.127.Bl.TeSt."), "\(d.question)")
        #expect(d.aSet == ["127.0.0.2"])
    }

    @Test func longTXTIsSplitIntoCharacterStrings() throws {
        let d = try #require(Decoded(try DNSClient.query("9.2.0.192.bl.test", type: 16, port: server.port, edns: 4096)))
        let long = try #require(d.answers.first { $0.contains("long reason") })
        // ldns prints each character-string quoted: a split TXT shows as "..." "...".
        #expect(long.contains("\" \""), "\(long)")
        #expect(long.contains("192.0.2.9"))
    }

    @Test func truncatesWithoutEDNSAndAnswersOverTCP() throws {
        let udp = try #require(Decoded(try DNSClient.query("9.2.0.192.bl.test", type: 16, port: server.port)))
        #expect(udp.tc)
        #expect(udp.answers.isEmpty)
        let q = try DNSClient.makeQuery("9.2.0.192.bl.test", type: 16)
        let tcp = try DNSClient.tcpExchange([q], port: server.port)
        let d = try #require(tcp.first.flatMap(Decoded.init))
        #expect(!d.tc)
        #expect(d.answers.count == 3)
    }

    @Test func tcpAnswersPipelinedQueriesInOrder() throws {
        let names = ["2.0.0.127.bl.test", "1.0.0.127.bl.test", "4.2.1.10.bl.test", "bl.test"]
        let qs = try names.enumerated().map { try DNSClient.makeQuery($1, type: 1, id: UInt16($0 + 100)) }
        let answers = try DNSClient.tcpExchange(qs, port: server.port)
        #expect(answers.count == names.count)
        for (i, a) in answers.enumerated() {
            #expect(Int(a[0]) << 8 | Int(a[1]) == i + 100)
        }
        #expect(answers.compactMap(Decoded.init).map(\.rcode) == [0, 3, 0, 0])
    }

    @Test func ednsIsEchoedAndBadVersRefused() throws {
        let d = try #require(Decoded(try DNSClient.query("2.0.0.127.bl.test", type: 1, port: server.port, edns: 1400)))
        #expect(d.ednsPresent)
        #expect(d.ednsUDPSize == 1232)
        let bad = try DNSClient.exchange(try DNSClient.makeQuery("2.0.0.127.bl.test", type: 1, edns: 1400, ednsVersion: 1), port: server.port)
        let b = try #require(Decoded(bad))
        // BADVERS = 16: header RCODE 0 and the OPT's extended RCODE 1 (ldns folds them together).
        #expect(b.rcode == 16 || (bad[3] & 0x0F == 0 && b.answers.isEmpty))
        #expect(b.answers.isEmpty)
    }

    @Test func unknownOpcodeIsNotImplementedWithOpcodeEchoed() throws {
        let q = try DNSClient.makeQuery("2.0.0.127.bl.test", type: 1, opcode: 2)
        let raw = try DNSClient.exchange(q, port: server.port)
        #expect(raw.count >= 12)
        #expect(raw[3] & 0x0F == 4)  // NOTIMP
        #expect((raw[2] >> 3) & 0x0F == 2)  // opcode echoed
        #expect(raw[2] & 0x80 != 0)  // QR
    }

    @Test func malformedQueryIsFormErr() throws {
        var q = try DNSClient.makeQuery("2.0.0.127.bl.test", type: 1)
        q[5] = 2  // QDCOUNT 2 with one question
        let raw = try DNSClient.exchange(q, port: server.port)
        #expect(raw.count >= 12)
        #expect(raw[3] & 0x0F == 1)
        var truncated = try DNSClient.makeQuery("2.0.0.127.bl.test", type: 1)
        truncated.removeLast(3)
        let raw2 = try DNSClient.exchange(truncated, port: server.port)
        #expect(raw2.count >= 12 && raw2[3] & 0x0F == 1)
    }

    @Test func responsesAndGarbageAreDropped() throws {
        var q = try DNSClient.makeQuery("2.0.0.127.bl.test", type: 1)
        q[2] |= 0x80  // QR: a response
        #expect(try DNSClient.exchange(q, port: server.port, timeout: 0.3).isEmpty)
        #expect(try DNSClient.exchange([1, 2, 3], port: server.port, timeout: 0.3).isEmpty)
        // Still answering afterwards.
        #expect(Decoded(try DNSClient.query("2.0.0.127.bl.test", type: 1, port: server.port))?.rcode == 0)
    }

    /// The same behaviours as seen by kdig (Knot's client) and dig (BIND's), over UDP and TCP.
    @Test(arguments: [
        ("kdig", ["+tcp"]), ("kdig", ["+notcp"]), ("dig", ["+tcp"]), ("dig", ["+notcp"]),
    ])
    func standardClientsAgree(client: String, transport: [String]) throws {
        func run(_ name: String, _ type: String) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/\(client)")
            p.arguments = ["@127.0.0.1", "-p", "\(server.port)", name, type] + transport
            let pipe = Pipe()
            p.standardOutput = pipe
            try p.run()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return out
        }
        func status(_ out: String) -> String? {
            // dig: "status: NXDOMAIN,"  kdig: "status: NXDOMAIN;"
            guard let r = out.range(of: #"status: [A-Z]+"#, options: .regularExpression) else { return nil }
            return String(out[r].dropFirst(8))
        }
        let listed = try run("2.0.0.127.bl.test", "A")
        #expect(status(listed) == "NOERROR")
        #expect(listed.contains("127.0.0.2"))
        #expect(listed.range(of: #"flags: qr aa rd[;\s]"#, options: [.regularExpression, .caseInsensitive]) != nil, "\(listed)")
        #expect(status(try run("1.0.0.127.bl.test", "A")) == "NXDOMAIN")
        #expect(status(try run("0.0.127.bl.test", "A")) == "NOERROR")
        #expect(status(try run("2.0.0.127.bl.test", "CAA")) == "NOERROR")
        #expect(status(try run("example.org", "A")) == "REFUSED")
        let long = try run("9.2.0.192.bl.test", "TXT")
        if client == "kdig" && transport == ["+notcp"] {
            // kdig shows the truncated answer as it is, without retrying over TCP.
            #expect(long.range(of: #"flags: qr aa tc rd"#, options: [.regularExpression, .caseInsensitive]) != nil, "\(long)")
        } else {
            #expect(long.contains("second value") && long.contains("third value"), "TC then TCP retry: \(long)")
        }
    }

    @Test func survivesRandomAndMutatedPackets() throws {
        var rng = SeededRandom(seed: 7)
        let seeds = try ["2.0.0.127.bl.test", "test.dbl.test", "bl.test"].map { try DNSClient.makeQuery($0, type: 16, edns: 1232) }
        var tcpBatch: [[UInt8]] = []
        for i in 0..<3000 {
            var p: [UInt8]
            if i % 3 == 0 {
                p = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                p = seeds[i % seeds.count]
                for _ in 0..<Int.random(in: 1...6, using: &rng) {
                    let k = Int.random(in: 0..<p.count, using: &rng)
                    p[k] = UInt8.random(in: 0...255, using: &rng)
                }
                if Bool.random(using: &rng) { p.removeLast(Int.random(in: 0..<p.count, using: &rng)) }
            }
            p[safe: 2] = (p[safe: 2] ?? 0) & 0x7F  // keep most of them queries, so they are parsed deeper
            _ = try DNSClient.exchange(p, port: server.port, timeout: 0.05)
            if i % 10 == 0 && !p.isEmpty { tcpBatch.append(p) }
        }
        for chunk in stride(from: 0, to: tcpBatch.count, by: 20) {
            _ = try? DNSClient.tcpExchange(Array(tcpBatch[chunk..<min(chunk + 20, tcpBatch.count)]), port: server.port)
        }
        #expect(server.process.isRunning)
        #expect(Decoded(try DNSClient.query("2.0.0.127.bl.test", type: 1, port: server.port))?.aSet == ["127.0.0.2"])
    }
}

extension Array where Element == UInt8 {
    subscript(safe i: Int) -> UInt8? {
        get { i < count ? self[i] : nil }
        set { if i < count, let v = newValue { self[i] = v } }
    }
}
