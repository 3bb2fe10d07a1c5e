import GRDB
import GRDBSQLite
import ListingKeys

/// Allowlist, delisting, restore and expiry (SPEC §2). Nothing is deleted: a listing changes
/// state and every change goes to the audit log with who and why.
extension ListingStore {
    /// Retention of expired and delisted records, and its floor (the directive's 7 days).
    public static let minimumRetention = 7 * 86400

    public func allow(_ key: KeySpec, reason: String?, now: Int, actor: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO allowlist (key, reason, addedBy, addedAt) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET reason = excluded.reason",
                arguments: [key.key.description, reason, actor, now])
            // Listings stay as they are: the allowlist is applied when zones are built, so what
            // it covers (the key, or everything inside a range or below a subtree) leaves DNS at
            // the next snapshot and comes back if the entry is removed.
            try Self.journalEverything(db, now: now)
            try Self.audit(db, at: now, actor: actor, action: "allow.add", subject: key.key.description, detail: reason)
        }
    }

    public func disallow(_ key: KeySpec, now: Int, actor: String) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM allowlist WHERE key = ?", arguments: [key.key.description])
            guard db.changesCount == 1 else { throw StoreError("\(key.key) is not on the allowlist") }
            try Self.journalEverything(db, now: now)
            try Self.audit(db, at: now, actor: actor, action: "allow.remove", subject: key.key.description, detail: nil)
        }
    }

    public func allowlist() throws -> [(key: String, reason: String?, addedBy: String, addedAt: Int)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM allowlist ORDER BY key").map {
                ($0["key"], $0["reason"], $0["addedBy"], $0["addedAt"])
            }
        }
    }

    /// Removes a listing from DNS with a reason; untrusted sources cannot re-list it for `grace`.
    public func delist(_ key: KeySpec, reason: String, grace: Int, now: Int, actor: String) throws {
        try pool.write { db in try Self.delist(db, key, reason: reason, grace: grace, now: now, actor: actor) }
    }

    /// The delisting inside a transaction of the caller's (a delisting request accepted).
    static func delist(_ db: Database, _ key: KeySpec, reason: String, grace: Int, now: Int, actor: String, action: String = "delist") throws {
        try db.execute(
            sql: "UPDATE listing SET state = 'delisted' WHERE key = ? AND state IN ('published', 'pending')",
            arguments: [key.description])
        guard db.changesCount > 0 else { throw StoreError("\(key) is not listed") }
        try db.execute(
            sql: """
                INSERT INTO delisting (key, reason, delistedBy, delistedAt, graceUntil) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET reason = excluded.reason, delistedBy = excluded.delistedBy,
                  delistedAt = excluded.delistedAt, graceUntil = excluded.graceUntil
                """, arguments: [key.description, reason, actor, now, now + grace])
        try journal(db, now: now, key: key.description)
        try audit(db, at: now, actor: actor, action: action, subject: key.description, detail: reason)
    }

    /// Brings back a delisted or expired listing kept in history (within the retention period).
    public func restore(_ key: KeySpec, retention: Int, now: Int, actor: String) throws {
        try pool.write { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT category, state, lastSeen, expiresAt FROM listing WHERE key = ? AND state IN ('delisted', 'expired')",
                arguments: [key.description])
            guard !rows.isEmpty else { throw StoreError("\(key) has nothing to restore") }
            let keep = max(retention, Self.minimumRetention)
            for r in rows {
                let endedAt: Int = (r["expiresAt"] as Int?) ?? (r["lastSeen"] as Int)
                guard now - endedAt <= keep || (r["state"] as String) == "delisted" else { continue }
                // A restored listing runs again for the time it had (or until delisted).
                let expires: Int? = (r["expiresAt"] as Int?).map { now + max(0, $0 - (r["lastSeen"] as Int)) }
                try db.execute(
                    sql: "UPDATE listing SET state = 'published', expiresAt = ? WHERE key = ? AND category = ?",
                    arguments: [expires, key.description, r["category"] as String])
            }
            try db.execute(sql: "DELETE FROM delisting WHERE key = ?", arguments: [key.description])
            try Self.journal(db, now: now, key: key.description)
            try Self.audit(db, at: now, actor: actor, action: "restore", subject: key.description, detail: nil)
        }
    }

    /// Marks every published listing whose time is up as expired (pending ones were never in DNS
    /// and stay pending until corroborated). Returns how many.
    @discardableResult
    public func expire(now: Int, actor: String) throws -> Int {
        try pool.write { db in
            let expiring = "SELECT key FROM listing WHERE state = 'published' AND expiresAt IS NOT NULL AND expiresAt <= ?"
            let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(expiring))", arguments: [now]) ?? 0
            try Self.journal(db, now: now, keysFrom: expiring, arguments: [now], count: n)
            try db.execute(
                sql: "UPDATE listing SET state = 'expired' WHERE state = 'published' AND expiresAt IS NOT NULL AND expiresAt <= ?",
                arguments: [now])
            if n > 0 { try Self.audit(db, at: now, actor: actor, action: "expire", subject: nil, detail: "\(n) listing(s)") }
            return n
        }
    }

    /// Deletes history older than the retention period: expired listings whose time ran out
    /// before it, delisted ones delisted before it, and their reports. Until then they stay
    /// restorable. The audit log keeps everything. Returns how many listings went.
    @discardableResult
    public func prune(retention: Int, now: Int, actor: String) throws -> Int {
        let cut = now - max(retention, Self.minimumRetention)
        return try pool.write { db in
            try db.execute(
                sql: """
                    DROP TABLE IF EXISTS pruned;
                    CREATE TEMP TABLE pruned AS SELECT key, category FROM listing
                    WHERE (state = 'expired' AND expiresAt IS NOT NULL AND expiresAt < ?)
                       OR (state = 'delisted' AND key IN (SELECT key FROM delisting WHERE delistedAt < ?));
                    DELETE FROM report WHERE (key, category) IN (SELECT key, category FROM pruned);
                    DELETE FROM listing WHERE (key, category) IN (SELECT key, category FROM pruned);
                    DELETE FROM delisting WHERE delistedAt < ? AND graceUntil < ? AND key NOT IN (SELECT key FROM listing);
                    DELETE FROM journal WHERE at < ?;
                    DELETE FROM serialHistory WHERE at < ?;
                    DELETE FROM intakeMessage WHERE receivedAt < ?;
                    """, arguments: [cut, cut, cut, now, cut, cut, cut])
            let n = try Int.fetchOne(db, sql: "SELECT count(*) FROM pruned") ?? 0
            try db.execute(sql: "DROP TABLE pruned")
            if n > 0 {
                try Self.audit(db, at: now, actor: actor, action: "prune", subject: nil, detail: "\(n) listing(s) older than the retention period")
            }
            return n
        }
    }

    /// Published listings at `now` (expired ones excluded even before `expire` ran), with the
    /// sources that reported each, for dumps; `family` narrows the scan to one zone family.
    public func published(now: Int, family: ListingKey.Family? = nil) throws -> [ListingRow] {
        var rows: [ListingRow] = []
        try forEachPublishedRow(now: now, family: family) { rows.append($0) }
        return rows
    }

    /// `published`, one row at a time (a zone of a million listings is never one array).
    public func forEachPublishedRow(now: Int, family: ListingKey.Family?, _ body: (ListingRow) throws -> Void) throws {
        // A cheap superset of the family's keys by their text (exact checks are the caller's):
        // addresses have no letters or a colon, domains have letters, e-mail addresses an @.
        let narrowing: String
        switch family {
        case .address?: narrowing = "AND l.key NOT LIKE '%@%' AND (l.key LIKE '%:%' OR l.key NOT GLOB '*[a-z]*')"
        case .domain?: narrowing = "AND l.key NOT LIKE '%@%' AND l.key NOT LIKE '%:%' AND l.key GLOB '*[a-z]*'"
        case .hashedAddress?: narrowing = "AND l.key LIKE '%@%'"
        case nil: narrowing = ""
        }
        try pool.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT l.*, (SELECT group_concat(name, ' ') FROM (
                        SELECT DISTINCT s.name FROM report r JOIN source s ON s.id = r.sourceId
                        WHERE r.key = l.key ORDER BY s.name)) AS sources
                    FROM listing l WHERE l.state = 'published' AND (l.expiresAt IS NULL OR l.expiresAt > ?)
                    AND l.key NOT IN (SELECT key FROM allowlist) \(narrowing) ORDER BY l.key, l.category
                    """, arguments: [now])
            while let row = try rows.next() { try body(Self.listingRow(row)) }
        }
    }
}

extension ListingStore {
    /// Grows with every committed change (the audit log's last id): cheap to poll.
    public func changeCounter() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM audit") ?? 0 }
    }

    /// The next instant after `now` at which a published listing expires.
    public func nextExpiry(after now: Int) throws -> Int? {
        try pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT min(expiresAt) FROM listing WHERE state = 'published' AND expiresAt > ?", arguments: [now])
        }
    }
}

extension ListingStore {
    /// Every published listing at `now` (the allowlist's exact keys left out), as raw text that
    /// is valid during the call: the snapshot builder reads a million rows this way without a
    /// row object or a string per column.
    public func forEachPublished(
        now: Int,
        _ body: (_ key: UnsafeBufferPointer<UInt8>, _ category: UnsafeBufferPointer<UInt8>, _ reason: UnsafeBufferPointer<UInt8>?) throws -> Void
    ) throws {
        try pool.read { db in
            guard let connection = db.sqliteConnection else { throw StoreError("the store is closed") }
            var statement: OpaquePointer? = nil
            let sql = """
                SELECT key, category, reason FROM listing WHERE state = 'published' AND (expiresAt IS NULL OR expiresAt > ?)
                AND key NOT IN (SELECT key FROM allowlist)
                """
            guard sqlite3_prepare_v2(connection, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
                throw StoreError("cannot read listings: \(String(cString: sqlite3_errmsg(connection)))")
            }
            defer { sqlite3_finalize(statement) }
            sqlite3_bind_int64(statement, 1, Int64(now))
            func column(_ i: Int32) -> UnsafeBufferPointer<UInt8>? {
                guard let p = sqlite3_column_text(statement, i) else { return nil }
                return UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(statement, i)))
            }
            while true {
                let rc = sqlite3_step(statement)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else {
                    throw StoreError("cannot read listings: \(String(cString: sqlite3_errmsg(connection)))")
                }
                guard let key = column(0), let category = column(1) else { continue }
                try body(key, category, column(2))
            }
        }
    }
}

/// The change journal (schema v3).
extension ListingStore {
    /// Past this many keys, one change is journalled as "everything": listing a million keys
    /// would cost the ingest more than the reader saves.
    public static let journalLimit = 20_000

    static func journal(_ db: Database, now: Int, key: String) throws {
        try db.executeCached("INSERT INTO journal (at, key) VALUES (?, ?)", [now, key])
    }

    static func journalEverything(_ db: Database, now: Int) throws {
        try db.executeCached("INSERT INTO journal (at, key) VALUES (?, NULL)", [now])
    }

    static func journal(_ db: Database, now: Int, keysFrom select: String, arguments: StatementArguments = [], count: Int) throws {
        if count > journalLimit { return try journalEverything(db, now: now) }
        try db.executeCached("INSERT INTO journal (at, key) SELECT ?, key FROM (\(select))", [now] + arguments)
    }

    /// What changed after journal entry `position`: the keys, or nil when everything may have
    /// (an allowlist change, a large feed), and the new position.
    public func changes(after position: Int) throws -> (keys: Set<String>?, position: Int) {
        try pool.read { db in
            var keys = Set<String>()
            var last = position
            let rows = try Row.fetchCursor(db, sql: "SELECT id, key FROM journal WHERE id > ? ORDER BY id", arguments: [position])
            while let row = try rows.next() {
                last = row["id"]
                guard let k: String = row["key"] else { return (nil, try Self.journalEnd(db)) }
                keys.insert(k)
            }
            return (keys, last)
        }
    }

    /// The journal's last entry (0 when empty).
    public func journalPosition() throws -> Int {
        try pool.read { db in try Self.journalEnd(db) }
    }

    static func journalEnd(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM journal") ?? 0
    }

    /// Keys with a published listing whose time runs out in (after, upTo].
    public func expiring(after: Int, upTo: Int) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(
                db, sql: "SELECT DISTINCT key FROM listing WHERE state = 'published' AND expiresAt > ? AND expiresAt <= ?",
                arguments: [after, upTo])
        }
    }

    /// The published listings of one key at `now` (category, reason); empty when it is not
    /// published, expired, or on the allowlist as it is.
    public func publishedRows(key: String, now: Int) throws -> [(category: String, reason: String?)] {
        try pool.read { db in
            // The unary + keeps the planner on the primary key (key, category): without table
            // statistics it would walk the expiry index over every published listing.
            try Row.fetchAll(
                db,
                sql: """
                    SELECT category, reason FROM listing WHERE key = ? AND +state = 'published'
                    AND (expiresAt IS NULL OR +expiresAt > ?) AND NOT EXISTS (SELECT 1 FROM allowlist a WHERE a.key = ?)
                    """, arguments: [key, now, key]
            ).map { ($0["category"], $0["reason"]) }
        }
    }
}

/// What `lookup` explains besides the key's own listings.
extension ListingStore {
    public struct Delisting: Sendable, Equatable {
        public var reason: String
        public var by: String
        public var at: Int
        public var graceUntil: Int
    }

    public func delisting(key: String) throws -> Delisting? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM delisting WHERE key = ?", arguments: [key]).map {
                Delisting(reason: $0["reason"], by: $0["delistedBy"], at: $0["delistedAt"], graceUntil: $0["graceUntil"])
            }
        }
    }

    /// Listing rows of wider keys that contain `key`: the prefixes around an address or range
    /// (each looked up by its text: a store's keys are canonical), the ranges around it (read
    /// through a partial index that holds only keys written as ranges), and subtrees above a
    /// domain. A 1.6 M-listing store answers in a few index reads, not a scan.
    public func covering(_ key: ListingKey) throws -> [ListingRow] {
        try pool.read { db in
            switch key {
            case .ipv4(let first, let last):
                var wider: [String] = []
                for n in 0...32 {
                    let mask: UInt32 = n == 0 ? 0 : ~0 << (32 - n)
                    let k = ListingKey.ipv4(first: first & mask, last: (first & mask) | ~mask)
                    guard (first & mask) | ~mask >= last, k != key else { continue }
                    wider.append(k.description)
                }
                var out = try Self.rows(db, keys: wider)
                // The partial index `listing_ranges` answers this (its WHERE is this WHERE).
                let ranges = try Row.fetchCursor(db, sql: "SELECT * FROM listing WHERE instr(key, '-') > 0 AND key GLOB '*[0-9]-[0-9]*'")
                while let row = try ranges.next() {
                    let text: String = row["key"]
                    guard let spec = try? KeySpec(parsing: text), spec.key != key, KeyCover([spec.key]).covers(key) else { continue }
                    out.append(Self.listingRow(row))
                }
                return out.sorted { ($0.key, $0.category) < ($1.key, $1.category) }
            case .ipv6(let address, let length):
                var wider: [String] = []
                for n in 0..<length {
                    let mask: UInt128 = n == 0 ? 0 : ~0 << (128 - n)
                    wider.append(ListingKey.ipv6(address: address & mask, prefixLength: n).description)
                }
                return try Self.rows(db, keys: wider).sorted { ($0.key, $0.category) < ($1.key, $1.category) }
            case .domain(let name, _):
                var out: [ListingRow] = []
                var rest = Substring(name)
                var first = true
                while true {
                    if !first {
                        for prefix in ["*.", "!*."] {
                            out += try Row.fetchAll(
                                db, sql: "SELECT * FROM listing WHERE key = ? ORDER BY category", arguments: [prefix + rest]
                            ).map(Self.listingRow)
                        }
                    }
                    first = false
                    guard let dot = rest.firstIndex(of: ".") else { break }
                    rest = rest[rest.index(after: dot)...]
                }
                return out
            case .email:
                return []
            }
        }
    }
}

extension ListingStore {
    /// The listing rows of these keys and of their exclusions (`!key`), by the primary key.
    static func rows(_ db: Database, keys: [String]) throws -> [ListingRow] {
        guard !keys.isEmpty else { return [] }
        let all = keys + keys.map { "!" + $0 }
        return try Row.fetchAll(
            db, sql: "SELECT * FROM listing WHERE key IN (\(databaseQuestionMarks(count: all.count)))", arguments: StatementArguments(all)
        ).map(listingRow)
    }
}

/// Zone serials (schema v1 `zoneSerial`, v5 `serialHistory`).
extension ListingStore {
    /// The highest serial a server published from this store (0 when none).
    public func lastSerial() throws -> UInt32 {
        try pool.read { db in
            UInt32(truncatingIfNeeded: try Int.fetchOne(db, sql: "SELECT coalesce(max(serial), 0) FROM zoneSerial") ?? 0)
        }
    }

    /// Records that `zones` were published with `serial`, reflecting the journal up to `journalPosition`.
    public func recordSerial(_ serial: UInt32, zones: [String], journalPosition: Int, at: Int) throws {
        try pool.write { db in
            for z in zones {
                try db.execute(
                    sql: "INSERT INTO zoneSerial (zone, serial) VALUES (?, ?) ON CONFLICT (zone) DO UPDATE SET serial = excluded.serial",
                    arguments: [z, Int(serial)])
            }
            try db.execute(
                sql: "INSERT INTO serialHistory (serial, journalPosition, at) VALUES (?, ?, ?)",
                arguments: [Int(serial), journalPosition, at])
        }
    }

    /// Serials published so far, oldest first.
    public func serialHistory() throws -> [(serial: UInt32, journalPosition: Int, at: Int)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM serialHistory ORDER BY rowid").map {
                (UInt32(truncatingIfNeeded: $0["serial"] as Int), $0["journalPosition"], $0["at"])
            }
        }
    }
}
