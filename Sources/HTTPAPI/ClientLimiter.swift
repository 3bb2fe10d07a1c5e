import Foundation
import Synchronization

/// Requests per client address (public reports, delisting requests: a bucket each): a token
/// bucket per client, a burst then a steady rate. Memory stays bounded: past 100,000 clients,
/// those idle for an hour are forgotten.
final class ClientLimiter: Sendable {
    let burst: Double
    let perSecond: Double
    private let buckets = Mutex<[String: (tokens: Double, at: Double)]>([:])

    init(burst: Int, perHour: Int) {
        self.burst = Double(max(1, burst))
        perSecond = Double(max(1, perHour)) / 3600
    }

    /// Takes one request from the client's bucket: nil when allowed, otherwise the seconds
    /// until the next one would be (for `Retry-After`).
    func take(_ client: String, now: Double = Date().timeIntervalSince1970) -> Int? {
        buckets.withLock { all in
            if all.count > 100_000 { all = all.filter { now - $0.value.at < 3600 } }
            var b = all[client] ?? (burst, now)
            b.tokens = min(burst, b.tokens + max(0, now - b.at) * perSecond)
            b.at = now
            defer { all[client] = b }
            guard b.tokens >= 1 else { return max(1, Int(((1 - b.tokens) / perSecond).rounded(.up))) }
            b.tokens -= 1
            return nil
        }
    }
}
