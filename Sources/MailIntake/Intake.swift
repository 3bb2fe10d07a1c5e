import CZlib
import Crypto
import Foundation
import ListingKeys
import Store

/// Forwarded spam into the store (SPEC §5 `intake`): each key a forward names becomes one
/// report of its reporter, with the evidence to trace it back, and the message is kept
/// (compressed) for the retention period. One transaction per message.
public struct MailIntake {
    public let store: ListingStore
    public let settings: IntakeSettings
    /// Recipient mailbox (lower case) → the source its reports count as (an ISP forwarding its
    /// customers' complaints); other mailboxes take public reports from the forwarder.
    public var mailboxes: [String: String] = [:]
    /// Messages per forwarder and hour; more are accepted and not counted.
    public var perHour = 20
    public var policy = Policy()

    public init(store: ListingStore, settings: IntakeSettings) {
        self.store = store
        self.settings = settings
    }

    public struct Result: Sendable {
        public var analyses: [SpamAnalysis]
        public var source: String? = nil
        public var counts: IngestCounts? = nil
        public var digest: String
        /// One line: what was found and what was done with it.
        public var summary: String
        /// More messages from the reporter this hour than `perHour`: nothing was recorded.
        public var rateLimited = false
    }

    /// One message as an MTA delivers it: the reporter is the forwarder (`sender`), or the
    /// source the recipient mailbox is bound to. Throws `IntakeError.notAMessage` for input
    /// that is not a message at all; store errors come through as they are (the caller tells
    /// busy or unwritable, which the MTA should retry, from the rest).
    public func accept(
        _ raw: [UInt8], sender: String?, recipient: String?, category: Category?, now: Int
    ) throws -> Result {
        guard MIMEEntity.looksLikeMessage(raw) else { throw IntakeError.notAMessage }
        let forwarder = sender.flatMap(ForwardedSpam.mailbox)?.lowercased()
        let bound = recipient.flatMap { mailboxes[$0.lowercased()] }
        guard let reporter = forwarder ?? (bound != nil ? recipient?.lowercased() : nil) else {
            var r = Result(analyses: [], digest: Self.digest(raw), summary: "")
            r.summary = "no forwarder address (a bounce?): nothing recorded"
            return r
        }
        return try accept(
            raw, reporter: reporter, source: bound ?? Self.publicSourceName(reporter), publicReporter: bound == nil,
            recipient: recipient, category: category, limited: bound == nil, now: now)
    }

    /// One message for a known reporter and source (the API: the client, or a token's source).
    /// `limited`: at most `perHour` messages an hour from the reporter are counted.
    public func accept(
        _ raw: [UInt8], reporter: String, source: String, publicReporter: Bool, recipient: String?, category: Category?,
        limited: Bool, now: Int
    ) throws -> Result {
        guard MIMEEntity.looksLikeMessage(raw) else { throw IntakeError.notAMessage }
        let digest = Self.digest(raw)
        let forwarder = reporter.contains("@") ? reporter : nil
        let analyses = ForwardedSpam.analyse(MIMEEntity.parse(raw), forwarder: forwarder, settings: settings)
        var result = Result(analyses: analyses, source: source, digest: digest, summary: "")
        let reports = Self.reports(analyses, category: category, digest: digest)
        let found = Self.describe(analyses)
        guard !reports.isEmpty else {
            result.summary = "\(found): nothing to report"
            return result
        }
        if limited, try store.intakeCount(reporter: reporter, since: now - 3600) >= perHour {
            result.summary = "\(found): \(reporter) sent more than \(perHour) reports this hour; not counted"
            result.rateLimited = true
            return result
        }
        let record = IntakeRecord(
            digest: digest, reporter: reporter, recipient: recipient?.lowercased(), messageID: analyses.first?.messageID,
            summary: found, size: raw.count, compressed: try Self.compress(raw))
        let counts = try store.ingestMessage(record, reports: reports, source: source, publicReporter: publicReporter, now: now, policy: policy)
        result.counts = counts
        result.summary = "\(found): \(counts) (source \(source), message \(digest.prefix(12)))"
        return result
    }

    static func digest(_ raw: [UInt8]) -> String { HexText.encode(Array(SHA256.hash(data: raw))) }

