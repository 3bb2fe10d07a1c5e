import GRDB

/// The figures of the portal's statistics page over time (directive item 4h): reports received
/// per week by source kind, listings published per day by category, and how delisting requests
/// were answered.
public struct StatisticsSeries: Sendable, Equatable {
    /// One period (a week or a day) from `start`, with a count per part (a kind, a category).
    public struct Period: Sendable, Equatable {
        public var start: Int
        public var counts: [String: Int]
        public var total: Int { counts.values.reduce(0, +) }
    }

    public var reportsPerWeek: [Period]
    /// Listings published at the end of each day (a listing counts from its first report to its
    /// expiry or delisting).
    public var listingsPerDay: [Period]
    public var delistingRequests: Int
    public var delistingAnswered: Int
    /// The median time from a request to its answer, in seconds (nil: none answered).
    public var delistingMedianAnswer: Int?
}

extension ListingStore {
    public func series(now: Int, weeks: Int = 12, days: Int = 30) throws -> StatisticsSeries {
        let day = 86400
        let today = now - now % day
        return try pool.read { db in
            // Weeks end today: the last one is the seven days up to tomorrow's midnight.
            let firstWeek = today + day - weeks * 7 * day
            var perWeek = (0..<weeks).map { StatisticsSeries.Period(start: firstWeek + $0 * 7 * day, counts: [:]) }
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT (report.receivedAt - ?1) / ?2 AS week, source.kind AS kind, count(*) AS n FROM report
                    JOIN source ON source.id = report.sourceId
                    WHERE report.receivedAt >= ?1 AND report.receivedAt < ?3 GROUP BY week, kind
                    """, arguments: [firstWeek, 7 * day, today + day])
            {
                let w: Int = r["week"]
                guard w >= 0 && w < weeks else { continue }
                perWeek[w].counts[r["kind"], default: 0] += r["n"]
            }

            let firstDay = today - (days - 1) * day
            var perDay = (0..<days).map { StatisticsSeries.Period(start: firstDay + $0 * day, counts: [:]) }
            // A listing counts at the end of day i (i from 0) while it started before that end
            // and had not ended by it: from day s = (start - firstDay) / day, clamped to 0, to
            // day e = (end - firstDay) / day - 1 (the last one when it has not ended). SQLite
            // groups the listings by (category, s, e); each group is added to its days here.
            // (It used to be a loop over every listing and day: 48 M steps for 1.6 M listings.)
            for r in try Row.fetchAll(
                db,
                sql: """
                    SELECT category, max(0, (firstSeen - ?1) / ?2) AS s,
                      CASE WHEN e IS NULL THEN ?3 - 1 ELSE (e - ?1) / ?2 - 1 END AS n, count(*) AS c
                    FROM (
                      -- A delisted listing ended when it was delisted (or expired before); the
                      -- delisting is looked up for those rows only.
                      SELECT category, firstSeen, CASE WHEN state = 'delisted' THEN coalesce(
                          min(coalesce(expiresAt, (SELECT delistedAt FROM delisting d WHERE d.key = listing.key)),
                              (SELECT delistedAt FROM delisting d WHERE d.key = listing.key)), expiresAt)
                        ELSE expiresAt END AS e
                      FROM listing WHERE state != 'pending' AND firstSeen < ?1 + ?3 * ?2)
                    WHERE n >= 0 GROUP BY category, s, n
                    """, arguments: [firstDay, day, days])
            {
                let (category, first, last, count): (String, Int, Int, Int) = (r["category"], r["s"], r["n"], r["c"])
                let upper = min(last, days - 1)
                guard first <= upper else { continue }
                for i in first...upper { perDay[i].counts[category, default: 0] += count }
            }

            let requests = try Row.fetchAll(db, sql: "SELECT createdAt, decidedAt FROM delistingRequest")
            let waits = requests.compactMap { r -> Int? in (r["decidedAt"] as Int?).map { $0 - (r["createdAt"] as Int) } }.sorted()
            return StatisticsSeries(
                reportsPerWeek: perWeek, listingsPerDay: perDay, delistingRequests: requests.count, delistingAnswered: waits.count,
                delistingMedianAnswer: waits.isEmpty ? nil : waits[waits.count / 2])
        }
    }
}
