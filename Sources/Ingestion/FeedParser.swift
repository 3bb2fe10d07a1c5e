import Foundation
import ListingKeys

/// One report read from a feed.
public struct FeedEntry: Sendable, Equatable {
    public var line: Int
    public var key: KeySpec
    public var category: Category
    public var reason: String?
    /// Seconds; nil = the source's default.
    public var ttl: Int?
    /// When the reporter saw it (seconds since the epoch); nil = now.
    public var seen: Int?
}

/// A line that could not be used, and why (`file:line: reason`).
public struct FeedLineError: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// Feed formats of SPEC §4 handled so far. rbldnsd data files and ARF reports are still to come.
public enum FeedFormat: String, Sendable, CaseIterable {
    case plain, csv, jsonl, drop

    /// Guesses the format from the first meaningful line.
    public static func detect(_ text: String) -> FeedFormat {
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true).prefix(50) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix(";") { return .drop }  // Spamhaus DROP files open with ; comments
            if line.hasPrefix("{") { return .jsonl }
            let header = line.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if header.contains("key") { return .csv }
            if line.contains(" ; ") || line.hasSuffix(";") { return .drop }
            return .plain
        }
        return .plain
    }
}

public enum FeedParser {
    /// Parses a whole feed. Bad lines are reported and skipped; the good ones are returned.
    public static func parse(_ text: String, format: FeedFormat, defaultCategory: Category)
        -> (entries: [FeedEntry], errors: [FeedLineError])
    {
        var entries: [FeedEntry] = []
        var errors: [FeedLineError] = []
        var csvColumns: [String]? = nil
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || (format == .drop && line.hasPrefix(";")) { continue }
            do {
                switch format {
                case .plain:
                    // `key [reason...]`
                    let parts = line.split(separator: " ", maxSplits: 1)
                    let reason = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : nil
                    entries.append(
                        FeedEntry(
                            line: number, key: try KeySpec(parsing: String(parts[0])), category: defaultCategory,
                            reason: reason, ttl: nil, seen: nil))
                case .drop:
                    // `cidr ; SBLnnn`
                    let parts = line.split(separator: ";", maxSplits: 1)
                    let id = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
                    entries.append(
                        FeedEntry(
                            line: number, key: try KeySpec(parsing: String(parts[0])), category: defaultCategory,
                            reason: id.isEmpty ? nil : id, ttl: nil, seen: nil))
                case .csv:
                    let fields = splitCSV(line)
                    guard let columns = csvColumns else {
                        let header = fields.map { $0.lowercased() }
                        guard header.contains("key") else { throw KeyError("the CSV header needs a 'key' column") }
                        csvColumns = header
                        continue
                    }
                    var row: [String: String] = [:]
                    for (i, c) in columns.enumerated() where i < fields.count { row[c] = fields[i] }
                    entries.append(try entry(number, row, defaultCategory))
                case .jsonl:
                    guard let data = line.data(using: .utf8),
                        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                    else { throw KeyError("not a JSON object") }
                    var row: [String: String] = [:]
                    for (k, v) in object {
                        if let s = v as? String { row[k.lowercased()] = s } else if let n = v as? NSNumber { row[k.lowercased()] = n.stringValue }
                    }
                    entries.append(try entry(number, row, defaultCategory))
                }
            } catch let e as KeyError {
                errors.append(FeedLineError(line: number, message: e.description))
            } catch {
                errors.append(FeedLineError(line: number, message: "\(error)"))
            }
        }
        return (entries, errors)
    }

    static func entry(_ line: Int, _ row: [String: String], _ defaultCategory: Category) throws(KeyError) -> FeedEntry {
        guard let key = row["key"], !key.isEmpty else { throw KeyError("no key") }
        let category = try row["category"].flatMap { $0.isEmpty ? nil : $0 }.map { c throws(KeyError) in try Category(parsing: c) }
            ?? defaultCategory
        let ttl = try row["ttl"].flatMap { $0.isEmpty ? nil : $0 }.map { t throws(KeyError) in try DurationText.seconds(t) }
        var seen: Int? = nil
        if let s = row["seen"], !s.isEmpty {
            guard let t = ISOTime.parse(s) else { throw KeyError("'\(s)' is not an ISO 8601 time") }
            seen = t
        }
        let reason = row["reason"].flatMap { $0.isEmpty ? nil : $0 }
        return FeedEntry(line: line, key: try KeySpec(parsing: key), category: category, reason: reason, ttl: ttl, seen: seen)
    }

    /// RFC 4180 fields: commas, double quotes around fields, "" for a quote inside.
    static func splitCSV(_ line: String) -> [String] {
        var fields: [String] = []
        var cur = ""
        var quoted = false
        var it = line.makeIterator()
        while let c = it.next() {
            if quoted {
                if c == "\"" {
                    if let n = it.next() {
                        if n == "\"" { cur.append("\"") } else {
                            quoted = false
                            if n == "," { fields.append(cur); cur = "" } else { cur.append(n) }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    cur.append(c)
                }
            } else if c == "\"" && cur.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(cur.trimmingCharacters(in: .whitespaces))
                cur = ""
            } else {
                cur.append(c)
            }
        }
        fields.append(cur.trimmingCharacters(in: .whitespaces))
        return fields
    }
}

/// ISO 8601 instants as the CLI (`--now`) and feeds write them.
public enum ISOTime {
    public static func parse(_ text: String) -> Int? {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: text) { return Int(d.timeIntervalSince1970) }
        f.formatOptions = [.withFullDate]
        if let d = f.date(from: text) { return Int(d.timeIntervalSince1970) }
        return nil
    }
}
