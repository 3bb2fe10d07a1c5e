import Foundation
import GRDB
import ListingKeys

/// A forwarded spam message as the store keeps it (SPEC §5 `intake`): who forwarded it, what
/// was taken from it, and the message itself, compressed by the caller.
public struct IntakeRecord: Sendable, Equatable {
    /// SHA-256 of the raw message, hex: the message's reference in its reports' evidence (kept
    /// once per reporter).
    public var digest: String
    /// The forwarder's address (envelope sender of the forward), or the API client.
    public var reporter: String
    public var recipient: String?
    /// The spam's Message-ID.
    public var messageID: String?
    /// What was extracted, in one line.
    public var summary: String
    public var size: Int
    public var compressed: [UInt8]

    public init(
        digest: String, reporter: String, recipient: String?, messageID: String?, summary: String, size: Int,
        compressed: [UInt8]
    ) {
        self.digest = digest
        self.reporter = reporter
        self.recipient = recipient
        self.messageID = messageID
        self.summary = summary
        self.size = size
        self.compressed = compressed
    }
}

public struct IntakeMessageRow: Sendable, Equatable {
    public var id: Int64
    public var receivedAt: Int
    public var source: String
    public var record: IntakeRecord
}

extension ListingStore {
    /// One forwarded message, in one transaction: the reporter's source made if it is new (a
    /// public reporter, `publicReporter`), the message kept, its reports applied. A killed
    /// process leaves all of it or none of it.
    public func ingestMessage(
        _ m: IntakeRecord, reports: [ReportInput], source: String, publicReporter: Bool, now: Int, policy: Policy = Policy()
    ) throws -> IngestCounts {
        guard Self.validSourceName(source) else { throw StoreError("not a source name: '\(source)'") }
        return try ingest(
            source: source, ttlOverride: nil, now: now, policy: policy,
            first: { db in
                if publicReporter {
                    try Self.addPublicSource(db, name: source, now: now, actor: "intake", who: "e-mail reporter \(m.reporter)")
                }
                try db.executeCached(
                    """
                        INSERT INTO intakeMessage (digest, receivedAt, reporter, source, recipient, messageId, summary, size, content)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest, reporter) DO NOTHING
                        """,
                    [m.digest, now, m.reporter, source, m.recipient, m.messageID, m.summary, m.size, Data(m.compressed)])
            },
            feed: { writer in
                for r in reports { try writer.add(r) }
            })
    }

    /// Messages a reporter forwarded since `since` (the per-address rate limit of e-mail reports).
    public func intakeCount(reporter: String, since: Int) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT count(*) FROM intakeMessage WHERE reporter = ? AND receivedAt >= ?"),
                arguments: [reporter, since]) ?? 0
        }
    }

    /// A stored message by its number or by (a prefix of at least 8 hex digits of) its digest.
    public func intakeMessage(_ reference: String) throws -> IntakeMessageRow? {
        try pool.read { db in
            let row: Row?
            if let id = Int64(reference) {
                row = try Row.fetchOne(db, sql: "SELECT * FROM intakeMessage WHERE id = ?", arguments: [id])
            } else {
                let hex = reference.lowercased().replacingOccurrences(of: "sha256:", with: "")
                guard hex.count >= 8, hex.allSatisfy(\.isHexDigit) else { return nil }
                row = try Row.fetchOne(db, sql: "SELECT * FROM intakeMessage WHERE digest LIKE ? || '%' ORDER BY id LIMIT 1", arguments: [hex])
            }
            return row.map(Self.intakeRow)
        }
    }

    /// The newest stored messages first.
    public func intakeMessages(limit: Int = 100) throws -> [IntakeMessageRow] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM intakeMessage ORDER BY id DESC LIMIT ?", arguments: [limit]).map(Self.intakeRow)
        }
    }

    static func intakeRow(_ r: Row) -> IntakeMessageRow {
        let content: Data = r["content"]
        return IntakeMessageRow(
            id: r["id"], receivedAt: r["receivedAt"], source: r["source"],
            record: IntakeRecord(
                digest: r["digest"], reporter: r["reporter"], recipient: r["recipient"], messageID: r["messageId"],
                summary: r["summary"], size: r["size"], compressed: Array(content)))
    }
}
