import Crypto
import Foundation
import GRDB
import ListingKeys

/// The store's error: one line that says what is wrong, for the CLI and the API.
public struct StoreError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Reporter kinds and their policy defaults (SPEC §2).
public enum SourceKind: String, Sendable, CaseIterable, Codable {
    case agency, isp, `public`, `operator`

    /// Default report TTL in seconds; nil means "until delisted".
    public var defaultTTL: Int? {
        switch self {
        case .isp: return 7 * 86400
        case .agency: return 30 * 86400
        case .public: return 3 * 86400
        case .operator: return nil
        }
    }

    /// One report from a trusted kind publishes; public reports need corroboration.
    public var isTrusted: Bool { self != .public }
}

public struct Source: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var kind: SourceKind
    /// Explicit TTL for this source's reports (seconds), overriding the kind's default.
    public var defaultTTL: Int?
    public var createdAt: Int
    public var removedAt: Int?

    /// The TTL that applies to a report of this source without its own.
    public var effectiveTTL: Int? { defaultTTL ?? kind.defaultTTL }
}

/// The listings store: an SQLite file in WAL mode (readers never wait for the writer; a killed
/// writer leaves the last committed transaction).
public final class ListingStore: Sendable {
    public let pool: DatabasePool

    public init(path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Schema.migrator().migrate(pool)
        } catch {
            throw StoreError("cannot open the store at \(path): \(Self.explain(error, directory: dir.isEmpty ? "." : dir) ?? "\(error)")")
        }
    }

    // MARK: sources

    /// Adds a source and returns its API token (shown once; only its hash is kept).
    public func addSource(name: String, kind: SourceKind, ttl: Int?, now: Int, actor: String) throws -> String {
        guard Self.validSourceName(name) else {
            throw StoreError("source names are 1-64 letters, digits, '-', '_' or '.': '\(name)'")
        }
        let token = Self.newToken()
        try pool.write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM source WHERE name = ?", arguments: [name]) != nil {
                throw StoreError("source '\(name)' exists already")
            }
            try db.execute(
                sql: "INSERT INTO source (name, kind, defaultTTL, tokenHash, createdAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [name, kind.rawValue, ttl, Self.hash(token), now])
            try Self.audit(db, at: now, actor: actor, action: "source.add", subject: name, detail: "kind=\(kind.rawValue)")
        }
        return token
    }

    public func sources(includingRemoved: Bool = false) throws -> [Source] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM source \(includingRemoved ? "" : "WHERE removedAt IS NULL") ORDER BY name"
            ).map(Self.source)
        }
    }

    public func source(named name: String) throws -> Source? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM source WHERE name = ? AND removedAt IS NULL", arguments: [name])
                .map(Self.source)
        }
    }

    /// Replaces a source's token; the old one stops working at once.
    public func rotateToken(name: String, now: Int, actor: String) throws -> String {
        let token = Self.newToken()
        try pool.write { db in
            try db.execute(
                sql: "UPDATE source SET tokenHash = ? WHERE name = ? AND removedAt IS NULL",
                arguments: [Self.hash(token), name])
            guard db.changesCount == 1 else { throw StoreError("no source named '\(name)'") }
            try Self.audit(db, at: now, actor: actor, action: "source.token", subject: name, detail: nil)
        }
        return token
    }

    /// Removes a source: its token stops working; its reports and their provenance stay.
    public func removeSource(name: String, now: Int, actor: String) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE source SET removedAt = ?, tokenHash = NULL WHERE name = ? AND removedAt IS NULL",
                arguments: [now, name])
            guard db.changesCount == 1 else { throw StoreError("no source named '\(name)'") }
            try Self.audit(db, at: now, actor: actor, action: "source.remove", subject: name, detail: nil)
        }
    }

    /// The source a token belongs to, if any (constant-time comparison is moot: only hashes are compared).
    public func authenticate(token: String) throws -> Source? {
        try pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM source WHERE tokenHash = ? AND removedAt IS NULL", arguments: [Self.hash(token)]
            ).map(Self.source)
        }
    }

    // MARK: audit

    public struct AuditEntry: Sendable, Equatable {
        public var at: Int
        public var actor: String
        public var action: String
        public var subject: String?
        public var detail: String?
    }

    /// Audit entries in the order written (`newestFirst`: the other way), narrowed by subject
    /// (a key or its prefix), actor (as written, or an operator's account), action (or its
    /// group: `source` is `source.add`, `source.remove`, ...) and period; at most `limit`.
    public func auditLog(
        subject: String? = nil, actor: String? = nil, action: String? = nil, since: Int? = nil, until: Int? = nil,
        newestFirst: Bool = false, limit: Int = 1000
    ) throws -> [AuditEntry] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let subject { conditions.append("subject >= ? AND subject < ?"); arguments += [subject, subject + "\u{10FFFF}"] }
        if let actor { conditions.append("(actor = ? OR actor = 'operator:' || ?)"); arguments += [actor, actor] }
        if let action { conditions.append("(action = ? OR action LIKE ? || '.%')"); arguments += [action, action] }
        if let since { conditions.append("at >= ?"); arguments.append(since) }
        if let until { conditions.append("at <= ?"); arguments.append(until) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(limit)
        return try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit \(filter) ORDER BY id \(newestFirst ? "DESC" : "") LIMIT ?", arguments: StatementArguments(arguments)
            ).map { AuditEntry(at: $0["at"], actor: $0["actor"], action: $0["action"], subject: $0["subject"], detail: $0["detail"]) }
        }
    }

    static func audit(_ db: Database, at: Int, actor: String, action: String, subject: String?, detail: String?) throws {
        try db.executeCached(
            "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)", [at, actor, action, subject, detail])
    }

    // MARK: helpers

    static func source(_ row: Row) -> Source {
        Source(
            id: row["id"], name: row["name"], kind: SourceKind(rawValue: row["kind"]) ?? .public,
            defaultTTL: row["defaultTTL"], createdAt: row["createdAt"], removedAt: row["removedAt"])
    }

    static func validSourceName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { c in
                (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 45 || c == 95 || c == 46
            }
    }

    /// 32 random octets, hex: `thr_` marks it as a thurac token in logs and secret scanners.
    static func newToken() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return "thr_" + HexText.encode(bytes)
    }

    static func hash(_ token: String) -> String { HexText.encode(Array(SHA256.hash(data: Array(token.utf8)))) }

}
