import Foundation
import Synchronization
import TestSupport
import Testing

/// Datasets rewritten while queries run: every query is answered, the new data shows up,
/// a broken rewrite keeps the last good data.
@Suite(.serialized)
struct ReloadTests {
    @Test func rewriteWhileQueryingLosesNothing() throws {
        let dir = temporaryDirectory()
        let file = dir.appendingPathComponent("ip4")
        func write(_ version: Int) throws {
            var text = "$SOA 60 ns.r.test. h.r.test. \(version) 1h 10m 1w 60\n:127.0.0.2:v\(version) $\n127.0.0.2\n"
            for i in 0..<20_000 { text += "10.\(version % 200).\(i / 256).\(i % 256)\n" }
            let tmp = dir.appendingPathComponent("ip4.tmp")
            try text.write(to: tmp, atomically: false, encoding: .utf8)
            // rename(2), as rbldnsd(8) asks of data publishers.
            _ = rename(tmp.path, file.path)
        }
        try write(1)
        let server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--check", "0.2", "--zone", "r.test:ip4set:\(file.path)"])
        defer { server.stop() }
        var failures = 0
        var answered = 0
        var sawVersions = Set<String>()
        let deadline = Date().addingTimeInterval(4)
        var version = 1
        var lastWrite = Date()
        while Date() < deadline {
            if Date().timeIntervalSince(lastWrite) > 0.5 {
                version += 1
                try write(version)
                lastWrite = Date()
            }
            let raw = try DNSClient.query("2.0.0.127.r.test", type: 16, port: server.port, timeout: 1)
            guard let d = Decoded(raw), d.rcode == 0, let txt = d.txtSet.first else {
                failures += 1
                continue
            }
            answered += 1
            sawVersions.insert(txt)
        }
        #expect(failures == 0)
        #expect(answered > 100)
        #expect(sawVersions.count >= 3, "new data should be picked up within a second: \(sawVersions)")
    }

    @Test func brokenDatasetKeepsTheLastGoodData() throws {
        let dir = temporaryDirectory()
        let file = dir.appendingPathComponent("dn")
        try ":127.0.0.2:Listed\ntest\nspam.example\n".write(to: file, atomically: true, encoding: .utf8)
        let server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--check", "0.2", "--zone", "d.test:dnset:\(file.path)"])
        defer { server.stop() }
        #expect(Decoded(try DNSClient.query("spam.example.d.test", type: 1, port: server.port))?.aSet == ["127.0.0.2"])
        // An unreadable dataset (a directory where the file was) fails to load as a whole.
        try FileManager.default.removeItem(at: file)
        try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
        #expect(eventually { ((try? String(contentsOfFile: server.stderrPath, encoding: .utf8)) ?? "").contains("keeping the previous data") })
        #expect(Decoded(try DNSClient.query("spam.example.d.test", type: 1, port: server.port))?.aSet == ["127.0.0.2"])
        // A fixed file is picked up again.
        try FileManager.default.removeItem(at: file)
        try ":127.0.0.3:Listed\ntest\nother.example\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try eventually { Decoded(try DNSClient.query("other.example.d.test", type: 1, port: server.port))?.aSet == ["127.0.0.3"] })
    }

    @Test func sighupForcesAReload() throws {
        let dir = temporaryDirectory()
        let file = dir.appendingPathComponent("dn")
        try "test\na.example\n".write(to: file, atomically: true, encoding: .utf8)
        let server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--check", "0", "--zone", "h.test:dnset:\(file.path)"])
        defer { server.stop() }
        try "test\nb.example\n".write(to: file, atomically: true, encoding: .utf8)
        usleep(300_000)
        #expect(Decoded(try DNSClient.query("b.example.h.test", type: 1, port: server.port))?.rcode == 3)
        kill(server.process.processIdentifier, SIGHUP)
        #expect(try eventually { Decoded(try DNSClient.query("b.example.h.test", type: 1, port: server.port))?.rcode == 0 })
    }
}

/// `thurac rbldnsd` takes rbldnsd's own command line.
@Suite struct RbldnsdCommandLineTests {
    @Test func acceptsRbldnsdOptions() throws {
        let dir = temporaryDirectory()
        let file = dir.appendingPathComponent("ip4")
        try "$SOA 0 ns.c.test. h.c.test. 0 1h 10m 1w 60\n:2:Listed $\n127.0.0.2\n10.0.0.0/8\n".write(
            to: file, atomically: true, encoding: .utf8)
        let port = try freePort()
        let pid = dir.appendingPathComponent("pid").path
        let queryLog = dir.appendingPathComponent("queries").path
        let server = try ServerProcess.thurac([
            "rbldnsd", "-n", "-q", "-e", "-t", "5m:1m:1h", "-c", "1m", "-p", pid, "-l", "+\(queryLog)", "-u", "rbldns",
            "-b", "127.0.0.1/\(port)", "c.test:ip4set:\(file.path)",
        ])
        defer { server.stop() }
        #expect(server.port == port)
        let d = try #require(Decoded(try DNSClient.query("1.2.3.10.c.test", type: 1, port: port)))
        #expect(d.aSet == ["127.0.0.2"])
        #expect(d.answers.first?.contains("\t300\tIN\tA\t") == true, "-t sets the default TTL: \(d.answers)")
        // The pid file is written once the sockets are bound, just after the line the harness waits for.
        #expect(eventually { FileManager.default.fileExists(atPath: pid) })
        let pidText = try String(contentsOfFile: pid, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int32(pidText) == server.process.processIdentifier)
        #expect(eventually { ((try? String(contentsOfFile: queryLog, encoding: .utf8)) ?? "").contains("1.2.3.10.c.test A IN: NOERROR/1/") })
    }
}
