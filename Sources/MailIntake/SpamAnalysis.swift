import Foundation
import ListingKeys

/// What thurac reads from forwarded spam, and what it will not report.
public struct IntakeSettings: Sendable {
    public var trustedRelays: TrustedRelays
    public var suffixes: PublicSuffixList
    /// Registrable domains reported per message at most (a message with 5,000 links reports
    /// the first ones).
    public var maxDomains = 50
    /// Registrable domains never reported (the province's own, the relays').
    public var neverReported: Set<String> = []

    public init(trustedRelays: TrustedRelays, suffixes: PublicSuffixList) {
        self.trustedRelays = trustedRelays
        self.suffixes = suffixes
        for h in trustedRelays.hostNames { neverReported.insert(suffixes.registrableDomain(h) ?? h) }
    }
}

/// One spam message found in a forward, and what it names.
public struct SpamAnalysis: Sendable {
    public enum Found: String, Sendable {
        case attachment = "attached message"
        case arf = "ARF report"
        case inline = "inline forward (best effort: no attachment)"
    }

    public var found: Found
    public var sourceIP: ListingKey?
    public var hop: ReceivedHop?
    /// Why no source address was taken, when none was.
    public var sourceNote: String?
    public var messageID: String?
    public var subject: String?
    /// `[QC]` or `[ADV]`: advertising mail by the label of Decree 90/2008 art. 9 (77/2012).
    public var advertisingLabel: String?
    /// Lower-cased sender addresses (Return-Path, From), and their domains.
    public var senders: [String] = []
    public var senderDomains: [String] = []
    /// Registrable domains of the links, in order, capped.
    public var domains: [String] = []
    public var linksSeen = 0
}

public enum ForwardedSpam {
    /// The spam messages inside a forward: `message/rfc822` attachments (the innermost of a
    /// forwarded forward), an ARF report's original, or else headers pasted after a
    /// "Forwarded message" line.
    public static func analyse(_ forward: MIMEEntity, forwarder: String?, settings: IntakeSettings) -> [SpamAnalysis] {
        var never = settings.neverReported
        if let f = forwarder, let d = f.split(separator: "@").last.map(String.init) { never.insert(settings.suffixes.registrableDomain(d) ?? d) }
        var out: [SpamAnalysis] = []
        // An ARF report: its Source-IP is the reporter's own finding.
        if forward.contentType.type == "multipart/report" {
            let report = forward.children.first { $0.contentType.type == "message/feedback-report" }
            if let report {
                let fields = MIMEEntity.parse(report.decodedBody).headers
                let original = forward.children.first { $0.contentType.type == "message/rfc822" || $0.contentType.type == "text/rfc822-headers" }
                let spam = original.flatMap { o in o.children.first ?? MIMEEntity.parse(o.decodedBody) } ?? MIMEEntity(headers: [], body: [], children: [])
                var a = analyse(spam, found: .arf, forwarder: forwarder, settings: settings, never: never)
                if let ip = fields.first(where: { $0.name == "source-ip" })?.value, let k = try? KeySpec(parsing: ip).key {
                    if let why = SpecialAddresses.why(k) {
                        a.sourceIP = nil
                        a.sourceNote = "Source-IP \(ip) is \(why)"
                    } else {
                        a.sourceIP = k
                        a.sourceNote = nil
                    }
                }
                return [a]
            }
        }
        // Attached messages; an attached message that itself carries one is a forwarded
        // forward, and the spam is inside it.
        var attached: [MIMEEntity] = []
        func collect(_ m: MIMEEntity, depth: Int) {
            for inner in attachedMessages(of: m) {
                if depth < 4 && !attachedMessages(of: inner).isEmpty { collect(inner, depth: depth + 1) } else { attached.append(inner) }
            }
        }
        collect(forward, depth: 0)
        for spam in attached { out.append(analyse(spam, found: .attachment, forwarder: forwarder, settings: settings, never: never)) }
        if out.isEmpty, let inline = inlineForward(forward) {
            out.append(analyse(inline, found: .inline, forwarder: forwarder, settings: settings, never: never))
        }
        return out
    }

    /// The messages attached to `m` (not those inside them).
    static func attachedMessages(of m: MIMEEntity) -> [MIMEEntity] {
        var out: [MIMEEntity] = []
        for c in m.children {
            let t = c.contentType.type
            if t == "message/rfc822" || t == "message/global" {
                if let inner = c.children.first { out.append(inner) }
            } else {
                out += attachedMessages(of: c)
            }
        }
        return out
    }

    /// Lines that open a forwarded message in mail programs' own words.
    static let forwardMarkers = [
        "forwarded message", "original message", "begin forwarded message", "thư đã chuyển tiếp", "thư chuyển tiếp",
        "tin nhắn đã chuyển tiếp", "thư gốc",
    ]

