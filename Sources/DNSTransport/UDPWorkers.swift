import CUDPBatch
import DNSWire
import Foundation
import Listings
import Logging
import RateLimiting
import Responder
import Synchronization

/// UDP served from dedicated threads, one SO_REUSEPORT socket each, receiving and sending in
/// batches with recvmmsg/sendmmsg. Each datagram is answered in the slot it arrived in; no
/// allocation, no lock per query. (A NIO channel costs several times more CPU per datagram than
/// this loop; NIO serves TCP, where per-query cost matters less.)
public final class UDPWorkers: Sendable {
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: UInt16
        public init(host: String, port: UInt16) {
            self.host = host
            self.port = port
        }
    }

    public static let batchSize: UInt32 = 64
    /// Largest datagram a slot takes; EDNS queries are far smaller, and answers are limited to
    /// the advertised payload size.
    public static let slotSize: UInt32 = 4096

    private let cell: SnapshotCell
    private let responder: Responder
    private let counters: QueryCounters
    private let queryLog: QueryLog?
    private let transfers: (any TransferHandler)?
    private let rateLimiter: ResponseRateLimiter?
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Int>(0)
    public let boundPort: UInt16
    private let fds: [Int32]

    /// Binds `threads` sockets to the endpoint (port 0 picks a free port, shared by all).
    public init(
        endpoint: Endpoint, threads: Int, cell: SnapshotCell, responder: Responder, counters: QueryCounters,
        queryLog: QueryLog?, workerBase: Int, transfers: (any TransferHandler)? = nil, rateLimiter: ResponseRateLimiter? = nil
    ) throws {
        self.cell = cell
        self.rateLimiter = rateLimiter
        self.transfers = transfers
        self.responder = responder
        self.counters = counters
        self.queryLog = queryLog
        var fds: [Int32] = []
        var port = endpoint.port
        for _ in 0..<threads {
            let fd = cudp_open(endpoint.host, port, 1, 500)
            if fd < 0 {
                for f in fds { close(f) }
                throw TransportError("cannot bind UDP \(endpoint.host):\(port): \(String(cString: strerror(-fd)))")
            }
            if port == 0 { port = UInt16(cudp_bound_port(fd)) }
            fds.append(fd)
        }
        self.fds = fds
        self.boundPort = port
        for (i, fd) in fds.enumerated() {
            let thread = Thread { [self] in self.run(fd: fd, worker: workerBase + i) }
            thread.stackSize = 1 << 20
            running.add(1, ordering: .relaxed)
            thread.start()
        }
    }

    private func run(fd: Int32, worker: Int) {
        // Named from inside (a name set before start does not reach the thread on Linux): the
        // allocation benchmark counts this thread's mallocs by its name.
        Thread.current.name = "thurac-udp-\(worker)"
        defer { running.subtract(1, ordering: .relaxed) }
        guard let batch = cudp_batch_create(Self.batchSize, Self.slotSize) else { return }
        defer { cudp_batch_destroy(batch) }
        var snapshot = cell.load()
        var v6 = [UInt8](repeating: 0, count: 16)
        while !stopping.load(ordering: .relaxed) {
            let n = cudp_batch_recv(batch, fd)
            if n <= 0 { continue }  // timeout (to notice shutdown) or EINTR
            cell.refresh(&snapshot)
            let started = DispatchTime.now().uptimeNanoseconds
            let second = ResponseRateLimiter.second(uptimeNanoseconds: started)
            for i in 0..<UInt32(n) {
                let length = Int(cudp_batch_length(batch, i))
                guard length > 0, let base = cudp_batch_buffer(batch, i) else { continue }
                var v4: UInt32 = 0
                var port: UInt16 = 0
                let family = v6.withUnsafeMutableBufferPointer { cudp_batch_peer(batch, i, &v4, $0.baseAddress, &port) }
                let client: ClientAddress
                switch family {
                case 4: client = .v4(v4)
                case 6: client = .v6(v6.withUnsafeBytes { UInt128(bigEndian: $0.loadUnaligned(as: UInt128.self)) })
                default: client = .unknown
                }
                let packet = UnsafeMutableRawBufferPointer(start: base, count: Int(Self.slotSize))
                let summary = responder.respond(
                    packet: packet, length: length, overTCP: false, client: client, snapshot: snapshot)
                counters.record(worker: worker, summary: summary, bytesIn: length)
                if summary.handedOff, let transfers, let query = summary.handedOffQuery {
                    // TSIG-signed (a secondary checking the SOA): rare, so a copy each way is fine.
                    let message = Array(UnsafeRawBufferPointer(start: base, count: length))
                    if let reply = transfers.answerDatagram(message, query: query, client: client, snapshot: snapshot), reply.count <= packet.count {
                        packet.copyBytes(from: reply)
                        cudp_batch_set_reply(batch, i, UInt32(reply.count))
                    }
                } else if summary.length > 0 {
                    var length = summary.length
                    if let rateLimiter {
                        switch rateLimiter.check(client, kind: Self.kind(summary), second: second) {
                        case .answer: break
                        case .slip: length = Responder.truncateToQuestion(packet, summary)
                        case .drop: continue
                        }
                    }
                    cudp_batch_set_reply(batch, i, UInt32(length))
                    queryLog?.log(packet: UnsafeRawBufferPointer(packet), summary: summary, client: client)
                }
            }
            // The batch's average answer time, for the metrics' histogram.
            let elapsed = DispatchTime.now().uptimeNanoseconds &- started
            counters.recordDuration(worker: worker, nanoseconds: elapsed / UInt64(n), count: Int(n))
            _ = cudp_batch_send(batch, fd, UInt32(n))
        }
    }

    /// How rate limiting counts an answer: as BIND and NSD separate them.
    @inline(__always)
    static func kind(_ s: ResponseSummary) -> ResponseKind {
        switch s.rcode {
        case .noError: s.answerCount > 0 ? .positive : .nodata
        case .nxDomain: .nxdomain
        default: .error
        }
    }

    /// Stops the workers (they notice within the socket timeout) and closes the sockets.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        while running.load(ordering: .relaxed) > 0 { usleep(10_000) }
        for fd in fds { close(fd) }
    }
}

public struct TransportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
