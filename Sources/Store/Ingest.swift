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
    /// The feed goes into a temporary table and is merged with a handful of set statements
    /// (reports, then the policy decision per key, then listings), not one round of SQL per line.
    /// Several lines for one key and category in a feed count as one report.
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
            let allowed = Set(try String.fetchAll(db, sql: "SELECT key FROM allowlist"))

            try db.execute(
                sql: """
                    CREATE TEMP TABLE IF NOT EXISTS feed (
                      key TEXT NOT NULL, excluded INTEGER NOT NULL, category TEXT NOT NULL, reason TEXT,
                      evidence TEXT, seenAt INTEGER NOT NULL, ttl INTEGER, expiresAt INTEGER,
                      PRIMARY KEY (key, category)) WITHOUT ROWID;
                    DELETE FROM feed;
                    """)
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO feed (key, excluded, category, reason, evidence, seenAt, ttl, expiresAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (key, category) DO UPDATE SET
                      seenAt = max(seenAt, excluded.seenAt), ttl = excluded.ttl,
                      expiresAt = CASE WHEN feed.expiresAt IS NULL OR excluded.expiresAt IS NULL THEN NULL
                                       ELSE max(feed.expiresAt, excluded.expiresAt) END,
                      reason = coalesce(excluded.reason, reason), evidence = coalesce(excluded.evidence, evidence)
                    """)
            for r in reports {
                if allowed.contains(r.key.key.description) {
                    counts.allowlisted += 1
                    continue
                }
                let seen = r.seen ?? now
                let ttl = r.ttl ?? ttlOverride ?? source.effectiveTTL
                try insert.execute(arguments: [
                    r.key.description, r.key.excluded, r.category.rawValue, r.reason, r.evidence, seen, ttl,
                    ttl.map { seen + $0 },
                ])
            }
            try db.execute(
                sql: """
                    INSERT INTO report (sourceId, key, excluded, category, reason, evidence, seenAt, ttl, receivedAt)
                    SELECT ?, key, excluded, category, reason, evidence, seenAt, ttl, ? FROM feed WHERE true
                    ON CONFLICT (sourceId, key, category) DO UPDATE SET
                      seenAt = max(seenAt, excluded.seenAt), ttl = excluded.ttl,
                      reason = coalesce(excluded.reason, reason), evidence = coalesce(excluded.evidence, evidence),
                      receivedAt = excluded.receivedAt
                    """, arguments: [source.id, now])
            // The policy, per key: published when a trusted source reported it, or enough distinct
            // public reporters lately; held back while a delisting's grace runs, unless the
            // reporter is trusted.
            try db.execute(
                sql: """
                    DROP TABLE IF EXISTS decision;
                    CREATE TEMP TABLE decision AS
                    SELECT f.key, f.category, f.seenAt, f.expiresAt, f.reason,
                      l.key IS NOT NULL AS existed, l.state AS oldState,
                      (SELECT count(*) FROM report r WHERE r.key = f.key AND r.category = f.category) AS reportCount,
                      ((? OR coalesce((SELECT graceUntil FROM delisting d WHERE d.key = f.key), 0) <= ?)
                       AND ((SELECT count(*) FROM report r JOIN source s ON s.id = r.sourceId
                             WHERE r.key = f.key AND r.category = f.category AND s.kind != 'public') > 0
                         OR (SELECT count(DISTINCT r.sourceId) FROM report r JOIN source s ON s.id = r.sourceId
                             WHERE r.key = f.key AND r.category = f.category AND s.kind = 'public' AND r.seenAt >= ?) >= ?)
                      ) AS publish
                    FROM feed f LEFT JOIN listing l ON l.key = f.key AND l.category = f.category;
                    """, arguments: [source.kind.isTrusted, now, now - policy.publicWindow, policy.publicReporters])
            let tally = try Row.fetchOne(
                db,
                sql: """
                    SELECT
                      sum(NOT existed AND publish) AS added,
                      sum(existed AND (oldState = 'published' OR publish)) AS refreshed,
                      sum((NOT existed AND NOT publish) OR (existed AND NOT (oldState = 'published' OR publish))) AS pending
                    FROM decision
                    """)
            counts.added = tally?["added"] ?? 0
            counts.refreshed = tally?["refreshed"] ?? 0
            counts.pending = tally?["pending"] ?? 0
            try db.execute(
                sql: """
                    INSERT INTO listing (key, category, state, firstSeen, lastSeen, expiresAt, reportCount, reason)
                    SELECT key, category, CASE WHEN publish THEN 'published' ELSE 'pending' END, seenAt, seenAt,
                      expiresAt, reportCount, reason
                    FROM decision WHERE NOT existed;
                    UPDATE listing SET
                      state = CASE WHEN d.oldState = 'published' OR d.publish THEN 'published' ELSE 'pending' END,
                      lastSeen = max(listing.lastSeen, d.seenAt),
                      -- A listing never expires earlier because of a shorter report; NULL means never.
                      expiresAt = CASE WHEN listing.expiresAt IS NULL OR d.expiresAt IS NULL THEN NULL
                                       ELSE max(listing.expiresAt, d.expiresAt) END,
                      reportCount = d.reportCount, reason = coalesce(d.reason, listing.reason)
                    FROM decision d WHERE d.existed AND listing.key = d.key AND listing.category = d.category;
                    DROP TABLE decision;
                    DELETE FROM feed;
                    """)
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

    static func listingRow(_ row: Row) -> ListingRow {
        ListingRow(
            key: row["key"], category: row["category"], state: row["state"], firstSeen: row["firstSeen"],
            lastSeen: row["lastSeen"], expiresAt: row["expiresAt"], reportCount: row["reportCount"], reason: row["reason"])
    }

    /// Every listing row of a key (all categories and states), for `lookup`.
    public func listings(key: String) throws -> [ListingRow] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM listing WHERE key = ? ORDER BY category", arguments: [key])
                .map(Self.listingRow)
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
