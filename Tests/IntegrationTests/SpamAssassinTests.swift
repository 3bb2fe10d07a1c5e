import Foundation
import TestSupport
import Testing

/// A real DNSBL client against a live thurac: SpamAssassin 4 (Debian) with rules for the three
/// listing zones — the last external relay against bl (check_rbl, and check_rbl_sub for one
/// category), the sender's address against hbl (HashBL, `_email` convention), link domains
/// against dbl (URIDNSBL).
@Suite(.serialized)
struct SpamAssassinTests {
    static let vectors = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("SpamAssassin")

    /// Runs `spamassassin -t` on a message with the thurac rules, returns the X-Spam-Status tests.
    func tests(_ message: String, _ port: UInt16, _ dir: URL) throws -> [String] {
        let conf = dir.appendingPathComponent("sa")
        if !FileManager.default.fileExists(atPath: conf.path) {
            try FileManager.default.createDirectory(at: conf, withIntermediateDirectories: true)
            // The plugin loads of the installed SpamAssassin, and our rules only.
            for pre in try FileManager.default.contentsOfDirectory(atPath: "/etc/spamassassin") where pre.hasSuffix(".pre") {
                try FileManager.default.copyItem(atPath: "/etc/spamassassin/" + pre, toPath: conf.appendingPathComponent(pre).path)
            }
            let rules = try String(contentsOf: Self.vectors.appendingPathComponent("thurac.cf"), encoding: .utf8)
                .replacingOccurrences(of: "DNS_SERVER", with: "127.0.0.1:\(port)")
            try rules.write(to: conf.appendingPathComponent("thurac.cf"), atomically: true, encoding: .utf8)
            try "".write(to: dir.appendingPathComponent("prefs.cf"), atomically: true, encoding: .utf8)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/spamassassin")
        p.arguments = ["--configpath=\(conf.path)", "--siteconfigpath=\(conf.path)", "--prefspath=\(dir.appendingPathComponent("prefs.cf").path)", "-t"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data(message.utf8))
        try input.fileHandleForWriting.close()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        // Headers are folded: a continuation line starts with white space.
        let unfolded = out.replacingOccurrences(of: "\n\t", with: " ").replacingOccurrences(of: "\n ", with: " ")
        guard let status = unfolded.split(separator: "\n").first(where: { $0.hasPrefix("X-Spam-Status:") }),
            let t = status.range(of: "tests=")
        else { return ["no X-Spam-Status: \(out.prefix(300))"] }
        return status[t.upperBound...].split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    @Test func spamAssassinFindsListingsInAllThreeZones() throws {
        let dir = temporaryDirectory()
        let db = dir.appendingPathComponent("var/thurac.db").path
        #expect(try CLITests.thurac(["sources", "add", "mic", "--kind", "agency", "--db", db]).status == 0)
        let feed = dir.appendingPathComponent("feed.csv")
        try """
            key,category,reason
            192.0.2.99,fraud,botnet relay
            bad-sender@mailer.com,fraud,phishing sender
            spam-shop.com,advertising,unsolicited ads
            """.write(to: feed, atomically: true, encoding: .utf8)
        #expect(try CLITests.thurac(["ingest", "--source", "mic", "--db", db, feed.path]).status == 0)
        let server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--db", db])
        defer { server.stop() }

        let relay = try String(contentsOf: Self.vectors.appendingPathComponent("listed-relay.eml"), encoding: .utf8)
        let listed = try tests(relay, server.port, dir).sorted()
        #expect(listed == ["RCVD_IN_THURAC", "RCVD_IN_THURAC_FRAUD"], "\(listed)")
        let unlisted = relay.replacingOccurrences(of: "192.0.2.99", with: "192.0.2.98")
        let clean = try tests(unlisted, server.port, dir)
        #expect(clean == ["none"], "\(clean)")
        let sender = try String(contentsOf: Self.vectors.appendingPathComponent("listed-sender-and-uri.eml"), encoding: .utf8)
        let byContent = try tests(sender, server.port, dir).sorted()
        #expect(byContent == ["THURAC_HBL", "URIBL_THURAC"], "\(byContent)")
    }
}
