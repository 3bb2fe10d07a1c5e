import Foundation
import Glibc
import TestSupport
import Testing

/// `thurac serve` killed with SIGKILL at random moments, under load and while an ingest runs,
/// then started again: the store passes SQLite's integrity check, no committed report is lost,
/// the restarted server answers as `thurac lookup` says and its serial never goes back. A store
/// file that is garbage stops the start with a one-line reason; a full disk fails the writer
/// and not the server.
@Suite(.serialized)
struct ServeCrashTests {
    static let zone = "bl.ninhthuan.gov.vn"

    static func serial(_ port: UInt16) throws -> UInt32? {
        try Decoded(DNSClient.query(zone, type: 6, port: port))?.answers.first?.split(separator: "\t").last
            .flatMap { UInt32($0.split(separator: " ")[2]) }
    }

    static func listed(_ key: String, port: UInt16) -> Bool {
        let name = key.split(separator: ".").reversed().joined(separator: ".") + "." + zone
        return (try? DNSClient.query(name, type: 1, port: port)).flatMap { Decoded($0) }.map { !$0.aSet.isEmpty } ?? false
    }

    @Test func killedServeRestartsWithTheSameAnswersAndNoSerialGoesBack() throws {
        let dir = temporaryDirectory()
        let db = dir.appendingPathComponent("var/thurac.db").path
        #expect(try CLITests.thurac(["sources", "add", "isp", "--kind", "isp", "--db", db]).status == 0)
        var rng = SeededRandom(seed: 13)
        var committed: [String] = []
        var server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--db", db])
        defer { server.stop() }
        var lastSerial = try #require(try Self.serial(server.port))
        for round in 0..<4 {
            // A feed of 20,000 addresses, ingested by another process while the server is killed.
            let feed = dir.appendingPathComponent("feed-\(round).txt")
            var text = ""
            for i in 0..<20_000 { text += "10.\(round).\(i >> 8 & 255).\(i & 255)\n" }
            try text.write(to: feed, atomically: true, encoding: .utf8)
            let ingest = Process()
            ingest.executableURL = URL(fileURLWithPath: thuracBinary)
            ingest.arguments = ["ingest", "--source", "isp", "--db", db, feed.path]
            ingest.standardOutput = FileHandle.nullDevice
            ingest.standardError = FileHandle.nullDevice
            // Load: a client asking all the while.
            let port = server.port
            let stop = Flag()
            let load = Thread { while !stop.isSet { _ = try? DNSClient.query("2.0.0.127.\(Self.zone)", type: 1, port: port, timeout: 0.2) } }
            load.start()
            try ingest.run()
            usleep(UInt32.random(in: 20_000...400_000, using: &rng))
            kill(server.process.processIdentifier, SIGKILL)
            while server.process.isRunning { usleep(10_000) }
            stop.set()
            ingest.waitUntilExit()
            if ingest.terminationStatus == 0 { committed += ["10.\(round).0.0", "10.\(round).78.31"] }

            let check = try CLITests.run("/usr/bin/python3", ["-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])", db])
            #expect(check.out.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "round \(round): \(check.out) \(check.err)")

            server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--db", db])
            let serial = try #require(try Self.serial(server.port))
            // RFC 1982: the new serial is the old one or newer.
            #expect(serial == lastSerial || (serial &- lastSerial) < 0x8000_0000, "round \(round): serial \(lastSerial) -> \(serial)")
            lastSerial = serial
            for key in committed { #expect(Self.listed(key, port: server.port), "round \(round): committed \(key) is answered") }
            // What DNS answers is what the store says, for a key of this round's feed.
            let key = "10.\(round).40.1"
            let lookup = try CLITests.thurac(["lookup", key, "--db", db]).out
            #expect(lookup.contains(": published") == Self.listed(key, port: server.port), "round \(round): \(lookup)")
        }
        // After all that, an ingest runs to its end and is answered by the restarted server.
        let last = dir.appendingPathComponent("last.txt")
        try "198.51.100.9\n".write(to: last, atomically: true, encoding: .utf8)
        #expect(try CLITests.thurac(["ingest", "--source", "isp", "--db", db, last.path]).status == 0)
        #expect(eventually { Self.listed("198.51.100.9", port: server.port) })
    }

    /// The store on a small tmpfs that fills up while serve runs: the ingest fails, says the
    /// disk is full and changes nothing; serve keeps answering from memory and says once that
    /// it cannot record its counts; with space again, the same ingest goes through. Mounting
    /// needs root (as `make test` runs in CI).
    @Test(.enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
    func aFullDiskFailsTheIngestAndServeKeepsAnswering() throws {
        let dir = temporaryDirectory()
        let storeDir = dir.appendingPathComponent("var")
        try FileManager.default.createDirectory(at: storeDir, withIntermediateDirectories: true)
        let mount = try CLITests.run("/bin/mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", storeDir.path])
        try #require(mount.status == 0, "\(mount.err)")
        defer { _ = try? CLITests.run("/bin/umount", ["-l", storeDir.path]) }
        let db = storeDir.appendingPathComponent("thurac.db").path
        func thurac(_ args: [String]) throws -> CLITests.Run { try CLITests.thurac(args + ["--db", db]) }
        let added = try thurac(["sources", "add", "isp", "--kind", "isp"])
        let token = added.out.split(separator: "\n").first.map(String.init) ?? ""
        let first = dir.appendingPathComponent("first.txt")
        try "192.0.2.1\n".write(to: first, atomically: true, encoding: .utf8)
        #expect(try thurac(["ingest", "--source", "isp", first.path]).status == 0)
        let server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--db", db, "--stats-interval", "0.2"])
        defer { server.stop() }
        #expect(Self.listed("192.0.2.1", port: server.port))

        // Fill what is left of the disk.
        let filler = storeDir.appendingPathComponent("filler").path
        _ = try CLITests.run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=4k"])
        let feed = dir.appendingPathComponent("feed.txt")
        try (0..<20_000).map { "10.9.\($0 >> 8 & 255).\($0 & 255)\n" }.joined().write(to: feed, atomically: true, encoding: .utf8)
        let full = try thurac(["ingest", "--source", "isp", feed.path])
        #expect(full.status != 0)
        #expect(full.err.contains("disk is full") && full.err.contains("nothing of this change was written"), "\(full.err)")
        #expect(full.err.split(separator: "\n").count == 1, "one line: \(full.err)")
        // The same feed pushed over HTTP: 503, come back later.
        let headers = dir.appendingPathComponent("headers").path
        let pushed = try CLITests.run("/usr/bin/curl", [
            "-s", "-o", "/dev/null", "-D", headers, "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)",
            "--data-binary", "@\(feed.path)", "http://127.0.0.1:\(server.httpPort ?? 0)/v1/feeds/isp",
        ])
        #expect(pushed.out == "503", "\(pushed.out) \(pushed.err)")
        #expect(try String(contentsOfFile: headers, encoding: .utf8).lowercased().contains("retry-after: 5"))
        // Serve answers from memory meanwhile, and the store has nothing of the failed ingest.
        for _ in 0..<20 { #expect(Self.listed("192.0.2.1", port: server.port)) }
        #expect(!Self.listed("10.9.0.1", port: server.port))
        #expect(try thurac(["lookup", "10.9.0.1"]).out.contains("not listed"))
        usleep(600_000)  // a few of serve's count-writing intervals, all failing
        #expect(server.process.isRunning)
        let log = try String(contentsOfFile: server.stderrPath, encoding: .utf8)
        #expect(log.components(separatedBy: "could not record query counts").count - 1 == 1, "said once: \(log)")

        // With room again, the same ingest goes through and is answered.
        try FileManager.default.removeItem(atPath: filler)
        let again = try thurac(["ingest", "--source", "isp", feed.path])
        #expect(again.status == 0, "\(again.err)")
        #expect(eventually { Self.listed("10.9.0.1", port: server.port) })
        let check = try CLITests.run("/usr/bin/python3", ["-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])", db])
        #expect(check.out.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "\(check.out) \(check.err)")
    }

    @Test func aStoreFileOfGarbageIsRefusedInOneLine() throws {
        let dir = temporaryDirectory()
        let db = dir.appendingPathComponent("var/thurac.db").path
        #expect(try CLITests.thurac(["sources", "add", "isp", "--kind", "isp", "--db", db]).status == 0)
        var rng = SeededRandom(seed: 7)
        let garbage = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try Data(garbage).write(to: URL(fileURLWithPath: db))
        for f in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + f) }
        do {
            let s = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--db", db])
            s.stop()
            Issue.record("serve started on a garbage store")
        } catch let e as HarnessError {
            let lines = "\(e)".replacingOccurrences(of: "thurac exited: ", with: "").split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains(db), "\(e)")
        }
    }
}

/// A flag one thread sets and another reads.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
