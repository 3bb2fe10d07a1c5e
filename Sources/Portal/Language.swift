import Foundation

/// The portal's languages: Vietnamese first (the province's), English second.
public enum Language: String, CaseIterable, Sendable {
    case vi, en

    /// `?lang=` wins; then the first of ours in the browser's Accept-Language, by its weights;
    /// then Vietnamese.
    static func choose(query: String?, acceptLanguage: String?) -> (language: Language, explicit: Bool) {
        if let q = query, let l = Language(rawValue: q.lowercased()) { return (l, true) }
        var best: (Language, Double)? = nil
        for (order, item) in (acceptLanguage ?? "").split(separator: ",").enumerated() {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased(), let l = Language(rawValue: String(tag.prefix(2))),
                tag.count == 2 || tag.dropFirst(2).hasPrefix("-")
            else { continue }
            var weight = 1.0
            for p in parts.dropFirst() where p.hasPrefix("q=") { weight = Double(p.dropFirst(2)) ?? 0 }
            // Equal weights: the earlier one (a small tie-break that keeps the order).
            let w = weight - Double(order) * 1e-6
            if w > 0, best == nil || w > best!.1 { best = (l, w) }
        }
        return (best?.0 ?? .vi, false)
    }
}

/// The portal's words in one language, from `locales/<language>.json` (every template key in
/// both files: a test checks it).
struct Strings: Sendable {
    let table: [String: String]

    static func load(_ language: Language, from directory: URL) throws -> Strings {
        let url = directory.appendingPathComponent("\(language.rawValue).json")
        return Strings(table: try JSONDecoder().decode([String: String].self, from: Data(contentsOf: url)))
    }

    subscript(_ key: String) -> String { table[key] ?? key }

    /// `{0}`, `{1}`... in a phrase replaced by the values, in order.
    func format(_ key: String, _ values: String...) -> String {
        var s = self[key]
        for (i, v) in values.enumerated() { s = s.replacingOccurrences(of: "{\(i)}", with: v) }
        return s
    }
}

struct PortalError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
