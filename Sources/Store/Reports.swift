import ListingKeys

/// A report on its way into the store.
public struct ReportInput: Sendable, Equatable {
    public var key: KeySpec
    public var category: Category
    public var reason: String?
    public var evidence: String?
    /// Seconds; nil = the feed's override or the source's default.
    public var ttl: Int?
    public var seen: Int?

    public init(key: KeySpec, category: Category, reason: String?, evidence: String? = nil, ttl: Int?, seen: Int?) {
        self.key = key
        self.category = category
        self.reason = reason
        self.evidence = evidence
        self.ttl = ttl
        self.seen = seen
    }
}

/// What one feed did (SPEC §5 `ingest`).
public struct IngestCounts: Sendable, Equatable, CustomStringConvertible {
    public var added = 0
    public var refreshed = 0
    public var pending = 0
    public var allowlisted = 0
    public var rejected = 0
    /// Reports already expired when they arrived (an ARF report older than its TTL): taken
    /// note of, not applied.
    public var stale = 0
    public init() {}
    public var description: String {
        "added \(added), refreshed \(refreshed), pending \(pending), allowlisted \(allowlisted), rejected \(rejected)"
            + (stale > 0 ? ", stale \(stale)" : "")
    }
}

/// Publication policy (SPEC §2).
public struct Policy: Sendable {
    /// Distinct public reporters needed within `publicWindow` to publish.
    public var publicReporters = 3
    public var publicWindow = 7 * 86400
    public init() {}
}
