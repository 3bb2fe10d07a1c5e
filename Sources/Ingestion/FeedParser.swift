import Foundation
import ListingKeys
import Store

/// One report read from a feed, with the line it came from (0 when the format has none).
public struct FeedEntry: Sendable, Equatable {
    public var line: Int
    public var report: ReportInput

    public init(
        line: Int, key: KeySpec, category: Category, reason: String?, evidence: String? = nil, ttl: Int? = nil,
        seen: Int? = nil
    ) {
        self.line = line
        report = ReportInput(key: key, category: category, reason: reason, evidence: evidence, ttl: ttl, seen: seen)
    }
}

/// A line that could not be used, and why (`file:line: reason`).
public struct FeedLineError: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { "line \(line): \(message)" }
}

/// Feed formats of SPEC §4.
public enum FeedFormat: String, Sendable, CaseIterable {
    case plain, csv, jsonl, drop, rbldnsd, arf

    /// Guesses the format from the first meaningful lines.
    public static func detect(_ head: ArraySlice<UInt8>) -> FeedFormat {
        let text = String(decoding: head, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(200)
        // ARF: a mail message whose MIME structure names a feedback report.
        if text.range(of: "message/feedback-report", options: .caseInsensitive) != nil,
            let first = lines.first, first.contains(":"), !first.hasPrefix("{")
        {
            return .arf
        }
        for raw in lines {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            // rbldnsd data files: `$` directives, `:code:text` default values, `!` exclusions,
            // or entries followed by a `:127.0.0.x:` value.
            if line.hasPrefix("$") || line.hasPrefix(":") || line.hasPrefix("!") { return .rbldnsd }
            if line.hasPrefix(";") { return .drop }  // Spamhaus DROP files open with ; comments
            if line.hasPrefix("{") { return .jsonl }
            let header = line.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if header.contains("key") { return .csv }
            if line.contains(" ; ") || line.hasSuffix(";") { return .drop }
            if line.contains(" :1") || line.contains("\t:1") { return .rbldnsd }
            return .plain
        }
        return .plain
    }
}

/// Reads the line-oriented formats (plain, CSV, JSON lines, DROP) one line at a time, from
/// bytes: a bare address goes from the feed to the store without becoming a Swift string first.
public struct FeedLineParser {
    public let format: FeedFormat
    let defaultCategory: Category
    var columns: CSVColumns? = nil
    /// The CSV header was refused: that was said once, and no later line can be read.
    var headerRefused = false
    var fields: [(start: Int, end: Int, quoted: Bool)] = []

    struct CSVColumns {
        var key: Int
        var category: Int?
        var reason: Int?
        var ttl: Int?
        var seen: Int?
        var evidence: Int?
    }

    public init(format: FeedFormat, defaultCategory: Category) {
        precondition(format != .rbldnsd && format != .arf, "not a line format")
        self.format = format
        self.defaultCategory = defaultCategory
    }

    /// The entry on a line; nil for blank lines, comments and the CSV header.
    public mutating func parse(_ raw: UnsafeBufferPointer<UInt8>, line: Int) throws(KeyError) -> FeedEntry? {
        let line_ = Self.trimmed(raw)
        guard !line_.isEmpty, line_[0] != UInt8(ascii: "#") else { return nil }
        switch format {
        case .plain:
            // `key [reason...]`
            let cut = line_.firstIndex { $0 == 32 || $0 == 9 } ?? line_.count
            let reason = Self.text(Self.trimmed(UnsafeBufferPointer(rebasing: line_[cut...])))
            return FeedEntry(
                line: line, key: try Self.key(UnsafeBufferPointer(rebasing: line_[..<cut])), category: defaultCategory,
                reason: reason)
        case .drop:
            // `cidr ; SBLnnn`
            if line_[0] == UInt8(ascii: ";") { return nil }
            let cut = line_.firstIndex(of: UInt8(ascii: ";")) ?? line_.count
            let id = Self.text(Self.trimmed(UnsafeBufferPointer(rebasing: line_[cut...].dropFirst())))
            return FeedEntry(
                line: line, key: try Self.key(Self.trimmed(UnsafeBufferPointer(rebasing: line_[..<cut]))),
                category: defaultCategory, reason: id)
        case .csv:
            splitCSV(line_)
            guard let c = columns else {
                if headerRefused { return nil }
                do { try readHeader(line_) } catch {
                    headerRefused = true
                    throw error
                }
                return nil
            }
            guard c.key < fields.count, fields[c.key].end > fields[c.key].start else { throw KeyError("no key") }
            let keyField = fields[c.key]
            let key: KeySpec
            if keyField.quoted {
                key = try KeySpec(parsing: field(line_, c.key) ?? "")
            } else {
                key = try Self.key(UnsafeBufferPointer(rebasing: line_[keyField.start..<keyField.end]))
            }
            return try entry(
                line: line, key: key, category: c.category.flatMap { field(line_, $0) }, reason: c.reason.flatMap { field(line_, $0) },
                ttl: c.ttl.flatMap { field(line_, $0) }, seen: c.seen.flatMap { field(line_, $0) },
                evidence: c.evidence.flatMap { field(line_, $0) })
        case .jsonl:
            guard let object = try? JSONSerialization.jsonObject(with: Data(line_)) as? [String: Any] else {
                throw KeyError("not a JSON object")
            }
            var row: [String: String] = [:]
            for (k, v) in object {
                if let s = v as? String {
                    row[k.lowercased()] = s
                } else if let n = v as? NSNumber {
                    row[k.lowercased()] = n.stringValue
                }
            }
            guard let k = row["key"], !k.isEmpty else { throw KeyError("no key") }
            return try entry(
                line: line, key: try KeySpec(parsing: k), category: row["category"], reason: row["reason"],
                ttl: row["ttl"], seen: row["seen"], evidence: row["evidence"])
        case .rbldnsd, .arf:
            return nil
        }
    }

