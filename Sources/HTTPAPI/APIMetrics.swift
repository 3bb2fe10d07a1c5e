import CoreMetrics
import DNSTransport
import Foundation
import ListingKeys
import Listings
import Prometheus
import Publishing
import RateLimiting
import Store
import Synchronization

/// `GET /metrics`: swift-metrics instruments with the Prometheus backend, named in CoreDNS's
/// style (`thurac_dns_requests_total{zone,proto}`, ...).
///
/// The DNS counters are not touched per query: the UDP path counts in per-worker blocks without
/// locks (`QueryCounters`), and a scrape turns their totals into the Prometheus counters (adding
/// what is new since the last scrape). Listings per zone and category are read from the store at
/// the scrape; ingest outcomes are counted as feeds arrive over the API.
public final class APIMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// The DNS server's figures, once it runs.
    private let dns = Mutex<DNSServer?>(nil)
    private let seen = Mutex<[String: Int]>([:])

    public init() {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
    }

    public func attach(_ server: DNSServer) { dns.withLock { $0 = server } }

    func server() -> DNSServer? { dns.withLock { $0 } }

    /// Seconds since the served snapshot was published.
    func snapshotAge() -> Double? { server().map { Date().timeIntervalSince($0.publishedAt) } }

    func serials() -> [String: UInt32] {
        var out: [String: UInt32] = [:]
        for z in server()?.snapshot.zones ?? [] { out[z.originText] = z.soa.serial }
        return out
    }

    /// A feed's outcome, per source.
    func ingested(source: String, _ c: IngestCounts) {
        for (outcome, n) in [("added", c.added), ("refreshed", c.refreshed), ("pending", c.pending), ("allowlisted", c.allowlisted), ("rejected", c.rejected), ("stale", c.stale)]
        where n > 0 {
            Counter(label: "thurac_ingest_reports_total", dimensions: [("source", source), ("outcome", outcome)], factory: factory).increment(by: n)
        }
    }

    func ingested(source: String, rejected: Int) {
        Counter(label: "thurac_ingest_reports_total", dimensions: [("source", source), ("outcome", "rejected")], factory: factory)
            .increment(by: rejected)
    }

    /// Brings the instruments up to date and renders the registry.
    func render(store: ListingStore, zones: [ZoneDefinition], now: Int) throws -> String {
        if let server = server() {
            for t in server.traffic() {
                let base = [("zone", t.zone), ("proto", t.proto)]
                for (type, n) in t.types { add("thurac_dns_requests_total", base + [("type", type)], n) }
                add("thurac_dns_responses_total", base + [("rcode", "NOERROR")], t.noError)
                add("thurac_dns_responses_total", base + [("rcode", "NXDOMAIN")], t.nxdomain)
                add("thurac_dns_responses_total", base + [("rcode", "other")], t.errors)
                add("thurac_dns_listed_total", base, t.listed)
            }
            for z in server.snapshot.zones {
                Gauge(label: "thurac_zone_serial", dimensions: [("zone", z.originText)], factory: factory).record(Double(z.soa.serial))
            }
            Gauge(label: "thurac_snapshot_age_seconds", factory: factory).record(Date().timeIntervalSince(server.publishedAt))
            if let limiter = server.rateLimiter {
                for t in limiter.totals() {
                    add("thurac_dns_rrl_responses_total", [("kind", t.kind.label), ("action", "slipped")], Int(t.slipped))
                    add("thurac_dns_rrl_responses_total", [("kind", t.kind.label), ("action", "dropped")], Int(t.dropped))
                }
                let second = ResponseRateLimiter.second(uptimeNanoseconds: DispatchTime.now().uptimeNanoseconds)
                Gauge(label: "thurac_dns_rrl_limited_clients", factory: factory).record(Double(limiter.limitedAccounts(second: second)))
            }
        }
        // Published listings now, per zone that serves their family, and category.
        let current = try store.statistics(since: now, now: now).listings
        for z in zones where z.role != .allowlist {
            for c in Category.allCases {
                let n = current.filter { StatisticsReport.publishes(z.role, $0.family) && $0.category == c.rawValue }.reduce(0) { $0 + $1.current }
                Gauge(label: "thurac_listings", dimensions: [("zone", z.name), ("category", c.rawValue)], factory: factory).record(Double(n))
            }
        }
        var out: [UInt8] = []
        registry.emit(into: &out)
        var text = Self.withHelp(String(decoding: out, as: UTF8.self))
        if let server = server() { text += Self.histogram(server.durations()) }
        return text
    }

    /// What each family counts, for its `# HELP` line (swift-metrics has no place for it).
    static let help: [String: String] = [
        "thurac_dns_requests_total": "DNS queries answered, by zone, transport and query type.",
        "thurac_dns_responses_total": "DNS answers, by zone, transport and response code.",
        "thurac_dns_listed_total": "DNS answers that said a key is listed, by zone and transport.",
        "thurac_zone_serial": "The SOA serial each zone is served with.",
        "thurac_snapshot_age_seconds": "Seconds since the DNS data was last published.",
        "thurac_dns_rrl_responses_total": "UDP answers held back by response rate limiting, by answer kind and action (slipped: sent truncated; dropped).",
        "thurac_dns_rrl_limited_clients": "Client prefix and answer kind accounts limited within the last rate-limit window.",
        "thurac_listings": "Listings published now, by zone and category.",
        "thurac_ingest_reports_total": "Reports received over the API, by source and outcome.",
    ]

    /// The exposition text with a `# HELP` line before each family's `# TYPE` line.
    static func withHelp(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + help.count * 100)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst(7).split(separator: " ").first, let h = help[String(name)] {
                out += "# HELP \(name) \(h)\n"
            }
            out += line
            out += "\n"
        }
        return String(out.dropLast())
    }

    /// The answer-time histogram, already bucketed by the workers (without a lock or a
    /// Prometheus call per query), in the exposition format.
    static func histogram(_ all: [(proto: String, bounds: [Double], counts: [Int], sum: Double)]) -> String {
        let name = "thurac_dns_request_duration_seconds"
        var text = "# HELP \(name) Time from a query's parse to its answer written.\n# TYPE \(name) histogram\n"
        for h in all {
            var cumulative = 0
            for (i, n) in h.counts.enumerated() {
                cumulative += n
                let le = i < h.bounds.count ? "\(h.bounds[i])" : "+Inf"
                text += "\(name)_bucket{proto=\"\(h.proto)\",le=\"\(le)\"} \(cumulative)\n"
            }
            text += "\(name)_sum{proto=\"\(h.proto)\"} \(h.sum)\n\(name)_count{proto=\"\(h.proto)\"} \(cumulative)\n"
        }
        return text
    }

    /// Adds to a counter what a running total gained since the last scrape.
    private func add(_ name: String, _ labels: [(String, String)], _ total: Int) {
        let id = name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let delta = seen.withLock { seen -> Int in
            let d = total - (seen[id] ?? 0)
            seen[id] = total
            return d
        }
        let counter = Counter(label: name, dimensions: labels, factory: factory)
        if delta > 0 { counter.increment(by: delta) }
    }
}
