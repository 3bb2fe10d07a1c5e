import Listings

/// What response rate limiting allows (`[rrl]`, `--rrl-*`; docs/rate-limiting.md maps each
/// setting to BIND's `rate-limit` and NSD's `rrl-*`).
public struct RateLimitSettings: Sendable, Equatable {
    /// Positive and NODATA answers per second per client prefix and kind; 0: not limited.
    public var responsesPerSecond: Int
    /// NXDOMAIN answers per second; nil: as `responsesPerSecond`.
    public var nxdomainsPerSecond: Int?
    /// REFUSED, FORMERR, NOTIMP, SERVFAIL answers per second; nil: as `responsesPerSecond`.
    public var errorsPerSecond: Int?
    /// Seconds a prefix counts as limited after its last limited response (the metrics'
    /// "clients currently limited").
    public var window: Int
    /// Every `slip`-th limited response goes out truncated and empty (TC=1: a real resolver
    /// asks again over TCP); the rest are dropped. 0: all dropped.
    public var slip: Int
    public var ipv4PrefixLength: Int
    public var ipv6PrefixLength: Int
    /// Clients never limited: loopback by default (the local mail server).
    public var exempt: [ClientPrefix]
    /// Count what would be limited, limit nothing.
    public var logOnly: Bool

    /// Nothing limited (rbldnsd's behaviour, the compat mode's default).
    public static let off = RateLimitSettings(responsesPerSecond: 0)

    /// The store mode's default: a limit far above what the province's ISP resolvers send per
    /// /24 (a mail server asks a few names per connection), low enough that thurac is a poor
    /// reflector. docs/rate-limiting.md says how the figure was chosen.
    public static let shipped = RateLimitSettings(responsesPerSecond: 1000)

    public init(
        responsesPerSecond: Int, nxdomainsPerSecond: Int? = nil, errorsPerSecond: Int? = nil, window: Int = 15,
        slip: Int = 2, ipv4PrefixLength: Int = 24, ipv6PrefixLength: Int = 56, exempt: [ClientPrefix] = Self.loopback,
        logOnly: Bool = false
    ) {
        self.responsesPerSecond = responsesPerSecond
        self.nxdomainsPerSecond = nxdomainsPerSecond
        self.errorsPerSecond = errorsPerSecond
        self.window = window
        self.slip = slip
        self.ipv4PrefixLength = ipv4PrefixLength
        self.ipv6PrefixLength = ipv6PrefixLength
        self.exempt = exempt
        self.logOnly = logOnly
    }

    public static let loopback: [ClientPrefix] = [try! ClientPrefix(parsing: "127.0.0.0/8"), try! ClientPrefix(parsing: "::1")]

    /// Responses of this kind allowed per second; 0 when not limited.
    public func limit(_ kind: ResponseKind) -> Int {
        switch kind {
        case .positive, .nodata: responsesPerSecond
        case .nxdomain: nxdomainsPerSecond ?? responsesPerSecond
        case .error: errorsPerSecond ?? responsesPerSecond
        }
    }

    public var isEnabled: Bool { ResponseKind.allCases.contains { limit($0) > 0 } }

    /// Every value in its range, or what is wrong with it.
    public func validate() throws(Invalid) {
        for (name, v) in [("responses_per_second", responsesPerSecond), ("nxdomains_per_second", nxdomainsPerSecond ?? 0),
                          ("errors_per_second", errorsPerSecond ?? 0)] where !(0...1_000_000).contains(v) {
            throw Invalid("rrl.\(name) must be 0 (no limit) to 1000000, not \(v)")
        }
        guard (1...3600).contains(window) else { throw Invalid("rrl.window must be 1s to 1h") }
        guard (0...10).contains(slip) else { throw Invalid("rrl.slip must be 0 to 10 (BIND's range)") }
        guard (8...32).contains(ipv4PrefixLength) else { throw Invalid("rrl.ipv4_prefix_length must be 8 to 32") }
        guard (16...128).contains(ipv6PrefixLength) else { throw Invalid("rrl.ipv6_prefix_length must be 16 to 128") }
    }
}

extension RateLimitSettings {
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }
}

/// Response kinds counted apart, as BIND and NSD separate them.
public enum ResponseKind: Int, CaseIterable, Sendable {
    case positive = 0, nodata, nxdomain, error

    public var label: String {
        switch self {
        case .positive: "positive"
        case .nodata: "nodata"
        case .nxdomain: "nxdomain"
        case .error: "error"
        }
    }
}
