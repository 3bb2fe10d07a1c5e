import DNSTransport
import Dispatch
import Foundation
import Hummingbird
import Ingestion
import ListingKeys
import Logging
import MailIntake
import NIOCore
import Publishing
import ServiceLifecycle
import Store
import ZoneConfig

/// The HTTP API of `thurac serve` (SPEC §6), on Hummingbird: feeds pushed by their sources,
/// lookups, statistics, Prometheus metrics, health, and the OpenAPI document that describes
/// them. Feeds go through the same ingestion code as `thurac ingest`; store work runs off the
/// event loop. Errors are `{"error": "...", "details": [...]}` with the status that says why.
public struct APIServer: Sendable {
    public struct Options: Sendable {
        /// Largest accepted request body (a feed); above it: 413.
        public var maxBody: Int = 64 << 20
        /// Public reports per client address: a burst, then this many an hour.
        public var publicReportBurst = 10
        public var publicReportsPerHour = 60
        /// Delisting requests per client address, in a bucket of their own (a mail admin
        /// asking for a delisting is not slowed by the spam reports of a shared NAT).
        public var delistingRequestBurst = 5
        public var delistingRequestsPerHour = 20
        /// The largest JSON report, delisting request or decision; above it: 413.
        public static let maxReport = 1 << 20
        public static let maxForwardedMessage = 10 << 20
        public static let maxRequest = 64 << 10
        public init() {}
    }

    let store: ListingStore
    let config: ThuracConfig
    let metrics: APIMetrics
    let options: Options
    let logger: Logger
    let clock: @Sendable () -> Int
    let reportLimiter: ClientLimiter
    let delistingLimiter: ClientLimiter
    /// How forwarded spam is read (`message/rfc822` reports); nil when the Public Suffix List
    /// cannot be read, and such reports are refused with the reason.
    let intake: Result<IntakeSettings, any Error>

