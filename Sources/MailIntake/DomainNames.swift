import Foundation

/// IDNA (RFC 5891) as far as a blocklist needs it: a Unicode host name to its A-labels
/// (`xn--` + Punycode, RFC 3492), labels lower-cased and NFC-normalised first. Written here
/// because Foundation has no IDNA and the encoding is small; the full UTS #46 mapping tables
/// are not applied (a name spammers write in odd code points still gets one stable form).
public enum IDNA {
    public static func asciiName(_ host: String) -> String? {
        var labels: [String] = []
        for label in host.precomposedStringWithCanonicalMapping.lowercased().split(separator: ".", omittingEmptySubsequences: false) {
            if label.allSatisfy(\.isASCII) {
                labels.append(String(label))
            } else {
                guard let p = punycode(String(label)) else { return nil }
                labels.append("xn--" + p)
            }
        }
        let name = labels.joined(separator: ".")
        return name.utf8.count <= 253 ? name : nil
    }

    /// RFC 3492 §6.3 encoding.
    static func punycode(_ input: String) -> String? {
        let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = scalars.filter { $0 < 0x80 }.map { Character(Unicode.Scalar(UInt8($0))) }
        let basic = output.count
        var handled = basic
        if basic > 0 { output.append("-") }
        var n = 0x80
        var delta = 0
        var bias = 72
        func digit(_ d: Int) -> Character { Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22))) }
        func adapt(_ delta: Int, _ count: Int, _ first: Bool) -> Int {
            var d = first ? delta / damp : delta / 2
            d += d / count
            var k = 0
            while d > ((base - tMin) * tMax) / 2 {
                d /= base - tMin
                k += base
            }
            return k + (base - tMin + 1) * d / (d + skew)
        }
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { break }
            guard (m - n) <= (Int.max - delta) / (handled + 1) else { return nil }
            delta += (m - n) * (handled + 1)
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basic)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(output)
    }
}

/// The Public Suffix List (publicsuffix.org; Debian's `publicsuffix` package ships it): which
/// part of a name is a public suffix, so that the name a registrant holds (`example.com.vn`
/// for `www.example.com.vn`) is what gets reported.
public struct PublicSuffixList: Sendable {
    public static let debianPath = "/usr/share/publicsuffix/public_suffix_list.dat"
    var exact: Set<String> = []
    var wildcards: Set<String> = []
    var exceptions: Set<String> = []

    public init(path: String = Self.debianPath) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw IntakeError("cannot read the Public Suffix List at \(path) (Debian: apt-get install publicsuffix)")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), name: path)
    }

    public init(text: String, name: String = "<list>") throws {
        for raw in text.split(whereSeparator: \.isNewline) {
            // A rule is the first word of its line; `//` starts a comment.
            guard let word = raw.split(whereSeparator: \.isWhitespace).first, !word.hasPrefix("//") else { continue }
            var rule = String(word)
            let exception = rule.hasPrefix("!")
            if exception { rule.removeFirst() }
            let wildcard = rule.hasPrefix("*.")
            if wildcard { rule.removeFirst(2) }
            guard let ascii = IDNA.asciiName(rule) else { continue }
            if exception { exceptions.insert(ascii) } else if wildcard { wildcards.insert(ascii) } else { exact.insert(ascii) }
        }
        guard exact.count > 100 else { throw IntakeError("\(name) is not a Public Suffix List (\(exact.count) rules)") }
    }

    /// The registrable domain (the public suffix and one label more), nil for a public suffix
    /// itself or a name of one label.
    public func registrableDomain(_ name: String) -> String? {
        let labels = name.split(separator: ".").map(String.init)
        guard labels.count >= 2 else { return nil }
        var suffixStart = labels.count - 1  // the default rule `*`: the last label
        for i in 0..<labels.count {
            let candidate = labels[i...].joined(separator: ".")
            if exceptions.contains(candidate) {
                suffixStart = i + 1
                break
            }
            if exact.contains(candidate) || (i + 1 < labels.count && wildcards.contains(labels[(i + 1)...].joined(separator: "."))) {
                suffixStart = i
                break
            }
        }
        guard suffixStart >= 1 else { return nil }
        return labels[(suffixStart - 1)...].joined(separator: ".")
    }
}

/// Host names in the links of a text or HTML body, as written (a shortener's or a redirector's
/// own name, not where it leads; `user@` and ports dropped; HTML character references undone).
public enum LinkHosts {
    /// At most `limit` distinct host names, in the order they appear.
    public static func hosts(in text: String, html: Bool, limit: Int) -> [String] {
        let body = html ? decodeCharacterReferences(text) : text
        var out: [String] = []
        var seen = Set<String>()
        let lower = Array(body.lowercased().unicodeScalars)
        let scalars = Array(body.unicodeScalars)
        guard lower.count == scalars.count else { return [] }
        var i = 0
        let schemes: [[Unicode.Scalar]] = ["http://", "https://", "hxxp://", "hxxps://", "www."].map { Array($0.unicodeScalars) }
        while i < lower.count && out.count < limit {
            var matched: [Unicode.Scalar]? = nil
            if lower[i] == "h" || lower[i] == "w" {
                for s in schemes where i + s.count <= lower.count && Array(lower[i..<(i + s.count)]) == s {
                    // `www.` only at the start of a word.
                    if s.first == "w" && i > 0 && (lower[i - 1].properties.isAlphabetic || lower[i - 1] == "." || lower[i - 1] == "/") { continue }
                    matched = s
                    break
                }
            }
            guard let scheme = matched else {
                i += 1
                continue
            }
            var j = scheme.first == "w" ? i : i + scheme.count
            var authority: [Unicode.Scalar] = []
            while j < scalars.count, !Self.ends(scalars[j]) {
                authority.append(scalars[j])
                j += 1
            }
            i = max(j, i + 1)
            var host = String(String.UnicodeScalarView(authority))
            if let at = host.lastIndex(of: "@") { host = String(host[host.index(after: at)...]) }
            if let colon = host.firstIndex(of: ":") { host = String(host[..<colon]) }
            host = host.removingPercentEncoding ?? host
            while host.hasSuffix(".") { host.removeLast() }
            guard let ascii = IDNA.asciiName(host), Self.isHostName(ascii), seen.insert(ascii).inserted else { continue }
            out.append(ascii)
        }
        return out
    }

    static func ends(_ c: Unicode.Scalar) -> Bool {
        c.properties.isWhitespace || "/?#\\\"'<>()[]{}|^`,;".unicodeScalars.contains(c)
    }

    /// A name of at least two labels of letters, digits and hyphens (not an address).
    static func isHostName(_ s: String) -> Bool {
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.count <= 63 }) else { return false }
        guard s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else { return false }
        return !(labels.last!.allSatisfy(\.isNumber))
    }

    /// `&amp;`, `&#46;`, `&#x2E;` and the few named references links use.
    static func decodeCharacterReferences(_ s: String) -> String {
        guard s.contains("&") else { return s }
        let named: [String: String] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "period": ".", "colon": ":", "sol": "/"]
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semi = after.prefix(12).firstIndex(of: ";") {
                let ref = after[..<semi]
                var replacement: String? = named[ref.lowercased()]
                if ref.hasPrefix("#") {
                    let num = ref.dropFirst()
                    let value = num.lowercased().hasPrefix("x") ? UInt32(num.dropFirst(), radix: 16) : UInt32(num)
                    replacement = value.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                }
                if let r = replacement {
                    out += r
                    rest = after[after.index(after: semi)...]
                    continue
                }
            }
            out += "&"
            rest = after
        }
        return out + rest
    }
}
