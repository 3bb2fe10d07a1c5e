import Foundation
import Glibc
import ListingKeys
import TestSupport
import Testing

/// Spam reports by e-mail through a real Postfix (Debian's, a private instance on a loopback
/// port with its own configuration and queue, stopped by PID): forwards arrive by SMTP, the
/// transport of docs/intake/ pipes each to `thurac intake`, and thurac serves the result.
@Suite(.serialized) struct IntakeTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let vectors = repo.appendingPathComponent("Tests/MailIntakeTests/Messages")

    final class Setup {
        let dir = temporaryDirectory().path
        let smtpPort: UInt16
        var postfix: ServerProcess?
        var thurac: ServerProcess?
        var config: String { dir + "/thurac.toml" }
        var db: String { dir + "/store/thurac.db" }
        var etc: String { dir + "/postfix" }
        var maillog: String { dir + "/maillog" }
        var binary: String { dir + "/thurac" }

        init() throws {
            smtpPort = try freePort()
        }

        func stop() {
            postfix?.stop()
            thurac?.stop()
        }

        func run(_ program: String, _ args: [String]) throws -> CLITests.Run {
            let r = try CLITests.run(program, args)
            #expect(r.status == 0, "\(program) \(args): \(r.out) \(r.err)")
            return r
        }

        /// The shipped zones and skeletons, the store in `store/`, the province's relays.
        func writeConfig(dnsPort: UInt16) throws {
            var toml = try String(contentsOf: IntakeTests.repo.appendingPathComponent("Zones/thurac.toml"), encoding: .utf8)
            // The pipe runs as nobody, who may not reach into the checkout (CI clones anywhere):
            // the skeletons and the binary it runs are copied next to the store.
            for z in ["bl", "dbl", "hbl", "wl"] {
                let name = "\(z).ninhthuan.gov.vn.zone"
                try FileManager.default.copyItem(atPath: IntakeTests.repo.appendingPathComponent("Zones/\(name)").path, toPath: dir + "/" + name)
            }
            try FileManager.default.copyItem(atPath: thuracBinary, toPath: binary)
            toml = toml.replacingOccurrences(of: "path = \"var/thurac.db\"", with: "path = \"\(db)\"")
            toml = toml.replacingOccurrences(of: "dns = [\"127.0.0.1:5300\"]", with: "dns = [\"127.0.0.1:\(dnsPort)\"]")
            toml += """

                [intake]
                trusted_relays = ["198.51.100.0/24", ".vnpt.vn", "mx.fpt.example"]
                mailboxes = { "spam@vnpt.example" = "vnpt" }

                """
            try toml.write(toFile: config, atomically: true, encoding: .utf8)
        }

        /// A private Postfix: main.cf and master.cf of its own, with docs/intake/'s lines as
        /// they are but for the mailbox, the binary, the configuration and the pipe's user.
        func startPostfix() throws {
            for d in [etc, dir + "/queue", dir + "/data"] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
            var mainFragment = try String(contentsOf: IntakeTests.repo.appendingPathComponent("docs/intake/main.cf"), encoding: .utf8)
            mainFragment = mainFragment.replacingOccurrences(of: "spam@ninhthuan.gov.vn", with: "spam@intake.test")
            var masterFragment = try String(contentsOf: IntakeTests.repo.appendingPathComponent("docs/intake/master.cf"), encoding: .utf8)
            masterFragment = masterFragment.replacingOccurrences(of: "user=thurac", with: "user=nobody")
                .replacingOccurrences(of: "/usr/local/bin/thurac", with: binary).replacingOccurrences(of: "/etc/thurac/thurac.toml", with: config)
            let main = """
                compatibility_level = 3.6
                queue_directory = \(dir)/queue
                data_directory = \(dir)/data
                mail_owner = postfix
                setgid_group = postdrop
                inet_interfaces = 127.0.0.1
                inet_protocols = ipv4
                myhostname = mail.intake.test
                mydomain = intake.test
                myorigin = intake.test
                mydestination = intake.test, vnpt.example
                mynetworks = 127.0.0.0/8
                local_recipient_maps =
                alias_maps =
                alias_database =
                smtpd_recipient_restrictions = permit_mynetworks, reject
                maillog_file = /dev/stdout
                smtputf8_enable = no
                biff = no
                # A deferred message is tried again when the test flushes the queue.
                minimal_backoff_time = 1h
                \(mainFragment)
                """
            let services = [
                "127.0.0.1:\(smtpPort) inet n - n - - smtpd",
                "pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup", "qmgr unix n - n 300 1 qmgr",
                "rewrite unix - - n - - trivial-rewrite", "bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce",
                "trace unix - - n - 0 bounce", "verify unix - - n - 1 verify", "flush unix n - n 1000? 0 flush",
                "proxymap unix - - n - - proxymap", "smtp unix - - n - - smtp", "relay unix - - n - - smtp", "showq unix n - n - - showq",
                "error unix - - n - - error", "retry unix - - n - - error", "discard unix - - n - - discard", "local unix - n n - - local",
                "anvil unix - - n - 1 anvil", "scache unix - - n - 1 scache", "postlog unix-dgram n - n - 1 postlogd",
            ]
            try main.write(toFile: etc + "/main.cf", atomically: true, encoding: .utf8)
            try (services.joined(separator: "\n") + "\n" + masterFragment).write(toFile: etc + "/master.cf", atomically: true, encoding: .utf8)
            _ = try run("/bin/chown", ["postfix", dir + "/data"])
            FileManager.default.createFile(atPath: maillog, contents: nil)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/postfix")
            p.arguments = ["-c", etc, "start-fg"]
            p.standardOutput = FileHandle(forWritingAtPath: maillog)
            p.standardError = FileHandle(forWritingAtPath: maillog)
            try p.run()
            postfix = ServerProcess(process: p, port: smtpPort, stderrPath: maillog)
            for _ in 0..<200 {
                if (try? String(contentsOfFile: maillog, encoding: .utf8))?.contains("daemon started") == true { return }
                if !p.isRunning { break }
                usleep(50_000)
            }
            throw HarnessError("postfix did not start: \((try? String(contentsOfFile: maillog, encoding: .utf8)) ?? "")")
        }

        /// A forward by SMTP, as a forwarder's mail client sends it.
        func send(_ vector: String, from forwarder: String, to mailbox: String) throws {
            _ = try run(
                "/usr/bin/curl", [
                    "-sS", "smtp://127.0.0.1:\(smtpPort)", "--mail-from", forwarder, "--mail-rcpt", mailbox, "--upload-file",
                    IntakeTests.vectors.appendingPathComponent(vector).path,
                ])
        }

        func log() -> String { (try? String(contentsOfFile: maillog, encoding: .utf8)) ?? "" }

        /// Waits until the mail log has `count` lines containing `text`.
        func waitForLog(_ text: String, count: Int, timeout: Double = 30) -> Bool {
            let start = Date()
            while Date().timeIntervalSince(start) < timeout {
                if log().components(separatedBy: text).count - 1 >= count { return true }
                usleep(100_000)
            }
            return false
        }

        func lookup(_ key: String) throws -> String { try run(thuracBinary, ["lookup", key, "--config", config]).out }

        func answer(_ name: String) -> Decoded? {
            guard let port = thurac?.port else { return nil }
            return (try? DNSClient.query(name, type: 1, port: port, timeout: 1)).flatMap { Decoded($0) }
        }

        /// Until thurac answers `name` with `a` (or NXDOMAIN for nil), within a few seconds.
        func waitForAnswer(_ name: String, _ a: [String]) -> Bool {
            for _ in 0..<50 {
                if let d = answer(name), d.aSet == a { return true }
                usleep(100_000)
            }
            return false
        }
    }

    @Test func forwardedSpamThroughPostfix() throws {
        let s = try Setup()
        defer { s.stop() }
        let dnsPort = try freePort()
        try s.writeConfig(dnsPort: dnsPort)
        _ = try s.run(thuracBinary, ["sources", "add", "vnpt", "--kind", "isp", "--config", s.config])
        // The pipe runs as nobody: the store's directory and files are its to write.
        _ = try s.run("/bin/chmod", ["777", s.dir + "/store"])
        _ = try s.run("/bin/sh", ["-c", "chown nobody \(s.dir)/store/thurac.db* && chmod 666 \(s.dir)/store/thurac.db*"])
        s.thurac = try ServerProcess.thurac(["serve", "--config", s.config])
        try s.startPostfix()

        let bl = "bl.ninhthuan.gov.vn"
        // Three forwarders of the same spam: pending after one and two, listed after the third.
        for (n, forwarder) in ["citizen1@gmail.com", "citizen2@gmail.com", "citizen3@yahoo.example"].enumerated() {
            try s.send("attachment.eml", from: forwarder, to: "spam@intake.test")
            #expect(s.waitForLog("relay=thurac", count: n + 1), "delivery \(n + 1):\n\(s.log())")
            #expect(s.log().components(separatedBy: "status=sent (delivered via thurac service").count - 1 == n + 1, "\(s.log())")
            if n < 2 {
                #expect(try s.lookup("203.0.113.7").contains("pending"))
                #expect(s.answer("7.113.0.203.\(bl)")?.rcode == 3, "not in DNS before the third reporter")
            }
        }
        // Labelled [QC]: advertising (127.0.0.5); the sender's hashed address and the advertised domain too.
        let listed = s.waitForAnswer("7.113.0.203.\(bl)", ["127.0.0.5"])
        #expect(listed, "\((try? s.lookup("203.0.113.7")) ?? "")")
        let hashed = ListingKey.hashedLabel(email: "promo@spam-sender.example")
        #expect(s.waitForAnswer("\(hashed)._email.hbl.ninhthuan.gov.vn", ["127.0.0.5"]))
        #expect(s.waitForAnswer("example.com.vn.dbl.ninhthuan.gov.vn", ["127.0.0.5"]))
        let explained = try s.lookup("203.0.113.7")
        #expect(explained.contains("Message-ID <20261130.spam.1@spam-sender.example>") && explained.contains("hop: 203.0.113.7"), "\(explained)")
        #expect(!explained.contains("citizen1@gmail.com"), "a lookup names no forwarder")
        // The operator opens a stored message.
        let list = try s.run(thuracBinary, ["messages", "list", "--config", s.config]).out
        #expect(list.split(separator: "\n").count == 3 && list.contains("citizen1@gmail.com"), "\(list)")
        let id = String(list.split(separator: "\n")[0].split(separator: "\t")[0])
        let shown = try s.run(thuracBinary, ["messages", "show", id, "--config", s.config]).out
        #expect(shown.contains("Message-ID: <20261130.spam.1@spam-sender.example>"))

        // A mailbox bound to an ISP source publishes at once.
        try s.send("ipv6.eml", from: "customer@fpt.example", to: "spam@vnpt.example")
        let v6 = (0..<32).map { String((UInt128(0x2001_0DB8_0005) << 80 | 7) >> (4 * UInt128($0)) & 15, radix: 16) }.joined(separator: ".")
        #expect(s.waitForAnswer("\(v6).\(bl)", ["127.0.0.2"]), "\(s.log())")

        // The store locked by another writer: intake gives up after the busy timeout with 75,
        // Postfix defers and keeps the message, and delivers it once the store is free.
        let flag = s.dir + "/locked"
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        locker.arguments = [
            "-c",
            """
            import os, sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute('BEGIN EXCLUSIVE')
            open(sys.argv[2], 'w').write('locked')
            for _ in range(2400):
                if os.path.exists(sys.argv[3]): break
                time.sleep(0.05)
            c.execute('COMMIT')
            """,
            s.db, flag, flag + ".release",
        ]
        try locker.run()
        defer { if locker.isRunning { locker.terminate() } }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: flag) { usleep(50_000) }
        try s.send("windows-1258.eml", from: "citizen4@vnpt.vn", to: "spam@intake.test")
        #expect(s.waitForLog("status=deferred", count: 1, timeout: 40), "\(s.log())")
        #expect(try s.lookup("203.0.113.80").contains("not listed (no reports)"), "nothing recorded while locked")
        FileManager.default.createFile(atPath: flag + ".release", contents: nil)
        for _ in 0..<100 where locker.isRunning { usleep(50_000) }
        _ = try s.run("/usr/sbin/postqueue", ["-c", s.etc, "-f"])
        #expect(s.waitForLog("status=sent (delivered via thurac service", count: 5, timeout: 30), "\(s.log())")
        #expect(try s.lookup("203.0.113.80").contains("pending"), "delivered later, nothing lost")
    }
}
