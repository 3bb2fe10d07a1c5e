import DNSWire
import Foundation
import Glibc
import Listings
import Logging
import Synchronization

/// NOTIFY (RFC 1996) to a zone's secondaries: sent at once when a serial is published, then
/// again after 1, 2, 4, ... 60 seconds until the secondary answers, or a newer serial replaces
/// it. Signed with the zone's transfer key when it has one. One UDP socket per address family,
/// served by one thread (a handful of datagrams per change; no event loop needed).
final class NotifySender: @unchecked Sendable {
    struct Pending {
        var zone: [UInt8]
        var name: String
        var serial: UInt32
        var host: String
        var port: Int
        var key: TSIGKey?
        var id: UInt16
        var message: [UInt8]
        /// Our request's MAC: the prior MAC of the answer's signature.
        var mac: [UInt8]?
        var attempts: Int
        var due: Double
    }

    private let pending = Mutex<[Pending]>([])
    private let keys: [[UInt8]: TSIGKey]
    private let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private var fd4: Int32 = -1
    private var fd6: Int32 = -1
    private var thread: Thread?

    init(logger: Logger, keys: [[UInt8]: TSIGKey]) {
        self.logger = logger
        self.keys = keys
    }

    func stop() { stopping.store(true, ordering: .relaxed) }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    func notify(zone: [UInt8], name: String, soa: SOAData, targets: [(host: String, port: Int)], key: TSIGKey?) {
        startIfNeeded()
        let time = UInt64(Date().timeIntervalSince1970)
        var fresh: [Pending] = []
        for t in targets {
            let id = UInt16.random(in: 0...UInt16.max)
            // Opcode NOTIFY, AA; the question is the zone's SOA, the answer its new SOA (§3.7).
            var m = MessageBuilder(id: id, flags: 0x2400)
            m.question(zone, type: RRType.soa.rawValue)
            m.record(relative: [], type: RRType.soa.rawValue, ttl: soa.ttl, rdata: TransferService.soaRData(soa))
            var bytes = m.bytes
            let mac = key.map { TSIG.sign(&bytes, key: $0, prior: nil, time: time) }
            fresh.append(
                Pending(
                    zone: zone, name: name, serial: soa.serial, host: t.host, port: t.port, key: key, id: id, message: bytes,
                    mac: mac, attempts: 0, due: 0))
        }
        pending.withLock { list in
            // A newer serial replaces what a secondary has not acknowledged yet.
            list.removeAll { p in fresh.contains { $0.zone == p.zone && $0.host == p.host && $0.port == p.port } }
            list += fresh
        }
    }

    /// The socket and thread, once: NOTIFY is first sent at start (main thread) and on reloads.
    private func startIfNeeded() {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        fd4 = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        fd6 = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        let t = Thread { [self] in run() }
        t.name = "thurac-notify"
        thread = t
        t.start()
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopping.load(ordering: .relaxed) {
            var fds = [pollfd(fd: fd4, events: Int16(POLLIN), revents: 0), pollfd(fd: fd6, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, 50)
            for fd in [fd4, fd6] where fd >= 0 {
                while true {
                    var from = sockaddr_storage()
                    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    let n = buffer.withUnsafeMutableBytes { b in
                        withUnsafeMutablePointer(to: &from) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, Int32(MSG_DONTWAIT), $0, &length) }
                        }
                    }
                    if n <= 0 { break }
                    received(Array(buffer[0..<n]))
                }
            }
            let now = Self.now()
            let due = pending.withLock { list -> [Pending] in
                var out: [Pending] = []
                for i in list.indices where list[i].due <= now {
                    out.append(list[i])
                    list[i].attempts += 1
                    list[i].due = now + min(60, Double(1 << min(list[i].attempts - 1, 6)))
                }
                return out
            }
            for p in due { send(p) }
        }
        close(fd4)
        close(fd6)
    }

    private func send(_ p: Pending) {
        var address = sockaddr_storage()
        var length = 0
        let fd: Int32
        if p.host.contains(":") {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = in_port_t(UInt16(p.port).bigEndian)
            guard inet_pton(AF_INET6, p.host, &a.sin6_addr) == 1 else { return }
            (fd, length) = (fd6, MemoryLayout<sockaddr_in6>.size)
            withUnsafeBytes(of: a) { raw in withUnsafeMutableBytes(of: &address) { $0.copyMemory(from: raw) } }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(UInt16(p.port).bigEndian)
            guard inet_pton(AF_INET, p.host, &a.sin_addr) == 1 else { return }
            (fd, length) = (fd4, MemoryLayout<sockaddr_in>.size)
            withUnsafeBytes(of: a) { raw in withUnsafeMutableBytes(of: &address) { $0.copyMemory(from: raw) } }
        }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, p.message, p.message.count, 0, $0, socklen_t(length)) }
        }
        if p.attempts > 0 { logger.info("NOTIFY \(p.name) serial \(p.serial) to \(p.host) port \(p.port): no answer yet, sent again") }
    }

    /// An answer: the pending NOTIFY with its ID is done when it says NOERROR (and is signed
    /// with our key, when we signed).
    private func received(_ message: [UInt8]) {
        let reader = MessageReader(message)
        guard message.count >= 12, reader.flags & 0x8000 != 0, (reader.flags >> 11) & 15 == 4 else { return }
        let id = reader.id
        let match = pending.withLock { list in list.first { $0.id == id } }
        guard let p = match else { return }
        if let key = p.key {
            guard case .valid(let k, _) = TSIG.verify(message, keys: [key.name: key], prior: p.mac, now: UInt64(Date().timeIntervalSince1970)),
                k.name == key.name
            else {
                logger.warning("NOTIFY \(p.name) to \(p.host) port \(p.port): answer not signed with \(key.text)")
                return
            }
        }
        let rcode = reader.flags & 15
        guard rcode == 0 else {
            logger.warning("NOTIFY \(p.name) serial \(p.serial) to \(p.host) port \(p.port): rcode \(rcode), will retry")
            return
        }
        pending.withLock { list in list.removeAll { $0.id == id && $0.host == p.host } }
        logger.info("NOTIFY \(p.name) serial \(p.serial) acknowledged by \(p.host) port \(p.port)")
    }
}
