import GRDB
import ListingKeys

/// What the Department's staff do by hand (the console, SPEC §1): review pending public
/// reports (confirm publishes them as the operator, dismiss holds them back like a delisting),
/// list a key manually, and find listings by key or prefix. A manual listing or a confirmation
/// is a report from the operator's own source (`op-<account>`, kind `operator`, made on first
/// use), merged like any feed: provenance, the journal (IXFR) and the audit log stay as they
/// are for feeds, and the operator's account is in the audit log beside it.
extension ListingStore {
    /// One key waiting for corroboration: its pending categories and its public reports.
    public struct PendingKey: Sendable, Equatable {
        public var key: String
        public var categories: [String]
        /// Distinct sources that reported it.
        public var reporters: Int
        public var firstSeen: Int
        public var lastSeen: Int
        /// The newest evidence a reporter gave (pasted headers, a message reference).
        public var evidence: String?
        public var reason: String?
    }

    /// Pending keys, the most reported first (at most `limit`), and how many there are in all.
    public func pendingKeys(limit: Int = 200) throws -> (keys: [PendingKey], total: Int) {
        try pool.read { db in
            let total = try Int.fetchOne(db, sql: "SELECT count(DISTINCT key) FROM listing WHERE state = 'pending'") ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT l.key, group_concat(l.category, ' ') AS categories, min(l.firstSeen) AS firstSeen,
                      max(l.lastSeen) AS lastSeen, max(l.reason) AS reason,
                      (SELECT count(DISTINCT r.sourceId) FROM report r WHERE r.key = l.key) AS reporters,
                      (SELECT r.evidence FROM report r WHERE r.key = l.key AND r.evidence IS NOT NULL
                       ORDER BY r.receivedAt DESC LIMIT 1) AS evidence
                    FROM listing l WHERE l.state = 'pending' GROUP BY l.key
                    ORDER BY reporters DESC, lastSeen DESC, l.key LIMIT ?
                    """, arguments: [limit])
            let keys = rows.map { r in
                PendingKey(
                    key: r["key"], categories: (r["categories"] as String).split(separator: " ").map(String.init), reporters: r["reporters"],
                    firstSeen: r["firstSeen"], lastSeen: r["lastSeen"], evidence: r["evidence"], reason: r["reason"])
            }
            return (keys, total)
        }
    }

    /// The console's source for an operator account: reports an operator makes come from it.
    public static func operatorSource(_ account: String) -> String { "op-" + account }

    /// Lists `key` by hand in `category` as the operator `account` (a report from their source:
    /// published at once, for `ttl` seconds or until delisted when nil).
    @discardableResult
    public func listManually(
        _ key: KeySpec, category: Category, reason: String, ttl: Int?, now: Int, account: String
    ) throws -> IngestCounts {
        guard !key.excluded else { throw StoreError("an exclusion cannot be listed by hand: add the key to the allowlist instead") }
        let report = ReportInput(key: key, category: category, reason: reason, ttl: ttl, seen: now)
        return try operatorReports([report], now: now, account: account, action: "list", subject: key.description, detail: "\(category.rawValue): \(reason)")
    }

    /// Publishes a pending key's reports as the operator `account` (every pending category).
    @discardableResult
    public func confirm(_ key: KeySpec, note: String?, now: Int, account: String) throws -> IngestCounts {
        let pending = try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT category, reason FROM listing WHERE key = ? AND state = 'pending' ORDER BY category", arguments: [key.description])
        }
        guard !pending.isEmpty else { throw StoreError("\(key) has no pending report to confirm") }
        let reports = try pending.map { r -> ReportInput in
            guard let category = Category(rawValue: r["category"]) else { throw StoreError("\(key): unknown category '\(r["category"] as String)'") }
            return ReportInput(key: key, category: category, reason: note ?? r["reason"], ttl: nil, seen: now)
        }
        return try operatorReports(
            reports, now: now, account: account, action: "confirm", subject: key.description,
            detail: reports.map(\.category.rawValue).joined(separator: " ") + (note.map { ": \($0)" } ?? ""))
    }

    /// Dismisses a pending key: it leaves the queue as a delisting does, and untrusted sources
    /// cannot bring it back for `grace`; a trusted source's report still publishes it.
    public func dismiss(_ key: KeySpec, reason: String, grace: Int, now: Int, account: String) throws {
        try pool.write { db in
            let states = try String.fetchAll(db, sql: "SELECT state FROM listing WHERE key = ?", arguments: [key.description])
            guard states.contains("pending") else { throw StoreError("\(key) has no pending report to dismiss") }
            guard !states.contains("published") else { throw StoreError("\(key) is published: delist it instead") }
            try Self.delist(db, key, reason: reason, grace: grace, now: now, actor: "operator:\(account)", action: "dismiss")
        }
    }

    /// Reports from the operator's source, merged as one feed (all or nothing), with the
    /// operator's action in the audit log in the same transaction.
    func operatorReports(
        _ reports: [ReportInput], now: Int, account: String, action: String, subject: String, detail: String
    ) throws -> IngestCounts {
        let source = Self.operatorSource(account)
        guard Self.validSourceName(source) else { throw StoreError("the account name '\(account)' is too long to report under") }
        return try ingest(
            source: source, ttlOverride: nil, now: now, policy: Policy(),
            first: { db in
                try db.executeCached(
                    "INSERT INTO source (name, kind, createdAt) VALUES (?, 'operator', ?) ON CONFLICT (name) DO NOTHING", [source, now])
                if db.changesCount == 1 {
                    try Self.audit(db, at: now, actor: "operator:\(account)", action: "source.add", subject: source, detail: "kind=operator, the console")
                }
                guard try String.fetchOne(db, sql: "SELECT kind FROM source WHERE name = ? AND removedAt IS NULL", arguments: [source]) == "operator" else {
                    throw StoreError("the source '\(source)' is not this operator's (removed, or of another kind): restore or rename it")
                }
                try Self.audit(db, at: now, actor: "operator:\(account)", action: action, subject: subject, detail: detail)
            },
            feed: { writer in
                for r in reports { try writer.add(r) }
                // Nothing of it would be published: say why, and write nothing (the audit row
                // above goes with the rest of the transaction).
                if writer.counts.allowlisted > 0 { throw StoreError("\(subject) is on the allowlist: take it off the allowlist first") }
                if writer.counts.stale > 0 { throw StoreError("the time given for \(subject) has run out already: give a longer one") }
            })
    }

    /// Listings whose key is `text` or starts with it (every state), at most `limit` rows, in
    /// key order, with the names of the sources that reported each.
    public func searchListings(_ text: String, limit: Int = 100) throws -> [ListingRow] {
        try pool.read { db in
            // A range on the primary key: the index answers a prefix without reading the table.
            try Row.fetchAll(
                db,
                sql: """
                    SELECT l.*, (SELECT group_concat(s.name, ' ') FROM report r JOIN source s ON s.id = r.sourceId
                                 WHERE r.key = l.key AND r.category = l.category) AS sources
                    FROM listing l WHERE l.key >= ? AND l.key < ? ORDER BY l.key, l.category LIMIT ?
                    """, arguments: [text, text + "\u{10FFFF}", limit]
            ).map(Self.listingRow)
        }
    }
}
