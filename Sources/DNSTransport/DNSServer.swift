import Dispatch
import CUDPBatch
import Foundation
import Listings
import Logging
import RateLimiting
import Responder
import Synchronization

/// The DNS server: answers on UDP and TCP from the current snapshot, and asks its snapshot
/// source for a newer one every check interval and on SIGHUP, swapping it in whole. A failed
/// rebuild keeps the current data.
public final class DNSServer: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var endpoints: [UDPWorkers.Endpoint]
        /// Seconds between checks for new data; 0 disables polling (SIGHUP still reloads).
        public var checkInterval: Double = 1
        public var udpThreads = UsableCores.count()
        public var responder = ResponderOptions()
        public var queryLogPath: String? = nil
        public var queryLogLeavesOutNXDOMAIN = false
        public var statsPath: String? = nil
        public var tcp = true
        /// Answers zone transfers and TSIG-signed messages; without one transfers are refused.
        public var transfers: (any TransferHandler)? = nil
        /// Response rate limiting of UDP answers (TCP is never limited).
        public var rateLimit = RateLimitSettings.off
        public init(endpoints: [UDPWorkers.Endpoint]) {
            self.endpoints = endpoints
        }
    }

    public let configuration: Configuration
    public private(set) var udp: [UDPWorkers] = []
    public private(set) var tcp: [TCPServer] = []
    let source: any SnapshotSource
    let cell: SnapshotCell
    let counters: QueryCounters
    /// Shared by the UDP workers; nil when rate limiting is off.
    public let rateLimiter: ResponseRateLimiter?
    let logger: Logger
    private let reloadLock = NSLock()
    private var timer: (any DispatchSourceTimer)?
    private var hup: (any DispatchSourceSignal)?
    private var usr1: (any DispatchSourceSignal)?
    private let queue = DispatchQueue(label: "thurac.reload")
    /// Called on the reload queue after each new snapshot is published (old, new): where zone
    /// transfers learn of a new serial.
    public var onPublish: ((ServingSnapshot, ServingSnapshot) -> Void)?

    public init(configuration: Configuration, source: any SnapshotSource, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.source = source
        let now = Int(Date().timeIntervalSince1970)
        let started = Date()
        let (snapshot, diagnostics) = try source.initialSnapshot(now: now)
        for d in diagnostics { logger.warning("\(d)") }
        logger.info(
            "loaded \(source.entryCount) entries in \(snapshot.zones.count) zones in \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
        cell = SnapshotCell(snapshot)
        // Loading leaves the file buffers and builders freed but held by malloc; give them back.
        cudp_release_free_memory()
        let tcpWorkers = configuration.tcp ? configuration.endpoints.count : 0
        counters = QueryCounters(workers: configuration.udpThreads * configuration.endpoints.count + tcpWorkers)
        rateLimiter = configuration.rateLimit.isEnabled ? ResponseRateLimiter(settings: configuration.rateLimit) : nil
    }

    /// Binds and starts answering. Returns the bound (UDP, TCP) ports, in endpoint order.
    @discardableResult
    public func start() throws -> [(udp: UInt16, tcp: Int)] {
        let log = try configuration.queryLogPath.map {
            try QueryLog(path: $0, leaveOutNXDOMAIN: configuration.queryLogLeavesOutNXDOMAIN)
        }
        var options = configuration.responder
        options.handOffTransfers = configuration.transfers != nil
        let responder = Responder(options: options)
        var ports: [(UInt16, Int)] = []
        var worker = 0
        for (k, e) in configuration.endpoints.enumerated() {
            var attempt = 0
            var u: UDPWorkers
            var tcpServer: TCPServer? = nil
            while true {
                u = try UDPWorkers(
                    endpoint: e, threads: configuration.udpThreads, cell: cell, responder: responder, counters: counters,
                    queryLog: log, workerBase: worker, transfers: configuration.transfers, rateLimiter: rateLimiter)
                guard configuration.tcp else { break }
                do {
                    // TCP on the same port as UDP, so `port 0` gives one number for both.
                    tcpServer = try TCPServer(
                        host: e.host, port: Int(u.boundPort), cell: cell, responder: responder, counters: counters,
                        worker: configuration.udpThreads * configuration.endpoints.count + k, queryLog: log,
                        transfers: configuration.transfers)
                    break
                } catch {
                    // With port 0 the UDP port's number may be taken for TCP: pick another pair.
                    u.stop()
                    attempt += 1
                    guard e.port == 0, attempt < 20 else { throw error }
                }
            }
            worker += configuration.udpThreads
            udp.append(u)
            var tcpPort = 0
            if let t = tcpServer {
                tcp.append(t)
                tcpPort = t.boundPort
            }
            ports.append((u.boundPort, tcpPort))
            logger.info("listening on \(e.host) port \(u.boundPort) (UDP\(configuration.tcp ? " and TCP" : ""); \(configuration.udpThreads) UDP thread\(configuration.udpThreads == 1 ? "" : "s"))")
        }
        startWatching()
        if let r = rateLimiter?.settings {
            let kinds = ResponseKind.allCases.map { "\($0.label) \(r.limit($0) == 0 ? "unlimited" : "\(r.limit($0))/s")" }
            let line = "UDP rate limit per /\(r.ipv4PrefixLength) and /\(r.ipv6PrefixLength): \(kinds.joined(separator: ", ")), slip \(r.slip)"
                + ", \(r.exempt.count) exempt prefixes\(r.logOnly ? ", log only (nothing limited)" : "")"
            logger.info("\(line)")
        }
        return ports
    }

    private func startWatching() {
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hup.setEventHandler { [weak self] in self?.reload(reason: "SIGHUP") }
        hup.resume()
        self.hup = hup
        // SIGUSR1 logs the per-zone counters, as rbldnsd does.
        signal(SIGUSR1, SIG_IGN)
        let usr1 = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: queue)
        usr1.setEventHandler { [weak self] in
            guard let self else { return }
            self.logger.info("stats \(self.counters.statsLine(zones: self.cell.load().zones, now: Int(Date().timeIntervalSince1970)))")
        }
        usr1.resume()
        self.usr1 = usr1
        if configuration.checkInterval > 0 || configuration.statsPath != nil {
            let interval = configuration.checkInterval > 0 ? configuration.checkInterval : 60
            let t = DispatchSource.makeTimerSource(queue: queue)
            t.schedule(deadline: .now() + interval, repeating: interval)
            t.setEventHandler { [weak self] in
                guard let self else { return }
                if self.configuration.checkInterval > 0 { self.reload(reason: nil) }
                self.writeStats()
            }
            t.resume()
            timer = t
        }
    }

    /// Checks the files and swaps in a new snapshot if any dataset changed.
    public func reload(reason: String?) {
        reloadLock.lock()
        defer { reloadLock.unlock() }
        let now = Int(Date().timeIntervalSince1970)
        let started = Date()
        do {
            let (fresh, diagnostics) = try source.refreshedSnapshot(now: now, force: reason != nil)
            for d in diagnostics { logger.warning("\(d)") }
            guard let snapshot = fresh else { return }
            let old = cell.load()
            cell.publish(snapshot)
            publishedAtLock.withLock { $0 = Date() }
            onPublish?(old, snapshot)
            cudp_release_free_memory()
            logger.info(
                "reloaded\(reason.map { " (\($0))" } ?? ""): \(source.entryCount) entries in \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
        } catch {
            logger.error("reload failed, keeping the current data: \(error)")
        }
    }

    private func writeStats() {
        guard let path = configuration.statsPath else { return }
        let line = counters.statsLine(zones: cell.load().zones, now: Int(Date().timeIntervalSince1970)) + "\n"
        if let h = FileHandle(forWritingAtPath: path) ?? {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }() {
            h.seekToEndOfFile()
            h.write(Data(line.utf8))
            try? h.close()
        }
    }

    public var snapshot: ServingSnapshot { cell.load() }

    /// When the snapshot being served was published.
    public var publishedAt: Date { publishedAtLock.withLock { $0 } }
    private let publishedAtLock = Mutex(Date())

    /// What was answered so far, per zone and transport (for metrics): queries, answers by
    /// RCODE class, listed answers.
    public struct Traffic: Sendable {
        public var zone: String
        public var proto: String
        public var queries: Int
        public var noError: Int
        public var nxdomain: Int
        public var errors: Int
        public var listed: Int
        /// Queries by type: A, TXT, AAAA, other.
        public var types: [(type: String, count: Int)]
    }

    /// Answer times per transport: counts per bucket of `QueryCounters.durationBounds` (the
    /// last unbounded), and their sum in seconds.
    public func durations() -> [(proto: String, bounds: [Double], counts: [Int], sum: Double)] {
        let udpWorkers = configuration.udpThreads * configuration.endpoints.count
        return [("udp", 0..<udpWorkers), ("tcp", udpWorkers..<(udpWorkers + configuration.endpoints.count))].map { proto, range in
            let d = counters.durations(workers: range)
            return (proto, QueryCounters.durationBounds.map { Double($0) / 1e9 }, d.buckets.map { Int($0) }, Double(d.sum) / 1e9)
        }
    }

    public func traffic() -> [Traffic] {
        let zones = cell.load().zones
        let udpWorkers = configuration.udpThreads * configuration.endpoints.count
        var out: [Traffic] = []
        for (proto, range) in [("udp", 0..<udpWorkers), ("tcp", udpWorkers..<(udpWorkers + configuration.endpoints.count))] {
            for (i, z) in zones.enumerated() where i < QueryCounters.maxZones {
                func n(_ f: QueryCounters.Field) -> Int { Int(counters.total(zone: i, f, workers: range)) }
                out.append(
                    Traffic(
                        zone: z.originText, proto: proto, queries: n(.queries), noError: n(.positive), nxdomain: n(.nxdomain),
                        errors: n(.errors), listed: n(.listed),
                        types: [("A", n(.typeA)), ("TXT", n(.typeTXT)), ("AAAA", n(.typeAAAA)), ("other", n(.typeOther))]))
            }
        }
        return out
    }

    /// Queries, listed answers and NXDOMAIN answers per zone since the server started.
    public func zoneTotals() -> [(zone: String, queries: Int, listed: Int, nxdomain: Int)] {
        counters.zoneTotals(zones: cell.load().zones)
    }

    public func stop() {
        timer?.cancel()
        hup?.cancel()
        usr1?.cancel()
        for u in udp { u.stop() }
        for t in tcp { t.stop() }
    }
}
