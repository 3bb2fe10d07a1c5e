import DNSWire
import Foundation
import Glibc
import Testing

/// Response rate limiting against the built binary, from several loopback clients.
@Suite(.serialized) struct RateLimitTests {
    struct Flood {
        var sent = 0
        var answered = 0
        var truncated = 0
        var seconds = 0.0
    }

    /// Sends `rate` queries a second for `duration` seconds from `from`, counting full answers
    /// and truncated empty ones as they come back.
    static func flood(port: UInt16, from: String, rate: Int, duration: Double) throws -> Flood {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        try bindSource(fd, from)
        var size: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        let query = try DNSClient.makeQuery("2.0.0.127.t.test", type: 1)
        var f = Flood()
        var buf = [UInt8](repeating: 0, count: 4096)
        func drain() {
            while true {
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard n >= 12 else { return }
                if buf[2] & Header.tc != 0 { f.truncated += 1 } else if buf[7] > 0 { f.answered += 1 }
            }
        }
        let start = Date()
        while true {
            let elapsed = Date().timeIntervalSince(start)
            if elapsed >= duration { break }
            let due = Int(elapsed * Double(rate))
            while f.sent < due {
                _ = query.withUnsafeBytes { b in
                    withUnsafePointer(to: &addr) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
                f.sent += 1
            }
            drain()
            usleep(1000)
        }
        f.seconds = Date().timeIntervalSince(start)
        let end = Date()
        while Date().timeIntervalSince(end) < 0.5 {
            drain()
            usleep(5000)
        }
        return f
    }

    static func dataset() throws -> String {
        let file = temporaryDirectory().appendingPathComponent("ip4")
        try "$SOA 60 ns.t.test. h.t.test. 1 1h 10m 1w 60\n127.0.0.2\n".write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test func aFloodGetsTheLimitAndItsSlipsWhileOthersLoseNothing() throws {
        let limit = 50
        let server = try ServerProcess.thurac([
            "serve", "--listen", "127.0.0.1:0", "--zone", "t.test:ip4set:\(try Self.dataset())", "--udp-threads", "2",
            // Each loopback address its own client (the default /24 would make them one).
            "--rrl-responses-per-second", "\(limit)", "--rrl-exempt", "127.0.0.9", "--rrl-ipv4-prefix-length", "32",
        ])
        defer { server.stop() }
        // A client at a normal rate, meanwhile: every query answered in full.
        final class Calm: @unchecked Sendable { var full = 0; var asked = 0 }
        let calm = Calm()
        let calmDone = DispatchSemaphore(value: 0)
        let port = server.port
        Thread.detachNewThread {
            for _ in 0..<16 {
                calm.asked += 1
                if let a = try? DNSClient.exchange(try DNSClient.makeQuery("2.0.0.127.t.test", type: 1), port: port, from: "127.0.0.6"),
                    a.count > 12, a[2] & Header.tc == 0, a[7] == 1
                {
                    calm.full += 1
                }
                usleep(250_000)
            }
            calmDone.signal()
        }
        let f = try Self.flood(port: server.port, from: "127.0.0.5", rate: 10 * limit, duration: 5)
        calmDone.wait()
        print("rate limit flood from 127.0.0.5 at \(10 * limit)/s, limit \(limit)/s: \(f)")
        #expect(calm.full == calm.asked, "the calm client lost \(calm.asked - calm.full) of \(calm.asked)")

        // Per second: the limit answered, every second excess answer truncated, the rest dropped.
        let whole = Int(f.seconds)
        #expect(f.sent > 8 * limit * whole / 2, "the flood ran at \(f.sent) queries in \(f.seconds) s")
        #expect(f.answered <= limit * (whole + 2), "\(f)")
        #expect(f.answered >= limit * (whole - 1), "\(f)")
        let excess = f.sent - f.answered
        #expect(f.truncated <= excess / 2 + 1, "\(f)")
        #expect(f.truncated >= excess / 2 - (whole + 2) - excess / 100, "\(f)")

        // TCP is never limited, not even for the flooding client.
        let overTCP = try DNSClient.tcpExchange([try DNSClient.makeQuery("2.0.0.127.t.test", type: 1)], port: server.port, from: "127.0.0.5")
        #expect(overTCP.count == 1 && overTCP[0][7] == 1)

        // An exempt client floods at will.
        let exempt = try Self.flood(port: server.port, from: "127.0.0.9", rate: 10 * limit, duration: 2)
        #expect(exempt.answered == exempt.sent && exempt.truncated == 0, "\(exempt)")
    }

    @Test func logOnlyLimitsNothingAndCounts() throws {
        let dir = temporaryDirectory().path
        let toml = """
            [store]
            path = "\(dir)/thurac.db"

            [rrl]
            responses_per_second = 20
            nxdomains_per_second = 20
            window = 15
            exempt = []
            log_only = true

            """
        try toml.write(toFile: dir + "/thurac.toml", atomically: true, encoding: .utf8)
        let server = try ServerProcess.thurac(["serve", "--config", dir + "/thurac.toml", "--listen", "127.0.0.1:0"])
        defer { server.stop() }
        var answered = 0
        let n = 200
        let started = Date()
        for i in 0..<n {
            let a = try DNSClient.query("\(i % 250).2.0.192.bl.ninhthuan.gov.vn", type: 1, port: server.port)
            if a.count > 12 && a[2] & Header.tc == 0 { answered += 1 }
        }
        let seconds = Int(Date().timeIntervalSince(started))
        #expect(answered == n, "log_only: every query answered")
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "http://127.0.0.1:\(server.httpPort ?? 0)/metrics"]
        let pipe = Pipe()
        curl.standardOutput = pipe
        try curl.run()
        let metrics = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        curl.waitUntilExit()
        let lines = metrics.split(separator: "\n").filter { $0.hasPrefix("thurac_dns_rrl_responses_total{") && $0.contains("nxdomain") }
        let counted = lines.compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        // All but 20 per second the queries took (counted from the seconds they touched).
        print("log only, \(n) NXDOMAIN answers in \(seconds)+ s: \(lines)")
        #expect(counted >= Double(n - 20 * (seconds + 2)), "\(lines)")
        #expect(counted <= Double(n - 20), "\(lines)")
        #expect(metrics.contains("thurac_dns_rrl_limited_clients 1"), "\(metrics.split(separator: "\n").filter { $0.contains("rrl") })")
    }
}
