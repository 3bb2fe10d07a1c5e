import Foundation
import Synchronization

/// Failed sign-ins per account and client address: after `limit` within `window` seconds,
/// sign-in is refused for that pair, even with the right password, until the oldest failure is
/// older than the window. Memory is bounded: the table is cleared of old entries as it grows.
final class LoginLimiter: Sendable {
    private let failures = Mutex<[String: [Int]]>([:])
    let limit: Int
    let window: Int

    init(limit: Int = 10, window: Int = 900) {
        self.limit = limit
        self.window = window
    }

    /// Seconds until the pair may try again; nil when it may now.
    func blocked(name: String, client: String, now: Int) -> Int? {
        failures.withLock { table in
            let recent = (table["\(name)\u{0}\(client)"] ?? []).filter { now - $0 < window }
            guard recent.count >= limit, let oldest = recent.min() else { return nil }
            return max(1, oldest + window - now)
        }
    }

    func failed(name: String, client: String, now: Int) {
        failures.withLock { table in
            if table.count > 10_000 { table = table.filter { $0.value.contains { now - $0 < window } } }
            table["\(name)\u{0}\(client)", default: []].append(now)
            table["\(name)\u{0}\(client)"] = table["\(name)\u{0}\(client)"]!.filter { now - $0 < window }.suffix(limit)
        }
    }

    func succeeded(name: String, client: String) {
        _ = failures.withLock { $0.removeValue(forKey: "\(name)\u{0}\(client)") }
    }
}
