import GRDB
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
    public init() {}
    public var description: String {
        "added \(added), refreshed \(refreshed), pending \(pending), allowlisted \(allowlisted), rejected \(rejected)"
    }
}

/// Publication policy (SPEC §2).
public struct Policy: Sendable {
    /// Distinct public reporters needed within `publicWindow` to publish.
    public var publicReporters = 3
    public var publicWindow = 7 * 86400
    public init() {}
}

extension ListingStore {
    /// Applies one feed in one transaction: all of it or, if anything fails, none of it.
    /// Statements are prepared once per connection (cached), not once per line.
    public func ingest(
        _ reports: [ReportInput], source name: String, ttlOverride: Int?, now: Int, rejected: Int = 0,
        policy: Policy = Policy()
    ) throws -> IngestCounts {
        try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM source WHERE name = ? AND removedAt IS NULL", arguments: [name])
            else { throw StoreError("no source named '\(name)'") }
            let source = Self.source(row)
            var counts = IngestCounts()
            counts.rejected = rejected
            for r in reports {
                let key = r.key.description
                if try Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM allowlist WHERE key = ?"), arguments: [r.key.key.description]) != nil {
                    counts.allowlisted += 1
                    continue
                }
                let seen = r.seen ?? now
                let ttl = r.ttl ?? ttlOverride ?? source.effectiveTTL
                try db.cachedStatement(sql: """
                        INSERT INTO report (sourceId, key, excluded, category, reason, evidence, seenAt, ttl, receivedAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (sourceId, key, category) DO UPDATE SET
                          seenAt = max(seenAt, excluded.seenAt), ttl = excluded.ttl,
                          reason = coalesce(excluded.reason, reason), evidence = coalesce(excluded.evidence, evidence),
                          receivedAt = excluded.receivedAt
                        """).execute(arguments: [source.id, key, r.key.excluded, r.category.rawValue, r.reason, r.evidence, seen, ttl, now])
                let expires = ttl.map { seen + $0 }
                // Published when a trusted source reported it, or enough distinct public ones lately.
                let trusted = try Int.fetchOne(db.cachedStatement(sql: """
                        SELECT count(*) FROM report JOIN source ON source.id = report.sourceId
                        WHERE report.key = ? AND report.category = ? AND source.kind != 'public'
                        """), arguments: [key, r.category.rawValue]) ?? 0
                let publicRecent = try Int.fetchOne(db.cachedStatement(sql: """
                        SELECT count(DISTINCT report.sourceId) FROM report JOIN source ON source.id = report.sourceId
                        WHERE report.key = ? AND report.category = ? AND source.kind = 'public' AND report.seenAt >= ?
                        """), arguments: [key, r.category.rawValue, now - policy.publicWindow]) ?? 0
                var graceActive = false
                if let grace = try Int.fetchOne(db.cachedStatement(sql: "SELECT graceUntil FROM delisting WHERE key = ?"), arguments: [key]) {
                    graceActive = grace > now && !source.kind.isTrusted
                }
                let publish = !graceActive && (trusted > 0 || publicRecent >= policy.publicReporters)
                let state = publish ? "published" : "pending"
                let reportCount = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM report WHERE key = ? AND category = ?"), arguments: [key, r.category.rawValue]) ?? 1
                let existing = try Row.fetchOne(db.cachedStatement(sql: "SELECT state, expiresAt FROM listing WHERE key = ? AND category = ?"), arguments: [key, r.category.rawValue])
                if let existing {
                    let oldExpiry: Int? = existing["expiresAt"]
                    // A listing never expires earlier because of a shorter report; nil means never.
                    let newExpiry: Int? = (oldExpiry == nil || expires == nil) ? nil : max(oldExpiry!, expires!)
                    let wasPublished = (existing["state"] as String) == "published"
                    let newState = wasPublished ? "published" : state
                    try db.cachedStatement(sql: """
                            UPDATE listing SET state = ?, lastSeen = max(lastSeen, ?), expiresAt = ?, reportCount = ?,
                              reason = coalesce(?, reason)
                            WHERE key = ? AND category = ?
                            """).execute(arguments: [newState, seen, newExpiry, reportCount, r.reason, key, r.category.rawValue])
                    if newState == "published" { counts.refreshed += 1 } else { counts.pending += 1 }
                } else {
                    try db.cachedStatement(sql: """
                            INSERT INTO listing (key, category, state, firstSeen, lastSeen, expiresAt, reportCount, reason)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """).execute(arguments: [key, r.category.rawValue, state, seen, seen, expires, reportCount, r.reason])
                    if publish { counts.added += 1 } else { counts.pending += 1 }
                }
            }
            try Self.audit(db, at: now, actor: "source:\(name)", action: "ingest", subject: nil, detail: counts.description)
            return counts
        }
    }

    public struct ListingRow: Sendable, Equatable {
        public var key: String
        public var category: String
        public var state: String
        public var firstSeen: Int
        public var lastSeen: Int
        public var expiresAt: Int?
        public var reportCount: Int
        public var reason: String?
    }

    /// Every listing row of a key (all categories and states), for `lookup`.
    public func listings(key: String) throws -> [ListingRow] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM listing WHERE key = ? ORDER BY category", arguments: [key]).map {
                ListingRow(
                    key: $0["key"], category: $0["category"], state: $0["state"], firstSeen: $0["firstSeen"],
                    lastSeen: $0["lastSeen"], expiresAt: $0["expiresAt"], reportCount: $0["reportCount"], reason: $0["reason"])
            }
        }
    }

    /// Sources that reported a key, with when they last saw it.
    public func reporters(key: String) throws -> [(source: String, kind: String, seen: Int)] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT source.name, source.kind, max(report.seenAt) AS seen FROM report
                    JOIN source ON source.id = report.sourceId WHERE report.key = ? GROUP BY source.id ORDER BY source.name
                    """, arguments: [key]
            ).map { ($0["name"], $0["kind"], $0["seen"]) }
        }
    }
}
