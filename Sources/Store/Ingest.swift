import GRDB
import GRDBSQLite
import ListingKeys

extension ListingStore {
    /// Applies one feed in one transaction: all of it or, if anything fails (or `feed` throws),
    /// none of it. `feed` hands its reports to the writer as it reads them; they are staged in a
    /// temporary table and merged with a handful of set statements (reports, then the policy
    /// decision per key, then listings), not one round of SQL per line. Several lines for one
    /// key and category in a feed count as one report. A feed with rejected lines and not one
    /// usable line is refused whole.
    ///
    /// `newPublicReporter`: the source is a public reporter's (an API client's, a citizen's
    /// address), made with the feed if it is new, in its transaction: a refused report leaves
    /// no source behind. The text says who it is, for the audit log.
    public func ingest(
        source name: String, ttlOverride: Int?, now: Int, policy: Policy = Policy(), newPublicReporter: String? = nil,
        feed: (FeedWriter) throws -> Void
    ) throws -> IngestCounts {
        try ingest(
            source: name, ttlOverride: ttlOverride, now: now, policy: policy,
            first: newPublicReporter.map { who in { db in try Self.addPublicSource(db, name: name, now: now, actor: "api", who: who) } },
            feed: feed)
    }

    /// A public reporter's source, made on its first report (nothing when it exists).
    static func addPublicSource(_ db: Database, name: String, now: Int, actor: String, who: String) throws {
        guard validSourceName(name) else { throw StoreError("not a source name: '\(name)'") }
        try db.executeCached("INSERT INTO source (name, kind, createdAt) VALUES (?, 'public', ?) ON CONFLICT (name) DO NOTHING", [name, now])
        if db.changesCount == 1 {
            try audit(db, at: now, actor: actor, action: "source.add", subject: name, detail: "kind=public, \(who)")
        }
    }

