import DNSTransport
import DNSWire
import Foundation
import Glibc
import Listings
import NIOCore
import RBLDatasets
import Responder
import TestSupport
import Testing

/// The TCP server's protections, in-process with small limits: the connection cap, and a
/// client that sends queries and never reads its answers.
@Suite struct TCPLimitsTests {
    let server: TCPServer

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-tcp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("ip4").path
        try ":127.0.0.2:Listed $\n127.0.0.2\n".write(toFile: file, atomically: true, encoding: .utf8)
        let catalog = DatasetCatalog(specs: [ZoneSpec(zone: "t.test", type: .ip4set, files: [file])], options: LoadOptions())
        _ = try catalog.refresh(now: 1_800_000_000)
        server = try TCPServer(
            host: "127.0.0.1", port: 0, cell: SnapshotCell(catalog.snapshot(now: 1_800_000_000).0), responder: Responder(),
            counters: QueryCounters(workers: 1), worker: 0, queryLog: nil, idleTimeout: .milliseconds(500), maxConnections: 2)
    }

    @Test func connectionsOverTheCapAreClosedAndFreedSlotsReused() throws {
        defer { server.stop() }
        let a = try Self.connect(server.boundPort)
        let b = try Self.connect(server.boundPort)
        defer { close(b) }
        #expect(try Self.ask(a, id: 1) == 1)
        #expect(try Self.ask(b, id: 2) == 2)
        // The kernel accepts a third connection; the server closes it without an answer.
        let c = try Self.connect(server.boundPort)
        defer { close(c) }
        #expect(try Self.ask(c, id: 3) == nil)
        // Once a connection ends, its slot takes a new one.
        close(a)
        #expect(try eventually {
            let d = try Self.connect(server.boundPort)
            defer { close(d) }
            return try Self.ask(d, id: 4) == 4
        })
    }

    @Test func aClientThatNeverReadsIsHeldBackThenClosed() throws {
        defer { server.stop() }
        let slow = try Self.connect(server.boundPort, receiveBuffer: 4096)
        defer { close(slow) }
        // Queries in blocks of 1,000, sent until the server stops taking them: a send that makes
        // no progress for 2 s, or one refused because the server has since hung up. A server that
        // read on regardless would take all 64 MiB (and hold their answers in memory).
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(slow, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let block = (0..<1000).flatMap { Self.framedQuery(id: UInt16($0)) }
        var sent = 0
        var refusal: Int32 = 0
        while sent < 64 << 20 {
            let n = block.withUnsafeBytes { send(slow, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                refusal = errno
                break
            }
            sent += n
        }
        #expect([EAGAIN, EWOULDBLOCK, ECONNRESET, EPIPE].contains(refusal), "\(sent) octets taken, then errno \(refusal)")
        // Other clients are answered meanwhile.
        let other = try Self.connect(server.boundPort)
        defer { close(other) }
        #expect(try Self.ask(other, id: 7) == 7)
        // The idle timer (0.5 s here) ends the stalled connection: it is hung up on while its
        // answers are still unread.
        let hungUp: Int16 = 0x2000 | Int16(POLLHUP) | Int16(POLLERR)  // 0x2000: POLLRDHUP, not in Glibc's Swift module
        var p = pollfd(fd: slow, events: 0x2000, revents: 0)
        let ready = poll(&p, 1, 20_000)
        #expect(ready == 1 && p.revents & hungUp != 0, "poll \(ready), revents \(p.revents)")
    }

    static func framedQuery(id: UInt16) -> [UInt8] {
        var q: [UInt8] = [UInt8(id >> 8), UInt8(id & 255), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        q += try! DomainName.wire(fromText: "2.0.0.127.t.test")
        q += [0, 1, 0, 1]
        return [UInt8(q.count >> 8), UInt8(q.count & 255)] + q
    }

    static func connect(_ port: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw TransportTestError("connect: errno \(errno)")
        }
        return fd
    }

    /// Sends one query and reads one answer: its ID, or nil when the server closed instead.
    static func ask(_ fd: Int32, id: UInt16) throws -> UInt16? {
        let q = framedQuery(id: id)
        guard q.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == q.count else { return nil }
        var answer = [UInt8](repeating: 0, count: 4)
        var have = 0
        while have < 4 {
            let n = answer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + have, 4 - have, 0) }
            guard n > 0 else { return nil }
            have += n
        }
        return UInt16(answer[2]) << 8 | UInt16(answer[3])
    }
}

struct TransportTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
