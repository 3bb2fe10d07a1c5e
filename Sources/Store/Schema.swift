import GRDB

/// Versioned schema. A migration is never edited once it has shipped: later changes are new
/// migrations, so a store created by any version upgrades without losing data.
enum Schema {
    static func migrator() -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: sources, reports, listings, allowlist, delistings, audit, serials") { db in
            try db.create(table: "source") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("kind", .text).notNull()
                    .check(sql: "kind IN ('agency', 'isp', 'public', 'operator')")
                // Seconds; NULL means the kind's default.
                t.column("defaultTTL", .integer)
                // SHA-256 of the API token, hex; the token itself is shown once and never stored.
                t.column("tokenHash", .text).unique()
                t.column("createdAt", .integer).notNull()
                // Removed sources stay, so the provenance of their reports stays readable.
                t.column("removedAt", .integer)
            }
            try db.create(table: "report") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("source").notNull()
                t.column("key", .text).notNull()
                t.column("excluded", .boolean).notNull().defaults(to: false)
                t.column("category", .text).notNull()
                t.column("reason", .text)
                t.column("evidence", .text)
                t.column("seenAt", .integer).notNull()
                t.column("ttl", .integer)
                t.column("receivedAt", .integer).notNull()
            }
            try db.create(index: "report_key", on: "report", columns: ["key", "category"])
            // One report per source, key and category: a repeated feed refreshes it.
            try db.create(index: "report_unique", on: "report", columns: ["sourceId", "key", "category"], unique: true)
            try db.create(table: "listing") { t in
                t.column("key", .text).notNull()
                t.column("category", .text).notNull()
                t.column("state", .text).notNull()
                    .check(sql: "state IN ('published', 'pending', 'expired', 'delisted', 'superseded')")
                t.column("firstSeen", .integer).notNull()
                t.column("lastSeen", .integer).notNull()
                t.column("expiresAt", .integer)
                t.column("reportCount", .integer).notNull()
                t.column("reason", .text)
                t.primaryKey(["key", "category"])
            }
            try db.create(index: "listing_expiry", on: "listing", columns: ["state", "expiresAt"])
            try db.create(table: "allowlist") { t in
                t.primaryKey("key", .text)
                t.column("reason", .text)
                t.column("addedBy", .text).notNull()
                t.column("addedAt", .integer).notNull()
            }
            try db.create(table: "delisting") { t in
                t.primaryKey("key", .text)
                t.column("reason", .text).notNull()
                t.column("delistedBy", .text).notNull()
                t.column("delistedAt", .integer).notNull()
                t.column("graceUntil", .integer).notNull()
            }
            // Append-only: nothing updates or deletes rows here (enforced by triggers).
            try db.create(table: "audit") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .integer).notNull()
                t.column("actor", .text).notNull()
                t.column("action", .text).notNull()
                t.column("subject", .text)
                t.column("detail", .text)
            }
            try db.execute(
                sql: """
                    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    """)
            try db.create(table: "zoneSerial") { t in
                t.primaryKey("zone", .text)
                t.column("serial", .integer).notNull()
            }
        }
        // Reports keyed by what is looked up: (key, category) first, then the source. One
        // B-tree instead of a rowid table and two indexes: ingest writes a third as much.
        m.registerMigration("v2: reports keyed by key, category and source") { db in
            try db.execute(
                sql: """
                    CREATE TABLE report_v2 (
                      key TEXT NOT NULL, category TEXT NOT NULL,
                      sourceId INTEGER NOT NULL REFERENCES source(id),
                      excluded BOOLEAN NOT NULL DEFAULT 0, reason TEXT, evidence TEXT,
                      seenAt INTEGER NOT NULL, ttl INTEGER, receivedAt INTEGER NOT NULL,
                      PRIMARY KEY (key, category, sourceId)) WITHOUT ROWID;
                    INSERT INTO report_v2 (key, category, sourceId, excluded, reason, evidence, seenAt, ttl, receivedAt)
                      SELECT key, category, sourceId, excluded, reason, evidence, seenAt, ttl, receivedAt FROM report;
                    DROP TABLE report;
                    ALTER TABLE report_v2 RENAME TO report;
                    """)
        }
        // The change journal: which keys' listings changed, in commit order. The server reads it
        // to update its snapshot incrementally; zone transfers (IXFR) will read it too. A NULL key
        // means "too much changed to list": readers rebuild from the listings.
        m.registerMigration("v3: change journal") { db in
            try db.execute(
                sql: """
                    CREATE TABLE journal (
                      id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, key TEXT);
                    """)
        }
        // Query counters per zone, written by the server every minute, for `thurac report`.
        m.registerMigration("v4: query statistics") { db in
            try db.execute(
                sql: """
                    CREATE TABLE queryStats (
                      at INTEGER NOT NULL, zone TEXT NOT NULL,
                      queries INTEGER NOT NULL, listed INTEGER NOT NULL, nxdomain INTEGER NOT NULL);
                    CREATE INDEX queryStats_at ON queryStats (at);
                    """)
        }
        // Every serial a server published, with the journal position it reflects: a restarted
        // server continues above the last one, and IXFR will find the changes between two.
        m.registerMigration("v5: serial history") { db in
            try db.execute(
                sql: """
                    CREATE TABLE serialHistory (
                      serial INTEGER NOT NULL, journalPosition INTEGER NOT NULL, at INTEGER NOT NULL);
                    CREATE INDEX serialHistory_serial ON serialHistory (serial);
                    """)
        }
        // Delisting requests from listed parties (SPEC §6), decided by the operator.
        m.registerMigration("v6: delisting requests") { db in
            try db.execute(
                sql: """
                    CREATE TABLE delistingRequest (
                      id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, reason TEXT NOT NULL, contact TEXT,
                      createdAt INTEGER NOT NULL, status TEXT NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'accepted', 'rejected')),
                      decidedAt INTEGER, decidedBy TEXT, answer TEXT);
                    CREATE INDEX delistingRequest_status ON delistingRequest (status);
                    """)
        }
        m.registerMigration("v7: forwarded spam messages") { db in
            // The raw message as forwarded (zlib-compressed), kept for the retention period so
            // a wrong block can be investigated (directive item 4c).
            try db.execute(
                sql: """
                    CREATE TABLE intakeMessage (
                      id INTEGER PRIMARY KEY AUTOINCREMENT, digest TEXT NOT NULL,
                      receivedAt INTEGER NOT NULL, reporter TEXT NOT NULL, source TEXT NOT NULL, recipient TEXT,
                      messageId TEXT, summary TEXT NOT NULL, size INTEGER NOT NULL, content BLOB NOT NULL,
                      UNIQUE (digest, reporter));
                    CREATE INDEX intakeMessage_reporter ON intakeMessage (reporter, receivedAt);
                    CREATE INDEX intakeMessage_receivedAt ON intakeMessage (receivedAt);
                    """)
        }
        m.registerMigration("v8: delisting request status links") { db in
            // The SHA-256 of the secret in the requester's private status link (the portal's
            // `/delisting/{id}/{secret}`); null for requests made without one.
            try db.execute(sql: "ALTER TABLE delistingRequest ADD COLUMN linkHash TEXT")
        }
        m.registerMigration("v9: operator accounts and sessions") { db in
            // The portal's operator console: accounts (bcrypt hashes) and their sessions (the
            // SHA-256 of the cookie's value: a copy of the store lets nobody sign in).
            try db.execute(
                sql: """
                    CREATE TABLE operatorAccount (
                      name TEXT PRIMARY KEY, passwordHash TEXT NOT NULL, createdAt INTEGER NOT NULL);
                    CREATE TABLE operatorSession (
                      idHash TEXT PRIMARY KEY, name TEXT NOT NULL REFERENCES operatorAccount(name) ON DELETE CASCADE,
                      createdAt INTEGER NOT NULL, lastSeen INTEGER NOT NULL);
                    """)
        }
        m.registerMigration("v10: an index of the keys written as ranges") { db in
            // `covering` reads the ranges around an address; without it, every listing.
            try db.execute(sql: "CREATE INDEX listing_ranges ON listing (key) WHERE key GLOB '*[0-9]-[0-9]*'")
        }
        // Ingest writes a million listing rows a feed, and SQLite codes `state IN (...)` in a
        // CHECK as a lookup in a temporary index built for each row: 0.9 s of a 1 M-key ingest,
        // the same constraint as comparisons 0.05 s. A CHECK cannot be altered: the table is
        // made again (SQLite's documented procedure), with its rows. Its indexes are made
        // cheaper to write too: expiry times by state for the two states that are looked up by
        // time (published ones expire, expired ones are pruned), each with the time alone, and
        // the ranges' index tests for a '-' before the pattern, which skips the GLOB for almost
        // every key.
        m.registerMigration("v11: listings with a CHECK that costs nothing per row") { db in
            try db.execute(
                sql: """
                    CREATE TABLE listing_v11 (
                      key TEXT NOT NULL, category TEXT NOT NULL,
                      state TEXT NOT NULL CHECK (state = 'published' OR state = 'pending' OR state = 'expired'
                                                 OR state = 'delisted' OR state = 'superseded'),
                      firstSeen INTEGER NOT NULL, lastSeen INTEGER NOT NULL, expiresAt INTEGER,
                      reportCount INTEGER NOT NULL, reason TEXT,
                      PRIMARY KEY (key, category));
                    INSERT INTO listing_v11 SELECT key, category, state, firstSeen, lastSeen, expiresAt, reportCount, reason
                      FROM listing ORDER BY key, category;
                    DROP TABLE listing;
                    ALTER TABLE listing_v11 RENAME TO listing;
                    CREATE INDEX listing_published_expiry ON listing (expiresAt) WHERE state = 'published';
                    CREATE INDEX listing_expired ON listing (expiresAt) WHERE state = 'expired';
                    CREATE INDEX listing_ranges ON listing (key) WHERE instr(key, '-') > 0 AND key GLOB '*[0-9]-[0-9]*';
                    """)
        }
        return m
    }
}