    func entry(
        line: Int, key: KeySpec, category: String?, reason: String?, ttl: String?, seen: String?, evidence: String?
    ) throws(KeyError) -> FeedEntry {
        let c = try category.flatMap { $0.isEmpty ? nil : $0 }.map { c throws(KeyError) in try Category(parsing: c) }
        let t = try ttl.flatMap { $0.isEmpty ? nil : $0 }.map { t throws(KeyError) in try DurationText.seconds(t) }
        var s: Int? = nil
        if let seen, !seen.isEmpty {
            guard let v = ISOTime.parse(seen) else { throw KeyError("\(quoted(seen)) is not an ISO 8601 time") }
            s = v
        }
        return FeedEntry(
            line: line, key: key, category: c ?? defaultCategory, reason: reason.flatMap { $0.isEmpty ? nil : $0 },
            evidence: evidence.flatMap { $0.isEmpty ? nil : $0 }, ttl: t, seen: s)
    }

    mutating func readHeader(_ line: UnsafeBufferPointer<UInt8>) throws(KeyError) {
        var names: [String: Int] = [:]
        for i in fields.indices { names[(field(line, i) ?? "").lowercased()] = names[(field(line, i) ?? "").lowercased()] ?? i }
        guard let key = names["key"] else {
            let found = fields.indices.map { field(line, $0) ?? "" }.prefix(10).map { quoted($0, limit: 20) }.joined(separator: ", ")
            throw KeyError("the CSV header needs a 'key' column (it has \(found)); no line of this feed can be read")
        }
        columns = CSVColumns(
            key: key, category: names["category"], reason: names["reason"], ttl: names["ttl"], seen: names["seen"],
            evidence: names["evidence"])
    }

    /// RFC 4180 fields: commas, double quotes around a field, "" for a quote inside. Records
    /// where each field is; `field` decodes one on demand.
    mutating func splitCSV(_ s: UnsafeBufferPointer<UInt8>) {
        fields.removeAll(keepingCapacity: true)
        var i = 0
        while true {
            while i < s.count && (s[i] == 32 || s[i] == 9) { i += 1 }
            if i < s.count && s[i] == UInt8(ascii: "\"") {
                let start = i + 1
                i = start
                while i < s.count {
                    if s[i] == UInt8(ascii: "\"") {
                        if i + 1 < s.count && s[i + 1] == UInt8(ascii: "\"") { i += 2; continue }
                        break
                    }
                    i += 1
                }
                fields.append((start, min(i, s.count), true))
                while i < s.count && s[i] != UInt8(ascii: ",") { i += 1 }
            } else {
                let start = i
                while i < s.count && s[i] != UInt8(ascii: ",") { i += 1 }
                var end = i
                while end > start && (s[end - 1] == 32 || s[end - 1] == 9) { end -= 1 }
                fields.append((start, end, false))
            }
            if i >= s.count { return }
            i += 1  // past the comma
        }
    }

    func field(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> String? {
        guard i < fields.count else { return nil }
        let f = fields[i]
        let text = String(decoding: UnsafeBufferPointer(rebasing: s[f.start..<f.end]), as: UTF8.self)
        return f.quoted ? text.replacingOccurrences(of: "\"\"", with: "\"") : text
    }

    static func key(_ bytes: UnsafeBufferPointer<UInt8>) throws(KeyError) -> KeySpec {
        try KeySpec(parsingBytes: bytes)
    }

    static func trimmed(_ s: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var a = 0
        var b = s.count
        while a < b && (s[a] == 32 || s[a] == 9 || s[a] == 13) { a += 1 }
        while b > a && (s[b - 1] == 32 || s[b - 1] == 9 || s[b - 1] == 13) { b -= 1 }
        return UnsafeBufferPointer(rebasing: s[a..<b])
    }

    static func text(_ s: UnsafeBufferPointer<UInt8>) -> String? {
        s.isEmpty ? nil : String(decoding: s, as: UTF8.self)
    }
}
