import ArgumentParser
import DNSTransport
import Foundation
import Logging
import Portal
import Publishing
import RateLimiting
import RBLDatasets
import Store
import ZoneConfig
import ZoneTransfer
import HTTPAPI
import ServiceLifecycle
import UnixSignals

@main
struct Thurac: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thurac",
        abstract: "The provincial anti-spam blocklist: an authoritative DNSBL server and its tools.",
        subcommands: [
            Serve.self, RbldnsdCompat.self, SourcesCommand.self, IngestCommand.self, ExpireCommand.self, AllowCommand.self,
            DelistCommand.self, RestoreCommand.self, LookupCommand.self, DumpCommand.self, ReportCommand.self, RequestsCommand.self, IntakeCommand.self,
            MessagesCommand.self, OperatorsCommand.self,
        ]
    )

    /// ArgumentParser's own main, with a store failure of the machine's (a full disk) said in
    /// words a person acts on rather than as SQLite's error.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: ListingStore.explain(error).map { CommandFailure($0) } ?? error)
        }
    }
}

/// Runs until SIGTERM or SIGINT, then stops the server cleanly (`beforeExit` runs first).
func runUntilSignalled(_ server: DNSServer, beforeExit: @escaping () -> Void = {}) -> Never {
    signal(SIGTERM, SIG_IGN)
    signal(SIGINT, SIG_IGN)
    let queue = DispatchQueue(label: "thurac.signals")
    var sources: [any DispatchSourceSignal] = []
    for sig in [SIGTERM, SIGINT] {
        let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
        s.setEventHandler {
            server.stop()
            beforeExit()
            exit(0)
        }
        s.resume()
        sources.append(s)
    }
    withExtendedLifetime(sources) { dispatchMain() }
}

func makeLogger(verbose: Bool = false) -> Logger {
    LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
    var logger = Logger(label: "thurac")
    logger.logLevel = verbose ? .debug : .info
    return logger
}

/// `HOST:PORT`, `[v6]:PORT`, `HOST` or `:PORT`: the host and the port as written.
func splitEndpoint(_ text: String, defaultHost: String, defaultPort: UInt16) throws -> (host: String, port: String) {
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        let host = String(text[text.index(after: text.startIndex)..<close])
        let rest = text[text.index(after: close)...]
        if rest.isEmpty { return (host, String(defaultPort)) }
        guard rest.hasPrefix(":"), rest.count > 1 else { throw CommandFailure("invalid listen address '\(text)'") }
        return (host, String(rest.dropFirst()))
    }
    if text.filter({ $0 == ":" }).count == 1, let i = text.lastIndex(of: ":") {
        let host = String(text[..<i])
        let port = String(text[text.index(after: i)...])
        guard !port.isEmpty else { throw CommandFailure("invalid port in '\(text)'") }
        return (host.isEmpty ? defaultHost : host, port)
    }
    return (text.isEmpty ? defaultHost : text, String(defaultPort))
}

/// One address with a numeric port (the HTTP listener; NIO resolves its host name).
func parseEndpoint(_ text: String, defaultHost: String = "127.0.0.1", defaultPort: UInt16 = 5300) throws
    -> UDPWorkers.Endpoint
{
    let (host, port) = try splitEndpoint(text, defaultHost: defaultHost, defaultPort: defaultPort)
    guard let number = UInt16(port) else { throw CommandFailure("invalid port in '\(text)'") }
    return .init(host: host, port: number)
}

