import Foundation
import Glibc
import TestSupport
import Testing

/// Sockets: IPv6 listening, TCP idle timeout and connection cap, counters on SIGUSR1.
@Suite(.serialized)
struct TransportTests {
    static func dataset() throws -> String {
        let dir = temporaryDirectory()
        let file = dir.appendingPathComponent("ip4")
        try "$SOA 60 ns.t.test. h.t.test. 1 1h 10m 1w 60\n127.0.0.2\n".write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test func answersOverIPv6Loopback() throws {
        let server = try ServerProcess.thurac(["serve", "--listen", "[::1]:0", "--zone", "t.test:ip4set:\(try Self.dataset())"])
        defer { server.stop() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/dig")
        p.arguments = ["@::1", "-p", "\(server.port)", "+short", "2.0.0.127.t.test", "A"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "127.0.0.2")
    }

    /// The default UDP thread count is the CPUs thurac may run on: one under `taskset -c 0`
    /// (it counted every online CPU, two workers fighting for one core); `--udp-threads` wins.
    @Test func theDefaultThreadCountRespectsTheAffinityMask() throws {
        for (launcher, options, expected) in [
            (["/usr/bin/taskset", "-c", "0"], [String](), "1 UDP thread)"), (["/usr/bin/taskset", "-c", "0"], ["--udp-threads", "3"], "3 UDP threads)"),
        ] {
            let server = try ServerProcess.thurac(
                ["serve", "--listen", "127.0.0.1:0", "--zone", "t.test:ip4set:\(try Self.dataset())"] + options, launcher: launcher)
            defer { server.stop() }
            let log = try String(contentsOfFile: server.stderrPath, encoding: .utf8)
            #expect(log.contains(expected), "\(launcher) \(options): \(log)")
            #expect(try DNSClient.query("2.0.0.127.t.test", type: 1, port: server.port).count > 0, "it answers")
        }
    }

    @Test func idleTCPConnectionsAreClosed() throws {
        let server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--zone", "t.test:ip4set:\(try Self.dataset())"])
        defer { server.stop() }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = server.port.bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(rc == 0)
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        // The server closes a silent connection after its 10 s idle timeout: recv sees EOF (0),
        // where its own 20 s timeout would be -1.
        #expect(n == 0)
    }

    @Test func countersAreLoggedOnSIGUSR1() throws {
        let server = try ServerProcess.thurac(["serve", "--listen", "127.0.0.1:0", "--zone", "t.test:ip4set:\(try Self.dataset())"])
        defer { server.stop() }
        for _ in 0..<5 { _ = try DNSClient.query("2.0.0.127.t.test", type: 1, port: server.port) }
        for _ in 0..<3 { _ = try DNSClient.query("1.0.0.127.t.test", type: 1, port: server.port) }
        kill(server.process.processIdentifier, SIGUSR1)
        // zone:queries:positive:nxdomain:bytes-in:bytes-out; the line comes when the server
        // gets to it (a loaded machine took more than the 0.3 s this test once waited).
        let line = #"t\.test:8:5:3:\d+:\d+"#
        var log = ""
        for _ in 0..<100 {
            log = try String(contentsOfFile: server.stderrPath, encoding: .utf8)
            if log.range(of: line, options: .regularExpression) != nil { break }
            usleep(100_000)
        }
        #expect(log.range(of: line, options: .regularExpression) != nil, "\(log)")
    }
}