    public init(
        store: ListingStore, config: ThuracConfig, metrics: APIMetrics, options: Options = Options(), logger: Logger,
        clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }
    ) {
        self.store = store
        self.config = config
        self.metrics = metrics
        self.options = options
        self.logger = logger
        self.clock = clock
        reportLimiter = ClientLimiter(burst: options.publicReportBurst, perHour: options.publicReportsPerHour)
        delistingLimiter = ClientLimiter(burst: options.delistingRequestBurst, perHour: options.delistingRequestsPerHour)
        intake = Result {
            var s = IntakeSettings(
                trustedRelays: try TrustedRelays(config.intake.trustedRelays),
                suffixes: try PublicSuffixList(path: config.intake.publicSuffixList))
            s.maxDomains = config.intake.maxDomains
            return s
        }
    }

    /// The application, a service to run in the server's service group. `onRunning` gets the
    /// bound port (port 0 picks one).
    public func application(
        host: String, port: Int, pages: (any WebPages)? = nil, onRunning: @escaping @Sendable (Int) async -> Void
    ) -> some Service {
        let routes: [Route] = [
            Route(.get, "/healthz") { _, _ in try self.health() },
            Route(.get, "/metrics") { _, _ in try await offLoop { try self.prometheusText() } },
            Route(.get, "/openapi.yaml") { _, _ in try self.openAPI() },
            Route(.post, "/v1/feeds/:source") { request, context in
                try await self.feed(request, source: context.parameters.get("source") ?? "")
            },
            Route(.get, "/v1/lookup/:key") { _, context in try await self.lookup(context.parameters.get("key") ?? "") },
            Route(.post, "/v1/reports") { request, context in try await self.report(request, context) },
            Route(.get, "/v1/stats") { request, _ in try await self.stats(since: request.uri.queryParameters.get("since")) },
        ] + delistingRoutes()
        let router = Router(context: APIRequestContext.self)
        // First, so that it wraps every route and the router's own "not found".
        router.add(middleware: ForwardedClient(trusted: config.trustedProxies))
        router.add(middleware: JSONErrors(routes: routes, pages: pages))
        for r in routes { router.on(RouterPath(r.path), method: r.method, use: r.handler) }
        pages?.register(on: router)
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "thurac"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            eventLoopGroupProvider: .shared(HTTPThreads.eventLoops), logger: logger)
    }

    // MARK: - endpoints

    func health() throws -> Response {
        try json(.ok, Health(status: "ok", snapshotAge: metrics.snapshotAge(), serials: metrics.serials()))
    }

    struct Health: Encodable {
        var status: String
        /// Seconds since the DNS data was last published (nil before the DNS server runs).
        var snapshotAge: Double?
        var serials: [String: UInt32]
    }

    func openAPI() throws -> Response {
        guard let dir = InstalledResources.directory("thurac_HTTPAPI"),
            let data = try? Data(contentsOf: dir.appendingPathComponent("openapi.yaml"))
        else {
            return try APIError(.internalServerError, "the OpenAPI document is not installed beside the binary").response()
        }
        return Response(
            status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `POST /v1/feeds/{source}`: the token must be that source's; the body, in any feed
    /// format, is applied in one transaction, or not at all when any line is bad.
    func feed(_ request: Request, source: String) async throws -> Response {
        let caller: Source
        do { caller = try await authenticate(request) } catch let e as APIError { return try e.response() }
        guard caller.name == source else {
            return try APIError(.forbidden, "the token is the source \(quoted(caller.name))'s, not \(quoted(source))'s").response()
        }
        let format: FeedFormat?
        do {
            format = try Self.format(query: request.uri.queryParameters.get("format"), contentType: request.headers[.contentType])
        } catch {
            return try error.response()
        }
        // The body streams to a spool file as it arrives (memory stays flat whatever the feed's
        // size), then is read by the same ingestion as `thurac ingest FILE`.
        let spool = NSTemporaryDirectory() + "thurac-feed-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: spool, contents: nil), let file = FileHandle(forWritingAtPath: spool) else {
            return try APIError(.internalServerError, "cannot spool the feed to \(spool)").response()
        }
        defer { try? FileManager.default.removeItem(atPath: spool) }
        var size = 0
        do {
            for try await chunk in request.body {
                size += chunk.readableBytes
                guard size <= options.maxBody else {
                    try? file.close()
                    return try Self.tooLarge(options.maxBody, what: "a pushed feed (--http-max-body)").response()
                }
                try file.write(contentsOf: chunk.readableBytesView)
            }
            try file.close()
        } catch {
            try? file.close()
            return try APIError(.badRequest, "the body could not be read: \(error)").response()
        }
        return try await ingest(.file(spool), source: source, format: format)
    }

    /// A feed body in memory (a report) or spooled to a file (a pushed feed).
    enum FeedBody: Sendable {
        case bytes([UInt8])
        case file(String)

        func reader() throws -> FeedReader {
            switch self {
            case .bytes(let b): return FeedReader(bytes: b, name: "body")
            case .file(let path): return try FeedReader(path: path)
            }
        }
    }

    /// A feed body into the store through `FeedIngestor`, all or nothing: the answer for both
    /// feeds and reports.
    /// `publicReporter`: the client, when the source is its public reporter's (made with the
    /// report, so a refused one leaves nothing).
    func ingest(_ body: FeedBody, source: String, format: FeedFormat?, publicReporter: String? = nil) async throws -> Response {
        switch await apply(body, source: source, format: format, publicReporter: publicReporter) {
        case .applied(let r):
            return try json(.ok, FeedAnswer(source: source, format: r.format.rawValue, counts: r.counts))
        case .unavailable(let e):
            return try APIError.storeFailure(e)
        case .refused(let e, let bad):
            let details = bad.prefix(100).map { "line \($0.line): \($0.message)" } + (bad.count > 100 ? ["... \(bad.count - 100) more"] : [])
            return try APIError(.badRequest, bad.isEmpty ? "\(e)" : "\(bad.count) bad line(s): nothing was applied", details: details).response()
        }
    }

    enum Applied {
        case applied(FeedIngestor.Result)
        /// The store could not be written just now (busy, a full disk): nothing was applied.
        case unavailable(any Error)
        /// The body itself is wrong (its bad lines, when it has lines): nothing was applied.
        case refused(any Error, [FeedLineError])
    }

    /// The body applied (counted in the metrics and logged) or why not.
    func apply(_ body: FeedBody, source: String, format: FeedFormat?, publicReporter: String?) async -> Applied {
        let now = clock()
        let store = self.store
        let (outcome, bad) = await offLoop { () -> (Result<FeedIngestor.Result, any Error>, [FeedLineError]) in
            var lines: [FeedLineError] = []
            let r = Result {
                try FeedIngestor(store: store).ingest(
                    body.reader(), source: source, format: format, category: .spam, ttl: nil, now: now,
                    newPublicReporter: publicReporter.map { "API reporter \($0)" }, refuseBadLines: true, badLine: { lines.append($0) })
            }
            return (r, lines)
        }
        switch outcome {
        case .success(let r):
            metrics.ingested(source: source, r.counts)
            logger.info("\(r.format == .arf ? "ARF report" : "feed") from \(source) over HTTP (\(r.format.rawValue)): \(r.counts)")
            return .applied(r)
        case .failure(let e) where bad.isEmpty && ListingStore.isUnavailable(e):
            return .unavailable(e)
        case .failure(let e):
            metrics.ingested(source: source, rejected: max(1, bad.count))
            return .refused(e, bad)
        }
    }

    struct FeedAnswer: Encodable {
        var source: String
        var format: String
        var added, refreshed, pending, allowlisted, rejected, stale: Int
        init(source: String, format: String, counts c: IngestCounts) {
            self.source = source
            self.format = format
            (added, refreshed, pending, allowlisted, rejected, stale) = (c.added, c.refreshed, c.pending, c.allowlisted, c.rejected, c.stale)
        }
    }

    /// `?format=` first, then the Content-Type; nil: detected from the content.
    static func format(query: String?, contentType: String?) throws(APIError) -> FeedFormat? {
        if let q = query {
            guard let f = FeedFormat(rawValue: q) else {
                throw APIError(.badRequest, "unknown format \(quoted(q))", details: ["formats: " + FeedFormat.allCases.map(\.rawValue).joined(separator: ", ")])
            }
            return f
        }
        let type = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch type {
        case "text/csv": return .csv
        case "application/x-ndjson", "application/jsonl", "application/json-lines": return .jsonl
        case "message/feedback-report", "multipart/report", "message/rfc822": return .arf
        default: return nil
        }
    }

    func lookup(_ text: String) async throws -> Response {
        let key = text.removingPercentEncoding ?? text
        guard let spec = try? KeySpec(parsing: key) else {
            return try APIError(.badRequest, "\(quoted(key)) is not a key (an address, network, range, domain or e-mail address)").response()
        }
        let (store, zones, now) = (self.store, config.zones, clock())
        do {
            let e = try await offLoop { try KeyExplanation.explain(spec, store: store, zones: zones, at: now) }
            return try json(.ok, e)
        } catch {
            return try APIError.storeFailure(error)
        }
    }

    func stats(since text: String?) async throws -> Response {
        let now = clock()
        var since = now - 86400
        if let text {
            guard let t = ISOTime.parse(text) else { return try APIError(.badRequest, "since: \(quoted(text)) is not an ISO 8601 time").response() }
            since = t
        }
        let (store, from) = (self.store, since)
        do {
            let s = try await offLoop { try store.statistics(since: from, now: now) }
            return try json(.ok, StatisticsReport(s, zones: config.zones))
        } catch {
            return try APIError.storeFailure(error)
        }
    }

    func prometheusText() throws -> Response {
        let text = try metrics.render(store: store, zones: config.zones, now: clock())
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: - helpers

    /// The source whose token is in `Authorization: Bearer`; 401 without one or for an unknown one.
    func authenticate(_ request: Request) async throws -> Source {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError(.unauthorized, "an 'Authorization: Bearer <token>' header is required")
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let store = self.store
        guard let source = try await offLoop({ try store.authenticate(token: token) }) else {
            throw APIError(.unauthorized, "unknown token")
        }
        return source
    }
}

/// An error answer: `{"error": "...", "details": [...]}`.
struct APIError: Error {
    var status: HTTPResponse.Status
    var message: String
    var details: [String]

    init(_ status: HTTPResponse.Status, _ message: String, details: [String] = []) {
        self.status = status
        self.message = message
        self.details = details
    }

    struct Body: Encodable {
        var error: String
        var details: [String]
    }

    func response() throws -> Response { try json(status, Body(error: message, details: details)) }

    /// A store error as a client sees it: 503 with `Retry-After` when the store cannot be
    /// written just now (busy, a full disk; nothing was recorded), 500 for anything else.
    static func storeFailure(_ error: any Error) throws -> Response {
        guard ListingStore.isUnavailable(error) else { return try APIError(.internalServerError, "\(error)").response() }
        var r = try APIError(.serviceUnavailable, "the store cannot be written just now (\(ListingStore.reason(error))): nothing was recorded, try again later").response()
        r.headers[.retryAfter] = "5"
        return r
    }

    /// A 429 that says when to come back.
    static func tooManyRequests(_ message: String, retryAfter seconds: Int) -> RetryLater {
        RetryLater(error: APIError(.tooManyRequests, "\(message); try again in \(seconds) s"), seconds: seconds)
    }

    struct RetryLater {
        var error: APIError
        var seconds: Int
        func response() throws -> Response {
            var r = try error.response()
            r.headers[.retryAfter] = String(seconds)
            return r
        }
    }
}

func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = try encoder.encode(value)
    return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}