    /// The same, with `first` run at the start of the transaction (what must be applied with
    /// the feed or not at all: a reporter's new source, a stored message). Runs of 65,536
    /// lines: shorter runs keep the staging thread busy sooner and leave less to write at the end.
    func ingest(
        source name: String, ttlOverride: Int?, now: Int, policy: Policy, first: ((Database) throws -> Void)?,
        runLength: Int = 1 << 16, feed: (FeedWriter) throws -> Void
    ) throws -> IngestCounts {
        try pool.write { db in
            try first?(db)
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM source WHERE name = ? AND removedAt IS NULL"), arguments: [name])
            else { throw StoreError("no source named '\(name)'") }
            let source = Self.source(row)
            let allowlist = KeyCover(try String.fetchAll(db.cachedStatement(sql: "SELECT key FROM allowlist")).compactMap { try? KeySpec(parsing: $0).key })

            try Self.prepareStaging(db)
            guard let connection = db.sqliteConnection else { throw StoreError("the store is closed") }
            var statement: OpaquePointer? = nil
            let sql = """
                INSERT INTO feed (key, excluded, category, reason, evidence, seenAt, ttl, expiresAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (key, category) DO UPDATE SET
                  seenAt = max(seenAt, excluded.seenAt), ttl = excluded.ttl,
                  expiresAt = CASE WHEN feed.expiresAt IS NULL OR excluded.expiresAt IS NULL THEN NULL
                                   ELSE max(feed.expiresAt, excluded.expiresAt) END,
                  reason = coalesce(excluded.reason, reason), evidence = coalesce(excluded.evidence, evidence)
                """
            guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                throw StoreError("cannot prepare the feed: \(String(cString: sqlite3_errmsg(connection)))")
            }
            defer { sqlite3_finalize(statement) }
            let writer = FeedWriter(
                connection: connection, statement: statement, allowlist: allowlist,
                defaultTTL: ttlOverride ?? source.effectiveTTL, now: now, runLength: runLength)
            // Nothing may roll the transaction back while a run is being written.
            defer { try? writer.settle() }
            try feed(writer)
            try writer.flush()
            var counts = writer.counts
            if writer.accepted == 0 && counts.allowlisted == 0 && counts.stale == 0 {
                // An empty feed is almost always a failed fetch upstream: say so rather than
                // record that the source reported nothing.
                throw StoreError(
                    counts.rejected > 0 ? "no usable line in the feed (\(counts.rejected) rejected)" : "the feed holds no entries")
            }

            try Self.journal(db, now: now, keysFrom: "SELECT DISTINCT key FROM feed", count: writer.accepted)
            if source.kind.isTrusted {
                // Listings first: the merge tells a new report from a refreshed one by the
                // report table as it was before this feed.
                try Self.mergeTrusted(db, sourceId: source.id, now: now, into: &counts)
                try Self.insertReports(db, sourceId: source.id, now: now)
            } else {
                // A listing's report count grows by the reports this source had not made yet,
                // so the merge never recounts a key's reports (a spam campaign's domain collects
                // thousands of public reports, and each forwarded message names it again).
                try db.executeCached(
                    """
                        UPDATE feed SET fresh = 0 WHERE EXISTS (
                          SELECT 1 FROM report r WHERE r.sourceId = ? AND r.key = feed.key AND r.category = feed.category)
                        """, [source.id])
                // The policy counts this feed's reports among the key's reporters.
                try Self.insertReports(db, sourceId: source.id, now: now)
                try Self.mergeUntrusted(db, policy: policy, now: now, into: &counts)
            }
            try db.executeCached("DELETE FROM feed")
            try Self.audit(db, at: now, actor: "source:\(name)", action: "ingest", subject: nil, detail: counts.description)
            return counts
        }
    }

    /// A trusted source's report publishes by itself (SPEC §2), whatever the key's history (a
    /// delisting's grace holds back untrusted sources only): existing listings are refreshed,
    /// new ones inserted, with no per-key decision to make. A new listing has exactly this
    /// feed's report: every report comes with a listing row, and they are pruned together.
    static func mergeTrusted(_ db: Database, sourceId: Int64, now: Int, into counts: inout IngestCounts) throws {
        // The unary `+` on the feed's columns keeps SQLite from driving these joins from the
        // listing table: the feed is read in order and each key looked up, so a one-key feed
        // reads one listing, not all of them.
        // A pending or delisted key this feed publishes is a listing added to the zone.
        let published = try Int.fetchOne(
            db.cachedStatement(
                sql: """
                SELECT count(*) FROM feed f JOIN listing l ON l.key = +f.key AND l.category = +f.category WHERE l.state != 'published'
                """)) ?? 0
        try db.executeCached(
            """
                UPDATE listing SET
                  state = 'published', lastSeen = max(listing.lastSeen, f.seenAt),
                  -- A listing never expires earlier because of a shorter report; NULL means never.
                  expiresAt = CASE WHEN listing.expiresAt IS NULL OR f.expiresAt IS NULL THEN NULL
                                   ELSE max(listing.expiresAt, f.expiresAt) END,
                  -- One more report when this source had not reported the key yet.
                  reportCount = listing.reportCount + NOT EXISTS (
                    SELECT 1 FROM report r WHERE r.key = f.key AND r.category = f.category AND r.sourceId = ?),
                  reason = coalesce(f.reason, listing.reason)
                FROM feed f WHERE listing.key = +f.key AND listing.category = +f.category
                """, [sourceId])
        let updated = db.changesCount
        counts.refreshed = updated - published
        // A refresh of known keys only (a daily feed, mostly) has nothing to insert.
        guard updated < (try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM feed")) ?? 0) else {
            counts.added = published
            return
        }
        // The keys just updated conflict; the rest are new.
        try db.executeCached(
            """
                INSERT INTO listing (key, category, state, firstSeen, lastSeen, expiresAt, reportCount, reason)
                SELECT key, category, 'published', seenAt, seenAt, expiresAt, 1, reason
                FROM feed WHERE true ON CONFLICT (key, category) DO NOTHING
                """)
        counts.added = db.changesCount + published
    }

    /// This feed's reports, one per key and category: a new one, or the source's earlier one
    /// refreshed.
    static func insertReports(_ db: Database, sourceId: Int64, now: Int) throws {
        try db.executeCached(
            """
                INSERT INTO report (sourceId, key, excluded, category, reason, evidence, seenAt, ttl, receivedAt)
                SELECT ?, key, excluded, category, reason, evidence, seenAt, ttl, ? FROM feed WHERE true
                ON CONFLICT (key, category, sourceId) DO UPDATE SET
                  seenAt = max(seenAt, excluded.seenAt), ttl = excluded.ttl,
                  reason = coalesce(excluded.reason, reason), evidence = coalesce(excluded.evidence, evidence),
                  receivedAt = excluded.receivedAt
                """, [sourceId, now])
    }

    /// Public reports: per key, published when a trusted source reported it too, or enough
    /// distinct public reporters lately; held back while a delisting's grace runs.
    static func mergeUntrusted(_ db: Database, policy: Policy, now: Int, into counts: inout IngestCounts) throws {
        try db.executeCached(
            """
                INSERT INTO decision
                SELECT f.key, f.category, f.seenAt, f.expiresAt, f.reason,
                  l.key IS NOT NULL AS existed, l.state AS oldState,
                  coalesce(l.reportCount, 0) + f.fresh AS reportCount,
                  coalesce((SELECT graceUntil FROM delisting d WHERE d.key = f.key), 0) > ? AS inGrace,
                  -- Cheapest test first, and no more rows read than the answer needs: a published
                  -- listing stays published whatever this says, and a source reports a key once,
                  -- so the first `publicReporters` recent public reports are that many reporters.
                  CASE WHEN l.state = 'published' THEN 1
                       WHEN coalesce((SELECT graceUntil FROM delisting d WHERE d.key = f.key), 0) > ? THEN 0
                       WHEN (SELECT count(*) FROM (
                               SELECT 1 FROM report r JOIN source s ON s.id = r.sourceId
                               WHERE r.key = f.key AND r.category = f.category AND s.kind = 'public' AND r.seenAt >= ?
                               LIMIT ?)) >= ? THEN 1
                       WHEN EXISTS (SELECT 1 FROM report r JOIN source s ON s.id = r.sourceId
                               WHERE r.key = f.key AND r.category = f.category AND s.kind != 'public') THEN 1
                       ELSE 0 END AS publish
                FROM feed f LEFT JOIN listing l ON l.key = f.key AND l.category = f.category;
                """, [now, now, now - policy.publicWindow, policy.publicReporters, policy.publicReporters])
        let tally = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                SELECT
                  -- The report that publishes a pending key (its third reporter) adds a listing
                  -- to the zone, as a new key does; only a listing already served is refreshed.
                  sum(publish AND coalesce(oldState, '') != 'published') AS added,
                  sum(coalesce(oldState, '') = 'published') AS refreshed,
                  sum(NOT publish) AS pending
                FROM decision
                """))
        counts.added = tally?["added"] ?? 0
        counts.refreshed = tally?["refreshed"] ?? 0
        counts.pending = tally?["pending"] ?? 0
        try db.executeCached(
            """
                INSERT INTO listing (key, category, state, firstSeen, lastSeen, expiresAt, reportCount, reason)
                SELECT key, category, CASE WHEN publish THEN 'published' ELSE 'pending' END, seenAt, seenAt,
                  expiresAt, reportCount, reason
                FROM decision WHERE NOT existed
                """)
        try db.executeCached(
            """
                UPDATE listing SET
                  -- A delisting's grace holds the listing back: it stays delisted, not pending.
                  state = CASE WHEN d.oldState = 'published' OR d.publish THEN 'published'
                               WHEN d.oldState = 'delisted' AND d.inGrace THEN 'delisted' ELSE 'pending' END,
                  lastSeen = max(listing.lastSeen, d.seenAt),
                  -- A listing never expires earlier because of a shorter report; NULL means never.
                  expiresAt = CASE WHEN listing.expiresAt IS NULL OR d.expiresAt IS NULL THEN NULL
                                   ELSE max(listing.expiresAt, d.expiresAt) END,
                  reportCount = d.reportCount, reason = coalesce(d.reason, listing.reason)
                FROM decision d WHERE d.existed AND listing.key = d.key AND listing.category = d.category
                """)
        try db.executeCached("DELETE FROM decision")
    }

    /// The connection's staging tables, made once: the feed as read, and the merge's per-key
    /// decisions. They stay (emptied) so the statements that use them stay prepared.
    static func prepareStaging(_ db: Database) throws {
        // Made only when missing: GRDB forgets every prepared statement after one that may
        // change the schema, `CREATE ... IF NOT EXISTS` included.
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT count(*) < 2 FROM temp.sqlite_master WHERE name IN ('feed', 'decision')")) ?? true
        else {
            try db.executeCached("DELETE FROM feed")
            try db.executeCached("DELETE FROM decision")
            return
        }
        // A big feed's staging and merge stay in memory up to this much, then spill to disk:
        // memory stays bounded whatever the feed's length.
        try db.execute(sql: "PRAGMA cache_size = -131072")
        try db.execute(sql: "PRAGMA temp.cache_size = -262144")
        try db.execute(
            sql: """
            CREATE TEMP TABLE IF NOT EXISTS feed (
              key TEXT NOT NULL, excluded INTEGER NOT NULL, category TEXT NOT NULL, reason TEXT,
              evidence TEXT, seenAt INTEGER NOT NULL, ttl INTEGER, expiresAt INTEGER,
              -- 1 while this source has no report of the key and category yet (set for
              -- untrusted feeds; the trusted merge reads the reports itself).
              fresh INTEGER NOT NULL DEFAULT 1,
              PRIMARY KEY (key, category)) WITHOUT ROWID
            """)
        try db.execute(
            sql: """
            CREATE TEMP TABLE IF NOT EXISTS decision (
              key TEXT NOT NULL, category TEXT NOT NULL, seenAt INTEGER NOT NULL, expiresAt INTEGER, reason TEXT,
              existed INTEGER NOT NULL, oldState TEXT, reportCount INTEGER NOT NULL, inGrace INTEGER NOT NULL,
              publish INTEGER NOT NULL)
            """)
    }

    /// Applies a list of reports as one feed (the API's single reports, tests).
    public func ingest(
        _ reports: [ReportInput], source name: String, ttlOverride: Int?, now: Int, rejected: Int = 0,
        policy: Policy = Policy()
    ) throws -> IngestCounts {
        try ingest(source: name, ttlOverride: ttlOverride, now: now, policy: policy) { writer in
            writer.reject(rejected)
            for r in reports { try writer.add(r) }
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
        /// Names of the sources that reported the key, where the query asked for them.
        public var sources: [String] = []
    }

    static func listingRow(_ row: Row) -> ListingRow {
        ListingRow(
            key: row["key"], category: row["category"], state: row["state"], firstSeen: row["firstSeen"],
            lastSeen: row["lastSeen"], expiresAt: row["expiresAt"], reportCount: row["reportCount"], reason: row["reason"],
            sources: (row["sources"] as String?).map { $0.split(separator: " ").map(String.init) } ?? [])
    }

    /// Every listing row of a key (all categories and states), for `lookup`.
    public func listings(key: String) throws -> [ListingRow] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM listing WHERE key = ? ORDER BY category", arguments: [key])
                .map(Self.listingRow)
        }
    }

    /// Sources that reported a key, with when they last saw it.
    public func reporters(key: String) throws -> [(source: String, kind: String, seen: Int, evidence: String?)] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT source.name, source.kind, max(report.seenAt) AS seen,
                      (SELECT r.evidence FROM report r WHERE r.key = report.key AND r.sourceId = source.id AND r.evidence IS NOT NULL
                       ORDER BY r.seenAt DESC LIMIT 1) AS evidence
                    FROM report JOIN source ON source.id = report.sourceId WHERE report.key = ? GROUP BY source.id ORDER BY source.name
                    """, arguments: [key]
            ).map { ($0["name"], $0["kind"], $0["seen"], $0["evidence"]) }
        }
    }
}

extension Database {
    /// Runs one statement, prepared once per connection: ingests run the same few statements
    /// for every message of a mailbox, and preparing them again costs more than running them.
    func executeCached(_ sql: String, _ arguments: StatementArguments = []) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
