import Foundation
import Hummingbird
import Ingestion
import ListingKeys
import Logging
import MailIntake
import NIOCore
import Store
import ZoneConfig

/// The request context of the API (and of the pages served beside it): Hummingbird's, plus the
/// client's address (public reports are counted and rate-limited per address).
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The client a trusted reverse proxy forwarded the request for (`ForwardedClient`).
    public var forwardedFor: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Who the client is for public reports and their rate limit: its IPv4 address, or its
    /// IPv6 /64 (one site holds a whole /64: counting addresses would let it be many reporters).
    public var client: String {
        guard let ip = forwardedFor ?? remoteAddress?.ipAddress else { return "unknown" }
        if ip.hasPrefix("::ffff:") { return String(ip.dropFirst(7)) }
        if let spec = try? KeySpec(parsing: ip), case .ipv6(let a, _) = spec.key {
            return ListingKey.ipv6(address: a & (UInt128.max << 64), prefixLength: 64).description
        }
        return ip
    }
}

/// One report as JSON (`POST /v1/reports`).
struct ReportBody: Decodable {
    var key: String
    var category: String?
    var reason: String?
    /// A URL or text showing the spam (a message, a log line).
    var evidence: String?
    /// How to reach the reporter (kept with the evidence).
    var contact: String?
}

extension APIServer {
    /// `POST /v1/reports`: one report (JSON) or an ARF message. With a token it counts for that
    /// source; without one it is a public report from the client's address (SPEC §2: published
    /// when enough distinct reporters agree), rate-limited per address.
    func report(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let source: String
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let forwarded = type.hasPrefix("message/rfc822") || type.hasPrefix("message/global")
        if request.headers[.authorization] != nil {
            do { source = try await authenticate(request).name } catch let e as APIError { return try e.response() }
        } else {
            if let wait = reportLimiter.take(context.client) {
                return try APIError.tooManyRequests("too many public reports from \(context.client)", retryAfter: wait).response()
            }
            // Made with the report's listings, in their transaction: a refused report leaves
            // no source behind.
            source = Self.publicSourceName(for: context.client)
        }
        let publicReporter = request.headers[.authorization] == nil ? context.client : nil
        if forwarded {
            return try await forwardedMessage(request, source: source, publicReporter: publicReporter != nil, client: context.client)
        }
        let body: ByteBuffer
        switch try await Self.collectBody(request, upTo: min(options.maxBody, Options.maxReport), what: "a report") {
        case .success(let b): body = b
        case .failure(let e): return try e.response()
        }
        let feed: [UInt8]
        let format: FeedFormat
        if type.hasPrefix("message/") || type.hasPrefix("multipart/report") {
            (feed, format) = (Array(body.readableBytesView), .arf)
        } else {
            let r: ReportBody
            do { r = try JSONDecoder().decode(ReportBody.self, from: Data(body.readableBytesView)) } catch {
                return try APIError(
                    .badRequest, "a report is JSON {\"key\", \"category\", \"reason\", \"evidence\", \"contact\"} or an ARF message",
                    details: [JSONReason.of(error)]
                ).response()
            }
            feed = try Self.reportLine(key: r.key, category: r.category, reason: r.reason, evidence: r.evidence, contact: r.contact)
            format = .jsonl
        }
        return try await ingest(.bytes(feed), source: source, format: format, publicReporter: publicReporter)
    }

    /// A forwarded spam message (`Content-Type: message/rfc822`), read as `thurac intake` reads
    /// one, up to 10 MiB; the reporter is the client (or the token's source).
    func forwardedMessage(_ request: Request, source: String, publicReporter: Bool, client: String) async throws -> Response {
        let settings: IntakeSettings
        switch intake {
        case .success(let s): settings = s
        case .failure(let e): return try APIError(.serviceUnavailable, "forwarded messages cannot be read here: \(e)").response()
        }
        let body: ByteBuffer
        switch try await Self.collectBody(request, upTo: min(options.maxBody, Options.maxForwardedMessage), what: "a forwarded message") {
        case .success(let b): body = b
        case .failure(let e): return try e.response()
        }
        let raw = Array(body.readableBytesView)
        let (store, now, policy) = (self.store, clock(), config.policy)
        let outcome = await offLoop { () -> Result<MailIntake.Result, any Error> in
            var reader = MailIntake(store: store, settings: settings)
            reader.policy = policy
            return Result {
                try reader.accept(
                    raw, reporter: publicReporter ? client : "source:\(source)", source: source, publicReporter: publicReporter,
                    recipient: nil, category: nil, limited: false, now: now)
            }
        }
        switch outcome {
        case .success(let r):
            guard let counts = r.counts else { return try APIError(.badRequest, r.summary).response() }
            metrics.ingested(source: source, counts)
            // Built before the call: Swift 6.3 crashed reading values across an await in the autoclosure.
            let line = "forwarded message from \(source) over HTTP: \(r.summary)"
            logger.info("\(line)")
            return try json(.ok, FeedAnswer(source: source, format: "message", counts: counts))
        case .failure(let e as IntakeError):
            return try APIError(.badRequest, e.description).response()
        case .failure(let e):
            return try APIError.storeFailure(e)
        }
    }

    /// A public reporter's source name: one per client address.
    /// One report as a JSON-lines feed of one line: reports take the feeds' path.
    static func reportLine(key: String, category: String?, reason: String?, evidence: String?, contact: String?) throws -> [UInt8] {
        var line: [String: String] = ["key": key]
        line["category"] = category
        line["reason"] = reason
        let evidence = [evidence, contact.map { "contact: \($0)" }].compactMap { $0 }.joined(separator: "; ")
        if !evidence.isEmpty { line["evidence"] = evidence }
        return Array(try JSONSerialization.data(withJSONObject: line)) + [0x0A]
    }

    /// What became of a person's report.
    public enum PublicReportOutcome: Sendable {
        case recorded(IngestCounts)
        /// The report itself is wrong (not a key, an unknown category): nothing was applied.
        case refused(String)
        case tooMany(retryAfter: Int)
        /// The store could not be written just now: nothing was applied.
        case unavailable(String)
    }

    /// A public report from a person (the portal's form), through the same path as an anonymous
    /// `POST /v1/reports`: the client's rate limit, its public source made in the report's
    /// transaction, the publication policy (distinct reporters).
    public func publicReport(key: String, category: String?, reason: String?, evidence: String?, client: String) async -> PublicReportOutcome {
        if let wait = reportLimiter.take(client) { return .tooMany(retryAfter: wait) }
        guard let line = try? Self.reportLine(key: key, category: category, reason: reason, evidence: evidence, contact: nil) else {
            return .refused("the report cannot be written as a feed line")
        }
        switch await apply(.bytes(line), source: Self.publicSourceName(for: client), format: .jsonl, publicReporter: client) {
        case .applied(let r): return .recorded(r.counts)
        case .unavailable(let e): return .unavailable(ListingStore.reason(e))
        case .refused(let e, let bad): return .refused(bad.first?.message ?? "\(e)")
        }
    }

    static func publicSourceName(for client: String) -> String {
        "public-" + String(client.map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "-" })
    }
}
