import Foundation
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
        let started = Date()
        #expect(try CLITests.thurac(["ingest", "--source", "mic", "--db", db, feed.path]).status == 0)
        var answered = false
        while Date().timeIntervalSince(started) < 1.0 {
            if let d = Decoded(try DNSClient.query("77.2.0.192.\(zone)", type: 1, port: server.port)), d.aSet == ["127.0.0.3"] {
                answered = true
                break
            }
            usleep(50_000)
        }
        #expect(answered, "the ingested key must be answered within a second")
        let txt = Decoded(try DNSClient.query("77.2.0.192.\(zone)", type: 16, port: server.port))?.txtSet
        #expect(txt == ["\"phishing kit 192.0.2.77\""])
        let after = try soaSerial()
        #expect(before != nil && after != nil && UInt32(after!)! > UInt32(before!)!, "serial \(before ?? "-") -> \(after ?? "-")")

        #expect(try CLITests.thurac(["delist", "192.0.2.77", "--reason", "wrong block", "--db", db]).status == 0)
        usleep(800_000)
        #expect(Decoded(try DNSClient.query("77.2.0.192.\(zone)", type: 1, port: server.port))?.rcode == 3)
    }
}
