import Foundation

/// A message or MIME part (RFC 5322, RFC 2045-2046): its header fields, unfolded, and its body
/// as received; multipart bodies are cut into parts and a `message/rfc822` body is parsed as
/// the message it holds. Written by hand: the job is narrow (find parts, decode text) and must
/// take hostile input (spam is built to confuse parsers) within fixed limits.
public struct MIMEEntity: Sendable {
    public var headers: [(name: String, value: String)]
    /// The body's raw octets (before Content-Transfer-Encoding is undone).
    public var body: ArraySlice<UInt8>
    /// Parts of a multipart body, or the one message inside a message/rfc822 body.
    public var children: [MIMEEntity]

    /// Limits against hostile nesting: deeper parts are not opened, further parts not cut.
    public static let maxDepth = 12
    public static let maxParts = 2000

    /// The first field of that (lower-case) name.
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
    public func headers(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }

    /// `type/subtype` in lower case (text/plain when absent, RFC 2045 §5.2) and its parameters.
    public var contentType: (type: String, parameters: [String: String]) {
        guard let v = header("content-type") else { return ("text/plain", [:]) }
        let (value, parameters) = Self.valueAndParameters(v)
        let type = value.lowercased()
        return (type.contains("/") ? type : "text/plain", parameters)
    }

    /// The body with its Content-Transfer-Encoding (base64, quoted-printable) undone.
    public var decodedBody: [UInt8] {
        switch (header("content-transfer-encoding") ?? "").trimmingWhitespace().lowercased() {
        case "base64": return TransferEncoding.base64(body)
        case "quoted-printable": return TransferEncoding.quotedPrintable(body)
        default: return Array(body)
        }
    }

    /// A text part's content as Unicode, from its charset (UTF-8 when unnamed or unknown).
    public var text: String { Charsets.decode(decodedBody, charset: contentType.parameters["charset"]) }

    /// Every entity of the tree, this one first (depth first, in order).
    public func walk(_ body: (MIMEEntity) -> Void) {
        body(self)
        for c in children { c.walk(body) }
    }

    // MARK: parsing

    /// Parses a message. Header lines without a colon end nothing: they are skipped, as most
    /// mail readers do; an mbox `From ` line at the top is left out.
    public static func parse(_ bytes: [UInt8]) -> MIMEEntity {
        var parts = 0
        return parse(bytes[...], depth: 0, parts: &parts)
    }

    /// Whether the octets look like a message at all: a first line that is a header field.
    public static func looksLikeMessage(_ bytes: [UInt8]) -> Bool {
        var lines = Lines(bytes[...])
        guard var first = lines.next() else { return false }
        if first.starts(with: Array("From ".utf8)) {
            guard let next = lines.next() else { return false }
            first = next
        }
        guard let colon = first.firstIndex(of: UInt8(ascii: ":")), colon > first.startIndex else { return false }
        return first[first.startIndex..<colon].allSatisfy { $0 > 32 && $0 < 127 }
    }

    static func parse(_ bytes: ArraySlice<UInt8>, depth: Int, parts: inout Int) -> MIMEEntity {
        var lines = Lines(bytes)
        var headers: [(name: String, value: String)] = []
        var bodyStart = bytes.endIndex
        var first = true
        while let line = lines.next() {
            defer { first = false }
            if line.isEmpty {
                bodyStart = lines.position
                break
            }
            if first && line.starts(with: Array("From ".utf8)) { continue }
            if (line.first == 32 || line.first == 9), !headers.isEmpty {
                // Folded (RFC 5322 §2.2.3): the line continues the field before it.
                headers[headers.count - 1].value += " " + Self.text(line).trimmingWhitespace()
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = Self.text(line[line.startIndex..<colon]).trimmingWhitespace().lowercased()
            let value = Self.text(line[(colon + 1)...]).trimmingWhitespace()
            if !name.isEmpty { headers.append((name, value)) }
        }
        var entity = MIMEEntity(headers: headers, body: bytes[bodyStart...], children: [])
        guard depth < maxDepth else { return entity }
        let (type, parameters) = entity.contentType
        if type.hasPrefix("multipart/"), let boundary = parameters["boundary"], !boundary.isEmpty {
            for part in Self.split(entity.body, boundary: Array(boundary.utf8)) {
                parts += 1
                guard parts <= maxParts else { break }
                entity.children.append(parse(part, depth: depth + 1, parts: &parts))
            }
        } else if type == "message/rfc822" || type == "message/global" {
            parts += 1
            if parts <= maxParts {
                let inner = entity.decodedBody
                entity.children.append(parse(inner[...], depth: depth + 1, parts: &parts))
            }
        }
        return entity
    }

    /// The parts between `--boundary` lines, up to `--boundary--` (RFC 2046 §5.1.1).
    static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var out: [ArraySlice<UInt8>] = []
        var lines = Lines(body)
        var start: Int? = nil
        var previousEnd = body.startIndex
        while let line = lines.next() {
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
                if closing || rest.allSatisfy({ $0 == 32 || $0 == 9 }) {
                    // The line break before a delimiter belongs to the delimiter.
                    if let s = start { out.append(body[s..<max(s, previousEnd)]) }
                    if closing { return out }
                    start = lines.position
                    previousEnd = lines.position
                    continue
                }
            }
            previousEnd = line.endIndex
        }
        if let s = start, s < body.endIndex { out.append(body[s..<body.endIndex]) }
        return out
    }

    /// `value; name=param; name2="quoted"` (RFC 2045 §5.1); names lower-cased.
    static func valueAndParameters(_ v: String) -> (String, [String: String]) {
        var parameters: [String: String] = [:]
        var pieces: [String] = []
        var current = ""
        var quoted = false
        for c in v {
            if c == "\"" { quoted.toggle() }
            if c == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        pieces.append(current)
        for p in pieces.dropFirst() {
            guard let eq = p.firstIndex(of: "=") else { continue }
            let name = p[..<eq].trimmingWhitespace().lowercased()
            var value = p[p.index(after: eq)...].trimmingWhitespace()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            if !name.isEmpty && parameters[name] == nil { parameters[name] = value }
        }
        return (pieces[0].trimmingWhitespace(), parameters)
    }

    /// Header octets as text: UTF-8 where valid (RFC 6532), else Latin-1, octet for octet.
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return String(bytes.map { Character(Unicode.Scalar($0)) })
    }
}

/// Lines of a byte range, without their CR LF or LF.
struct Lines: IteratorProtocol {
    let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    mutating func next() -> ArraySlice<UInt8>? {
        guard position < bytes.endIndex else { return nil }
        let start = position
        var end = start
        while end < bytes.endIndex && bytes[end] != 10 { end += 1 }
        position = end < bytes.endIndex ? end + 1 : end
        var lineEnd = end
        if lineEnd > start && bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
        return bytes[start..<lineEnd]
    }
}