/// Where DNS listens for one `--listen` value: a host name stands for each of its addresses and
/// the port may be a service name, as rbldnsd's `-b` takes them.
func listenEndpoints(_ text: String, defaultHost: String = "127.0.0.1", defaultPort: UInt16 = 5300) throws
    -> [UDPWorkers.Endpoint]
{
    let (host, port) = try splitEndpoint(text, defaultHost: defaultHost, defaultPort: defaultPort)
    do { return try UDPWorkers.Endpoint.resolving(host: host, port: port) } catch { throw CommandFailure("\(error)") }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve DNS. With --zone, serve rbldnsd datasets directly (rbldnsd-compatible mode).")

    @Option(name: .long, help: "Address to answer on, HOST:PORT (repeatable). Default 127.0.0.1:5300.")
    var listen: [String] = []

    @Option(name: .long, help: "ZONE:TYPE:FILE[,FILE...] as rbldnsd takes it (repeatable).")
    var zone: [String] = []

    @Option(name: .long, help: "Seconds between checks of the data files for changes (0: only on SIGHUP).")
    var check: Double = 1

    @Option(name: .long, help: "Default TTL of answers, e.g. 35m.")
    var ttl: String = "35m"

    @Option(name: .long, help: "Log every answered query to this file ('-' for standard output).")
    var queryLog: String?

    @Flag(name: .long, help: "Leave NXDOMAIN answers out of the query log.")
    var queryLogNoNXDOMAIN = false

    @Option(name: .long, help: "UDP worker threads per address (default: one per CPU this process may use: its affinity mask and cgroup CPU quota).")
    var udpThreads: Int?

    @Option(name: .long, help: "Configuration file (store mode; default: Zones/thurac.toml when it exists).")
    var config: String?

    @Option(name: .long, help: "Store database (used when serving from the store).")
    var db: String?

    @Option(name: .long, help: "Seconds between writes of the per-zone query counters to the store (for `thurac report`).")
    var statsInterval: Double = 60

    @Option(name: .long, help: "Address of the HTTP API, HOST:PORT (store mode; default: the configuration's serve.http).")
    var http: String?

    @Option(name: .long, help: "Largest HTTP request body (a pushed feed), in octets; larger ones get 413.")
    var httpMaxBody: Int = 64 << 20

    @OptionGroup(title: "Response rate limiting (UDP)") var rrl: RateLimitOptions

    func run() throws {
        let logger = makeLogger()
        if zone.isEmpty {
            // The default way thurac runs: the configured zones, from the store, changes live.
            let settings = try loadSettings(config)
            let endpoints = try (listen.isEmpty ? settings.dnsListen : listen).flatMap { try listenEndpoints($0) }
            var cfg = DNSServer.Configuration(endpoints: endpoints)
            cfg.checkInterval = min(check, 0.25)
            cfg.queryLogPath = queryLog
            cfg.queryLogLeavesOutNXDOMAIN = queryLogNoNXDOMAIN
            if let n = udpThreads { cfg.udpThreads = max(1, n) }
            cfg.rateLimit = try rrl.apply(to: settings.rateLimit)
            let store: ListingStore
            do { store = try ListingStore(path: db ?? settings.database ?? "var/thurac.db") } catch { throw CommandFailure("\(error)") }
            let source = StoreSnapshotSource(
                store: store, zones: settings.zones, ttl: settings.ttl, negativeTTL: settings.negativeTTL)
            // Zone transfers, NOTIFY and TSIG (SPEC §3): secondaries configured per zone.
            let transfers = TransferService(config: settings, responder: cfg.responder, logger: logger)
            cfg.transfers = transfers
            let server: DNSServer
            do { server = try DNSServer(configuration: cfg, source: source, logger: logger) } catch {
                throw CommandFailure("\(error)")
            }
            server.onPublish = { old, new in transfers.published(old: old, new: new, changedKeys: source.changedKeys) }
            let httpEndpoint = try parseEndpoint(http ?? settings.httpListen, defaultPort: 8053)
            try server.start()
            transfers.notifyAll(server.snapshot)
            let recorder = QueryStatsRecorder(server: server, store: store, logger: logger)
            recorder.start(every: max(0.2, statsInterval))
            // DNS and the HTTP API in one service group: one signal stops both, gracefully.
            let metrics = APIMetrics()
            metrics.attach(server)
            var apiOptions = APIServer.Options()
            apiOptions.maxBody = max(1, httpMaxBody)
            let api = APIServer(store: store, config: settings, metrics: metrics, options: apiOptions, logger: logger)
            // Without its templates (a binary copied without its resources) the portal is off and
            // said so; DNS and the API still run.
            var portal: Portal? = nil
            do { portal = try Portal(store: store, config: settings, api: api) } catch { logger.error("the web portal is off: \(error)") }
            let group = ServiceGroup(
                services: [
                    DNSService(
                        server: server,
                        beforeExit: {
                            recorder.record()
                            transfers.stop()
                        }),
                    api.application(host: httpEndpoint.host, port: Int(httpEndpoint.port), pages: portal) { [logger, portal] port in
                        let host = httpEndpoint.host.contains(":") ? "[\(httpEndpoint.host)]" : httpEndpoint.host
                        logger.info("HTTP API listening on \(httpEndpoint.host) port \(port)\(portal == nil ? "" : "; the portal at http://\(host):\(port)/")")
                    },
                ], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [], logger: logger)
            let done = DispatchSemaphore(value: 0)
            // The HTTP side's async work (handlers, pages) at background priority: on Linux that
            // is nice 10 for the threads that run it, as for its event loops and store work
            // (HTTPAPI's HTTPThreads). DNS answers on its own threads at 0 and wins the CPU; a
            // Task made here would run at user-initiated (nice -2), ahead of every query.
            Task(priority: .background) {
                do { try await group.run() } catch { logger.error("stopped: \(error)") }
                done.signal()
            }
            done.wait()
            Foundation.exit(0)
        }
        var specs: [ZoneSpec] = []
        for z in zone {
            do { specs.append(try ZoneSpec(parsing: z)) } catch { throw CommandFailure("--zone \(error)") }
        }
        let endpoints = try (listen.isEmpty ? ["127.0.0.1:5300"] : listen).flatMap { try listenEndpoints($0) }
        var cfg = DNSServer.Configuration(endpoints: endpoints)
        guard let t = DatasetLoader.parseTime(Array(ttl.utf8)) else { throw CommandFailure("invalid --ttl '\(ttl)'") }
        var load = LoadOptions()
        load.defaultTTL = t
        cfg.checkInterval = check
        cfg.queryLogPath = queryLog
        cfg.queryLogLeavesOutNXDOMAIN = queryLogNoNXDOMAIN
        if let n = udpThreads { cfg.udpThreads = max(1, n) }
        cfg.rateLimit = try rrl.apply(to: .off)
        let server: DNSServer
        do {
            server = try DNSServer(
                configuration: cfg, source: DatasetCatalog(specs: specs, options: load), logger: logger)
        } catch {
            throw CommandFailure("\(error)")
        }
        try server.start()
        runUntilSignalled(server)
    }
}

/// Writes what the server answered per zone to the store every interval (and once more on
/// the way out), as counts since the previous write, for `thurac report`.
final class QueryStatsRecorder: @unchecked Sendable {
    let server: DNSServer
    let store: ListingStore
    let logger: Logger
    let queue = DispatchQueue(label: "thurac.query-stats")
    private var last: [String: (queries: Int, listed: Int, nxdomain: Int)] = [:]
    private var timer: (any DispatchSourceTimer)?
    /// The last write failed (a full disk, say): the next failure is not logged again.
    private var failing = false

    init(server: DNSServer, store: ListingStore, logger: Logger) {
        self.server = server
        self.store = store
        self.logger = logger
    }

    func start(every seconds: Double) {
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + seconds, repeating: seconds)
        t.setEventHandler { [weak self] in self?.flush() }
        t.resume()
        timer = t
    }

    /// Called from the signal handler's queue: runs the write on the recorder's own queue.
    func record() { queue.sync { flush() } }

    private func flush() {
        var rows: [(zone: String, queries: Int, listed: Int, nxdomain: Int)] = []
        var now: [String: (queries: Int, listed: Int, nxdomain: Int)] = [:]
        for t in server.zoneTotals() {
            let before = last[t.zone] ?? (0, 0, 0)
            now[t.zone] = (t.queries, t.listed, t.nxdomain)
            rows.append((t.zone, t.queries - before.queries, t.listed - before.listed, t.nxdomain - before.nxdomain))
        }
        guard rows.contains(where: { $0.queries > 0 }) else { return }
        do {
            try store.recordQueries(at: Int(Date().timeIntervalSince1970), rows)
            last = now
            if failing {
                failing = false
                logger.info("query counts are recorded again")
            }
        } catch {
            // The counts stay in memory and go with the next write; said once, not every interval.
            if !failing { logger.warning("could not record query counts, kept in memory until it can: \(ListingStore.explain(error) ?? "\(error)")") }
            failing = true
        }
    }
}
