import GRDB
import ListingKeys

/// The figures of `thurac report` for a period (SPEC §5; directive items 4e, 4h).
public struct Statistics: Sendable, Equatable {
    public struct SourceFigures: Sendable, Equatable {
        public var source: String
        public var kind: String
        public var category: String
        /// Distinct keys this source reported in the period.
        public var reports: Int
    }

    public struct FamilyFigures: Sendable, Equatable {
        public var family: ListingKey.Family
        public var category: String
        public var added: Int
        public var expired: Int
        public var delisted: Int
        /// Published now.
        public var current: Int
    }

    /// What the server answered for a zone in the period (recorded every minute).
    public struct ZoneFigures: Sendable, Equatable {
        public var zone: String
        public var queries: Int
        /// Answered with a listing (hits).
        public var listed: Int
        public var nxdomain: Int
    }

    public var since: Int
    public var until: Int
    public var reports: [SourceFigures]
    public var listings: [FamilyFigures]
    public var queries: [ZoneFigures]
}

extension ListingStore {
    public func statistics(since: Int, now: Int) throws -> Statistics {
        try pool.read { db in
            let reports = try Row.fetchAll(
                db,
                sql: """
                    SELECT source.name, source.kind, report.category, count(*) AS n FROM report
                    JOIN source ON source.id = report.sourceId
                    WHERE report.receivedAt >= ? AND report.receivedAt <= ?
                    GROUP BY source.id, report.category ORDER BY source.name, report.category
                    """, arguments: [since, now]
            ).map { Statistics.SourceFigures(source: $0["name"], kind: $0["kind"], category: $0["category"], reports: $0["n"]) }

            var figures: [String: Statistics.FamilyFigures] = [:]
            func bump(_ key: String, _ category: String, _ update: (inout Statistics.FamilyFigures) -> Void) {
                guard let spec = try? KeySpec(parsing: key) else { return }
                let id = "\(spec.key.family.rawValue)/\(category)"
                var f = figures[id] ?? Statistics.FamilyFigures(
                    family: spec.key.family, category: category, added: 0, expired: 0, delisted: 0, current: 0)
                update(&f)
                figures[id] = f
            }
            let rows = try Row.fetchAll(db, sql: "SELECT key, category, state, firstSeen, expiresAt FROM listing")
            let delisted = Set(
                try String.fetchAll(
                    db, sql: "SELECT key FROM delisting WHERE delistedAt >= ? AND delistedAt <= ?", arguments: [since, now]))
            for r in rows {
                let key: String = r["key"]
                let category: String = r["category"]
                let state: String = r["state"]
                let firstSeen: Int = r["firstSeen"]
                let expiresAt: Int? = r["expiresAt"]
                bump(key, category) { f in
                    if firstSeen >= since && firstSeen <= now && state != "pending" { f.added += 1 }
                    if let e = expiresAt, e >= since, e <= now, state == "published" || state == "expired" { f.expired += 1 }
                    if state == "delisted" && delisted.contains(key) { f.delisted += 1 }
                    if state == "published" && (expiresAt.map { $0 > now } ?? true) { f.current += 1 }
                }
            }
            let listings = figures.values.sorted { ($0.family.rawValue, $0.category) < ($1.family.rawValue, $1.category) }
            let queries = try Row.fetchAll(
                db,
                sql: """
                    SELECT zone, sum(queries) AS q, sum(listed) AS p, sum(nxdomain) AS n FROM queryStats
                    WHERE at >= ? AND at <= ? GROUP BY zone ORDER BY zone
                    """, arguments: [since, now]
            ).map { Statistics.ZoneFigures(zone: $0["zone"], queries: $0["q"], listed: $0["p"], nxdomain: $0["n"]) }
            return Statistics(since: since, until: now, reports: reports, listings: listings, queries: queries)
        }
    }
}

extension ListingStore {
    /// Adds the counts a server answered since its last record (one row per zone).
    public func recordQueries(at: Int, _ rows: [(zone: String, queries: Int, listed: Int, nxdomain: Int)]) throws {
        try pool.write { db in
            for r in rows where r.queries > 0 {
                try db.execute(
                    sql: "INSERT INTO queryStats (at, zone, queries, listed, nxdomain) VALUES (?, ?, ?, ?, ?)",
                    arguments: [at, r.zone, r.queries, r.listed, r.nxdomain])
            }
        }
    }
}