    /// The headers and text after a "Forwarded message" line, read as a message.
    static func inlineForward(_ forward: MIMEEntity) -> MIMEEntity? {
        var texts: [(String, Bool)] = []
        forward.walk { e in
            let t = e.contentType.type
            if (t == "text/plain" || t == "text/html") && e.children.isEmpty { texts.append((e.text, t == "text/html")) }
        }
        for (text, html) in texts {
            let plain = html ? stripTags(text) : text
            // CR LF is one Character: split on newlines, not on "\n".
            let lines = plain.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
            guard let marker = lines.firstIndex(where: { l in
                let low = l.lowercased()
                return forwardMarkers.contains { low.contains($0) } && (low.contains("---") || low.hasSuffix(":") || low.contains("begin"))
            }) else { continue }
            var rest = Array(lines[(marker + 1)...]).drop { $0.trimmingWhitespace().isEmpty }.map { l -> String in
                // Quoted forwards (`> From: ...`).
                var s = Substring(l)
                while s.hasPrefix(">") { s = s.dropFirst().drop { $0 == " " } }
                return String(s)
            }
            if rest.isEmpty { continue }
            // Pasted headers end at the first empty line; text without one is all body.
            if !(rest.first?.contains(":") ?? false) { rest.insert("", at: 0) }
            return MIMEEntity.parse(Array(rest.joined(separator: "\n").utf8))
        }
        return nil
    }

    static func stripTags(_ html: String) -> String {
        var out = ""
        var inTag = false
        for c in LinkHosts.decodeCharacterReferences(html.replacingOccurrences(of: "<br", with: "\n<br", options: .caseInsensitive)) {
            if c == "<" { inTag = true } else if c == ">" { inTag = false } else if !inTag { out.append(c) }
        }
        return out
    }

    static func analyse(_ spam: MIMEEntity, found: SpamAnalysis.Found, forwarder: String?, settings: IntakeSettings, never: Set<String>) -> SpamAnalysis {
        var a = SpamAnalysis(found: found)
        switch SourceFinder.source(spam.headers("received"), trusted: settings.trustedRelays) {
        case .source(let k, let hop):
            a.sourceIP = k
            a.hop = hop
        case .unreportable(let why, let hop):
            a.hop = hop
            a.sourceNote = why
        case .none(let why):
            a.sourceNote = why
        }
        a.messageID = spam.header("message-id").map { $0.trimmingWhitespace() }
        let subject = spam.header("subject").map(EncodedWords.decode)
        a.subject = subject
        if let s = subject?.trimmingWhitespace().uppercased() {
            for label in ["[QC]", "[ADV]"] where s.hasPrefix(label) { a.advertisingLabel = label }
        }
        let forwarderAddress = forwarder?.lowercased()
        for field in ["return-path", "from"] {
            guard let v = spam.header(field), let address = mailbox(EncodedWords.decode(v)) else { continue }
            let lower = address.lowercased()
            guard lower != forwarderAddress, let domain = lower.split(separator: "@").last.map(String.init),
                let ascii = IDNA.asciiName(domain), LinkHosts.isHostName(ascii)
            else { continue }
            let registrable = settings.suffixes.registrableDomain(ascii) ?? ascii
            if never.contains(registrable) { continue }
            let key = lower.split(separator: "@").dropLast().joined(separator: "@") + "@" + ascii
            if !a.senders.contains(key) { a.senders.append(key) }
            if !a.senderDomains.contains(ascii) { a.senderDomains.append(ascii) }
        }
        var hosts: [String] = []
        spam.walk { e in
            let t = e.contentType.type
            guard (t == "text/plain" || t == "text/html") && e.children.isEmpty, hosts.count < 20_000 else { return }
            hosts += LinkHosts.hosts(in: e.text, html: t == "text/html", limit: 20_000 - hosts.count)
        }
        a.linksSeen = hosts.count
        for h in hosts where a.domains.count < settings.maxDomains {
            guard let d = settings.suffixes.registrableDomain(h), !never.contains(d), !a.domains.contains(d) else { continue }
            a.domains.append(d)
        }
        return a
    }

    /// `Name <user@example.com>`, `<user@example.com>` or `user@example.com`; nil for `<>`.
    static func mailbox(_ value: String) -> String? {
        var v = value
        if let open = v.lastIndex(of: "<"), let close = v.lastIndex(of: ">"), open < close { v = String(v[v.index(after: open)..<close]) }
        v = v.trimmingWhitespace()
        guard let at = v.lastIndex(of: "@"), at != v.startIndex, v.index(after: at) != v.endIndex, !v.contains(" ") else { return nil }
        return v
    }
}
