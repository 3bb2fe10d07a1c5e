import GRDB
import ListingKeys

/// Requests from listed parties to be removed (SPEC §6 `POST /v1/delisting-requests`): stored
/// with the requester's reason and contact, then accepted (the key is delisted, with the audit
/// trail naming the operator and the request) or rejected with an answer.
extension ListingStore {
    public struct DelistingRequest: Sendable, Equatable {
        public var id: Int64
        public var key: String
        public var reason: String
        public var contact: String?
        public var createdAt: Int
        /// open, accepted or rejected.
        public var status: String
        public var decidedAt: Int?
        public var decidedBy: String?
        /// The operator's answer to the requester.
        public var answer: String?
    }

    /// Stores a request; its id is what the requester asks about later, and `link` (when
    /// given) the secret of its private status link, kept as its hash only.
    public func requestDelisting(_ key: KeySpec, reason: String, contact: String?, now: Int, link: String? = nil) throws -> Int64 {
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO delistingRequest (key, reason, contact, createdAt, linkHash) VALUES (?, ?, ?, ?, ?)",
                arguments: [key.description, reason, contact, now, link.map(Self.hash)])
            let id = db.lastInsertedRowID
            try Self.audit(db, at: now, actor: "requester", action: "delisting.request", subject: key.description, detail: "#\(id): \(reason)")
            return id
        }
    }

    public func delistingRequests(status: String? = nil) throws -> [DelistingRequest] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM delistingRequest WHERE ?1 IS NULL OR status = ?1 ORDER BY id", arguments: [status]
            ).map(Self.delistingRequest)
        }
    }

    public func delistingRequest(id: Int64) throws -> DelistingRequest? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM delistingRequest WHERE id = ?", arguments: [id]).map(Self.delistingRequest)
        }
    }

    /// The request whose private status link has this secret; nil for any other id or secret.
    public func delistingRequest(id: Int64, link: String) throws -> DelistingRequest? {
        try pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM delistingRequest WHERE id = ? AND linkHash = ?", arguments: [id, Self.hash(link)]
            ).map(Self.delistingRequest)
        }
    }

    /// A new secret for a status link: 32 random octets as hex.
    public static func newLinkSecret() -> String {
        var rng = SystemRandomNumberGenerator()
        return HexText.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    /// Accepts (delists the key, in the same transaction) or rejects an open request.
    public func decide(
        request id: Int64, accept: Bool, answer: String, grace: Int, now: Int, actor: String
    ) throws -> DelistingRequest {
        try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM delistingRequest WHERE id = ?", arguments: [id]) else {
                throw StoreError("no delisting request #\(id)")
            }
            let request = Self.delistingRequest(row)
            guard request.status == "open" else { throw StoreError("delisting request #\(id) is \(request.status) already") }
            if accept {
                var text = request.key
                guard let spec = text.withUTF8({ try? KeySpec(canonicalBytes: $0) }) else { throw StoreError("bad key \(request.key)") }
                try Self.delist(db, spec, reason: "request #\(id): \(answer)", grace: grace, now: now, actor: actor)
            }
            try db.execute(
                sql: "UPDATE delistingRequest SET status = ?, decidedAt = ?, decidedBy = ?, answer = ? WHERE id = ?",
                arguments: [accept ? "accepted" : "rejected", now, actor, answer, id])
            try Self.audit(
                db, at: now, actor: actor, action: accept ? "delisting.accept" : "delisting.reject", subject: request.key,
                detail: "#\(id): \(answer)")
            return try Row.fetchOne(db, sql: "SELECT * FROM delistingRequest WHERE id = ?", arguments: [id]).map(Self.delistingRequest)!
        }
    }

    static func delistingRequest(_ row: Row) -> DelistingRequest {
        DelistingRequest(
            id: row["id"], key: row["key"], reason: row["reason"], contact: row["contact"], createdAt: row["createdAt"],
            status: row["status"], decidedAt: row["decidedAt"], decidedBy: row["decidedBy"], answer: row["answer"])
    }
}