    /// The reports of a forward: the source address, the senders and their domains, the
    /// spamvertised domains; advertising-labelled mail in that category unless one was chosen.
    static func reports(_ analyses: [SpamAnalysis], category chosen: Category?, digest: String) -> [ReportInput] {
        var out: [ReportInput] = []
        var seen = Set<String>()
        for a in analyses {
            let category = chosen ?? (a.advertisingLabel != nil ? .advertising : .spam)
            var evidence = "e-mail report, message \(digest.prefix(12))"
            if let id = a.messageID { evidence += ", Message-ID \(id.prefix(200))" }
            // The hop as "address (name) to receiver": not the whole field, whose `for <...>`
            // names the forwarder.
            if let hop = a.hop, let address = hop.addressText {
                evidence += ", hop: \(address) (\(hop.host ?? "no name")) to \(hop.by ?? "an unnamed server")"
            }
            if let label = a.advertisingLabel { evidence += ", labelled \(label)" }
            func add(_ text: String, _ reason: String) {
                guard let key = try? KeySpec(parsing: text), seen.insert(key.description).inserted else { return }
                out.append(ReportInput(key: key, category: category, reason: reason, evidence: evidence, ttl: nil, seen: nil))
            }
            if let ip = a.sourceIP { add(ip.description, "sent spam (forwarded by e-mail)") }
            for s in a.senders { add(s, "sender of forwarded spam") }
            for d in a.senderDomains { add(d, "sender domain of forwarded spam") }
            for d in a.domains { add(d, "advertised in forwarded spam") }
        }
        return out
    }

    static func describe(_ analyses: [SpamAnalysis]) -> String {
        guard !analyses.isEmpty else { return "no forwarded message found (attach the spam, or forward it inline)" }
        return analyses.map { a in
            var parts = [a.found.rawValue]
            if let ip = a.sourceIP { parts.append("source \(ip)") } else if let note = a.sourceNote { parts.append("no source address: \(note)") }
            if !a.senders.isEmpty { parts.append("senders \(a.senders.joined(separator: " "))") }
            if !a.domains.isEmpty { parts.append("\(a.domains.count) domain(s) of \(a.linksSeen) link(s)") }
            if let l = a.advertisingLabel { parts.append("labelled \(l)") }
            return parts.joined(separator: ", ")
        }.joined(separator: "; ")
    }

    /// `mail-` and a digest of the forwarder's address: distinct per address, and no citizen's
    /// address in what a public lookup shows (`thurac messages list` names the reporter).
    public static func publicSourceName(_ address: String) -> String {
        "mail-" + HexText.encode(Array(SHA256.hash(data: Array(address.lowercased().utf8)))).prefix(12)
    }

    static func compress(_ raw: [UInt8]) throws -> [UInt8] {
        var size = compressBound(uLong(raw.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let rc = raw.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in compress2(dst.baseAddress, &size, src.baseAddress, uLong(src.count), 6) }
        }
        guard rc == Z_OK else { throw IntakeError("cannot compress the message (zlib \(rc))") }
        return Array(out[0..<Int(size)])
    }

    /// A stored message as it was received.
    public static func decompress(_ data: [UInt8], size: Int) throws -> [UInt8] {
        var length = uLong(size)
        var out = [UInt8](repeating: 0, count: max(size, 1))
        let rc = data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in uncompress(dst.baseAddress, &length, src.baseAddress, uLong(src.count)) }
        }
        guard rc == Z_OK else { throw IntakeError("the stored message is damaged (zlib \(rc))") }
        return Array(out[0..<Int(length)])
    }
}

/// Messages collected by another system: an mbox file (`From ` lines, `>From` unquoted) or a
/// Maildir (`new/` and `cur/`).
public enum MailboxReader {
    /// Each message of an mbox with its envelope sender from the `From ` line.
    public static func mbox(_ path: String, _ body: (_ message: [UInt8], _ sender: String?) throws -> Void) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw IntakeError("cannot read \(path)") }
        let bytes = [UInt8](data)
        var lines = Lines(bytes[...])
        var current: [UInt8] = []
        var sender: String? = nil
        var started = false
        func flush() throws {
            if started { try body(current, sender) }
            current.removeAll(keepingCapacity: true)
        }
        while let line = lines.next() {
            if line.starts(with: Array("From ".utf8)) {
                try flush()
                started = true
                let words = line.split(separator: 32)
                sender = words.count > 1 ? String(decoding: words[1], as: UTF8.self) : nil
                if sender == "MAILER-DAEMON" { sender = nil }
                continue
            }
            started = true
            // mboxrd: `>From ` (any number of `>`) loses one `>`.
            var l = line
            if l.first == UInt8(ascii: ">"), l.drop(while: { $0 == UInt8(ascii: ">") }).starts(with: Array("From ".utf8)) { l = l.dropFirst() }
            current += l
            current.append(10)
        }
        try flush()
    }

    /// Each message file of a Maildir, oldest name first; the sender from its Return-Path.
    public static func maildir(_ path: String, _ body: (_ message: [UInt8], _ sender: String?) throws -> Void) throws {
        var files: [String] = []
        for sub in ["new", "cur"] {
            let dir = path + "/" + sub
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            files += names.filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
        }
        guard !files.isEmpty || FileManager.default.fileExists(atPath: path + "/new") else {
            throw IntakeError("\(path) is not a Maildir (no new/ or cur/)")
        }
        for f in files {
            guard let data = FileManager.default.contents(atPath: f) else { continue }
            let bytes = [UInt8](data)
            let sender = MIMEEntity.parse(bytes).header("return-path").flatMap(ForwardedSpam.mailbox)
            try body(bytes, sender)
        }
    }
}
