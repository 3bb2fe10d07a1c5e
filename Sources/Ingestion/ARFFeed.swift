import Foundation
import ListingKeys

/// Abuse Reporting Format messages (RFC 5965): a `multipart/report; report-type=feedback-report`
/// mail whose `message/feedback-report` part names the abuse, followed by the original message
/// or its headers. The source IP, the reported domain(s) and the original sender each become a
/// report of the reporting source. Written by hand: it needs only MIME boundaries and header
/// fields (RFC 5322 unfolding), not a mail library.
enum ARFFeed {
    static func entries(_ bytes: [UInt8], defaultCategory: Category) throws(FeedError) -> (entries: [FeedEntry], errors: [FeedLineError]) {
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let (topHeaders, topBody) = split(text)
        guard let contentType = field("content-type", in: topHeaders),
            contentType.lowercased().contains("multipart/report"),
            let boundary = parameter("boundary", of: contentType)
        else { throw FeedError("not an ARF report (no multipart/report Content-Type with a boundary)") }
        let parts = topBody.components(separatedBy: "--" + boundary).dropFirst().filter { !$0.hasPrefix("--") }
        var report: [(String, String)]? = nil
        var original: [(String, String)] = []
        for part in parts {
            let (headers, body) = split(String(part.drop { $0 == "\n" }))
            let type = (field("content-type", in: headers) ?? "text/plain").lowercased()
            if type.hasPrefix("message/feedback-report") {
                report = fields(body)
            } else if type.hasPrefix("message/rfc822") || type.hasPrefix("text/rfc822-headers") {
                original = split(body).headers
            }
        }
        guard let report else { throw FeedError("not an ARF report (no message/feedback-report part)") }
        guard field("feedback-type", in: report) != nil else {
            throw FeedError("the feedback report has no Feedback-Type field (RFC 5965 §3.1)")
        }
        let type = field("feedback-type", in: report)!.lowercased()
        let category: Category
        switch type {
        case "fraud": category = .fraud
        case "virus": category = .malware
        default: category = defaultCategory
        }
        let evidence = field("message-id", in: original).map { "ARF \(type) report on \($0)" } ?? "ARF \(type) report"
        let reason = "reported as \(type) (ARF)"
        var seen: Int? = nil
        if let arrival = field("arrival-date", in: report) ?? field("received-date", in: report) { seen = mailDate(arrival) }

        var entries: [FeedEntry] = []
        var errors: [FeedLineError] = []
        func add(_ what: String, _ raw: String) {
            do {
                let key = try KeySpec(parsing: raw)
                entries.append(FeedEntry(line: 0, key: key, category: category, reason: reason, evidence: evidence, seen: seen))
            } catch {
                errors.append(FeedLineError(line: 0, message: "\(what) \(quoted(raw)): \(error)"))
            }
        }
        for (name, value) in report {
            switch name {
            case "source-ip": add("Source-IP", value)
            case "reported-domain": add("Reported-Domain", value)
            default: break
            }
        }
        if let sender = field("original-mail-from", in: report) ?? field("from", in: original), let address = mailbox(sender) {
            add("original sender", address)
        }
        if entries.isEmpty && errors.isEmpty {
            throw FeedError("the ARF report names no Source-IP, Reported-Domain or sender")
        }
        return (entries, errors)
    }

    /// Headers (unfolded, names lower-cased) and body of a message or MIME part.
    static func split(_ text: String) -> (headers: [(String, String)], body: String) {
        let end = text.range(of: "\n\n")
        let head = end.map { String(text[..<$0.lowerBound]) } ?? text
        let body = end.map { String(text[$0.upperBound...]) } ?? ""
        return (fields(head), body)
    }

    static func fields(_ text: String) -> [(String, String)] {
        var out: [(String, String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let f = line.first, f == " " || f == "\t", !out.isEmpty {
                out[out.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                out.append((line[..<colon].trimmingCharacters(in: .whitespaces).lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
        }
        return out
    }

    static func field(_ name: String, in fields: [(String, String)]) -> String? { fields.first { $0.0 == name }?.1 }

    static func parameter(_ name: String, of value: String) -> String? {
        for p in value.split(separator: ";").dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return kv[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    /// `Name <user@example.com>` or `user@example.com` → the address.
    static func mailbox(_ value: String) -> String? {
        if let open = value.lastIndex(of: "<"), let close = value.lastIndex(of: ">"), open < close {
            let inner = String(value[value.index(after: open)..<close])
            return inner.isEmpty ? nil : inner
        }
        let v = value.trimmingCharacters(in: .whitespaces)
        return v.contains("@") ? v : nil
    }

    /// RFC 5322 dates (`Thu, 8 Mar 2005 14:00:00 -0500`).
    static func mailDate(_ text: String) -> Int? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        for format in ["EEE, d MMM yyyy HH:mm:ss Z", "d MMM yyyy HH:mm:ss Z", "EEE, d MMM yyyy HH:mm Z"] {
            f.dateFormat = format
            if let d = f.date(from: text.components(separatedBy: " (").first ?? text) { return Int(d.timeIntervalSince1970) }
        }
        return nil
    }
}
