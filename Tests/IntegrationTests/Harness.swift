import DNSWire
import Foundation
import Glibc
import TestSupport

/// Starts a server process on loopback and stops it by its PID when done.
final class ServerProcess {
    let process: Process
    let port: UInt16
    let stderrPath: String

    /// thurac: reads the bound port from its "listening on ... port N" log line.
    /// `launcher`: a program that runs thurac (`taskset -c 0`), with its arguments.
    static func thurac(_ arguments: [String], launcher: [String] = []) throws -> ServerProcess {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-\(UUID().uuidString).log").path
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        // Serving from the store also serves HTTP: on a free port, as tests run side by side.
        let storeMode = arguments.first == "serve" && !arguments.contains("--zone") && !arguments.contains("--http")
        let all = arguments + (storeMode ? ["--http", "127.0.0.1:0"] : [])
        if let program = launcher.first {
            p.executableURL = URL(fileURLWithPath: program)
            p.arguments = Array(launcher.dropFirst()) + [thuracBinary] + all
        } else {
            p.executableURL = URL(fileURLWithPath: thuracBinary)
            p.arguments = all
        }
        p.standardError = FileHandle(forWritingAtPath: log)
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        for _ in 0..<600 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if !p.isRunning { throw HarnessError("thurac exited: \(text)") }
            if let r = text.range(of: #"port (\d+) "#, options: .regularExpression) {
                let port = UInt16(text[r].dropFirst(5).dropLast())!
                // In store mode, ready once HTTP listens too.
                guard !storeMode || text.contains("HTTP API listening") else {
                    usleep(50_000)
                    continue
                }
                return ServerProcess(process: p, port: port, stderrPath: log)
            }
            usleep(50_000)
        }
        p.terminate()
        throw HarnessError("thurac did not start listening")
    }

    /// rbldnsd from Debian, in the foreground on a free port.
    static func rbldnsd(_ zones: [String], extra: [String] = []) throws -> ServerProcess {
        let port = try freePort()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/rbldnsd")
        p.arguments = ["-n", "-u", "rbldns", "-b", "127.0.0.1/\(port)"] + extra + zones
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let s = ServerProcess(process: p, port: port, stderrPath: "")
        // Wait until it answers (it loads before binding in the foreground, but be patient on a slow box).
        for _ in 0..<200 {
            if let r = try? DNSClient.query("2.0.0.127.probe.invalid", type: 1, port: port, timeout: 0.2), r.count > 0 {
                return s
            }
            usleep(50_000)
        }
        return s
    }

    /// Knot DNS (knotd from Debian) serving master files, on a free port with its own run and
    /// storage directories.
    static func knot(zones: [(name: String, file: String)]) throws -> ServerProcess {
        let port = try freePort()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-knot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var conf = """
            server:
                listen: 127.0.0.1@\(port)
                rundir: \(dir.path)
            database:
                storage: \(dir.path)
            template:
              - id: default
                storage: \(dir.path)
                semantic-checks: on
            zone:

            """
        for z in zones { conf += "  - domain: \(z.name)\n    file: \(z.file)\n" }
        let confPath = dir.appendingPathComponent("knot.conf").path
        try conf.write(toFile: confPath, atomically: true, encoding: .utf8)
        let log = dir.appendingPathComponent("knot.log").path
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/knotd")
        p.arguments = ["-c", confPath]
        p.standardOutput = FileHandle(forWritingAtPath: log)
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        let s = ServerProcess(process: p, port: port, stderrPath: log)
        // Ready when every zone answers its SOA.
        for _ in 0..<200 {
            let ready = zones.allSatisfy { z in
                (try? DNSClient.query(z.name, type: 6, port: port, timeout: 0.2)).flatMap { Decoded($0) }.map { $0.rcode == 0 && $0.aa } ?? false
            }
            if ready { return s }
            if !p.isRunning { throw HarnessError("knotd exited: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
            usleep(50_000)
        }
        throw HarnessError("knotd did not load the zones: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// Any daemon kept in the foreground, its output in `log`; ready when it answers on `port`
    /// (whatever the answer: a secondary without its zones yet says SERVFAIL or REFUSED).
    static func daemon(_ program: String, _ arguments: [String], port: UInt16, log: String) throws -> ServerProcess {
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        p.standardOutput = FileHandle(forWritingAtPath: log)
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        let s = ServerProcess(process: p, port: port, stderrPath: log)
        for _ in 0..<200 {
            if let r = try? DNSClient.query("probe.invalid", type: 6, port: port, timeout: 0.1), !r.isEmpty { return s }
            if !p.isRunning { throw HarnessError("\(program) exited: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
            usleep(50_000)
        }
        throw HarnessError("\(program) did not answer on port \(port)")
    }

    /// The HTTP API's port, from the log (store mode).
    var httpPort: UInt16? {
        let text = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        guard let r = text.range(of: #"HTTP API listening on \S+ port (\d+)"#, options: .regularExpression) else { return nil }
        return UInt16(text[r].split(separator: " ").last ?? "")
    }

    init(process: Process, port: UInt16, stderrPath: String) {
        self.process = process
        self.port = port
        self.stderrPath = stderrPath
    }

    /// SIGTERM, then SIGKILL if it has not gone after five seconds. Polls instead of
    /// waitUntilExit, which can miss the child's exit on Linux and hang.
    func stop() {
        let pid = process.processIdentifier
        // Daemons fork (NSD's xfrd and servers): their children go too, by PID.
        let children = Self.descendants(of: pid)
        if process.isRunning {
            kill(pid, SIGTERM)
            var waited = 0
            while process.isRunning, waited < 500 {
                usleep(10_000)
                waited += 1
            }
            if process.isRunning { kill(pid, SIGKILL) }
        }
        for child in children where kill(child, 0) == 0 {
            kill(child, SIGTERM)
            usleep(100_000)
            if kill(child, 0) == 0 { kill(child, SIGKILL) }
        }
    }

    /// Every process below `pid`, from /proc.
    static func descendants(of pid: Int32) -> [Int32] {
        guard pid > 0, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var parent: [Int32: Int32] = [:]
        for e in entries {
            guard let p = Int32(e), let stat = try? String(contentsOfFile: "/proc/\(e)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // "pid (comm) state ppid ...": the command may hold spaces, so read after its ")".
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let pp = Int32(fields[1]) { parent[p] = pp }
        }
        var out: [Int32] = []
        var frontier = [pid]
        while let p = frontier.popLast() {
            for (child, pp) in parent where pp == p {
                out.append(child)
                frontier.append(child)
            }
        }
        return out
    }

    deinit { stop() }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

var thuracBinary: String {
    if let b = ProcessInfo.processInfo.environment["THURAC_BINARY"] { return b }
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return here.appendingPathComponent(".build/debug/thurac").path
}

func freePort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return UInt16(bigEndian: addr.sin_port)
}

/// A minimal stub client: builds queries with our encoder, sends raw bytes over UDP or TCP.
enum DNSClient {
    static func makeQuery(
        _ name: String, type: UInt16, id: UInt16 = 0x1234, rd: Bool = true, edns: UInt16? = nil, ednsVersion: UInt8 = 0,
        opcode: UInt8 = 0
    ) throws -> [UInt8] {
        var q: [UInt8] = [UInt8(id >> 8), UInt8(id & 255), (opcode << 3) | (rd ? 1 : 0), 0, 0, 1, 0, 0, 0, 0, 0, edns == nil ? 0 : 1]
        q += try DomainName.wire(fromText: name)
        q += [UInt8(type >> 8), UInt8(type & 255), 0, 1]
        if let e = edns { q += [0, 0, 41, UInt8(e >> 8), UInt8(e & 255), 0, ednsVersion, 0, 0, 0, 0] }
        return q
    }

    static func query(_ name: String, type: UInt16, port: UInt16, timeout: Double = 2, edns: UInt16? = nil) throws -> [UInt8] {
        try exchange(try makeQuery(name, type: type, edns: edns), port: port, timeout: timeout)
    }

    static func exchange(_ packet: [UInt8], port: UInt16, timeout: Double = 2, from: String? = nil) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        if let from { try bindSource(fd, from) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        let sent = packet.withUnsafeBytes { b in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == packet.count else { throw HarnessError("sendto failed") }
        var buf = [UInt8](repeating: 0, count: 65535)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return [] }
        return Array(buf[0..<n])
    }

    /// Sends several queries on one TCP connection (pipelined) and reads the answers.
    static func tcpExchange(_ packets: [[UInt8]], port: UInt16, from: String? = nil) throws -> [[UInt8]] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        if let from { try bindSource(fd, from) }
        var tv = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw HarnessError("connect failed") }
        var out: [UInt8] = []
        for p in packets { out += [UInt8(p.count >> 8), UInt8(p.count & 255)] + p }
        _ = out.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var answers: [[UInt8]] = []
        var stream: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while answers.count < packets.count {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            stream += buf[0..<n]
            while stream.count >= 2, stream.count >= 2 + (Int(stream[0]) << 8 | Int(stream[1])) {
                let l = Int(stream[0]) << 8 | Int(stream[1])
                answers.append(Array(stream[2..<(2 + l)]))
                stream.removeFirst(2 + l)
            }
        }
        return answers
    }
}

/// Sends from this loopback address (any of 127.0.0.0/8 is ours), as another client would.
func bindSource(_ fd: Int32, _ address: String) throws {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr(address)
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { throw HarnessError("cannot bind \(address): \(String(cString: strerror(errno)))") }
}

func reversedIPv4(_ a: UInt32) -> String { "\(a & 255).\(a >> 8 & 255).\(a >> 16 & 255).\(a >> 24)" }
func dotted(_ a: UInt32) -> String { "\(a >> 24).\(a >> 16 & 255).\(a >> 8 & 255).\(a & 255)" }
func nibbles(_ a: UInt128) -> String {
    (0..<32).map { String(Int((a >> (4 * UInt128($0))) & 0xF), radix: 16) }.joined(separator: ".")
}
func ipv6Text(_ a: UInt128) -> String {
    (0..<8).map { String(UInt16(truncatingIfNeeded: a >> (112 - 16 * UInt128($0))), radix: 16) }.joined(separator: ":")
}

func temporaryDirectory() -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-test-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}
