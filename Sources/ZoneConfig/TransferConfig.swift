import DNSWire
import Foundation
import ListingKeys

/// A TSIG key (RFC 8945) as `tsig-keygen` (BIND) prints it; `keymgr -t` (Knot) prints the same
/// name, algorithm and secret.
public struct TSIGKeyConfig: Sendable, Equatable {
    /// Lower-case key name, as written (no trailing dot).
    public var name: String
    public var algorithm: String
    public var secret: [UInt8]

    public init(name: String, algorithm: String, secret: [UInt8]) {
        self.name = name
        self.algorithm = algorithm
        self.secret = secret
    }

    /// The algorithms thurac signs and verifies with.
    public static let algorithms = ["hmac-sha256"]

    /// Reads `key "name" { algorithm hmac-sha256; secret "base64"; };` blocks (BIND syntax,
    /// `#`, `//` and `/* */` comments).
    public static func parse(_ text: String, file: String) throws(ConfigError) -> [TSIGKeyConfig] {
        var tokens = Tokens(text)
        var keys: [TSIGKeyConfig] = []
        func fail(_ why: String) -> ConfigError { ConfigError("\(file):\(tokens.line): \(why)") }
        while let word = tokens.next() {
            guard word == "key" else { throw fail("'key' expected, found \(quoted(word))") }
            guard let token = tokens.next(), let name = Tokens.unquoted(token) else { throw fail("a quoted key name expected") }
            guard (try? DomainName.wire(fromText: name)) != nil else { throw fail("\(quoted(name)) is not a domain name") }
            guard tokens.next() == "{" else { throw fail("'{' expected after the key name") }
            var algorithm: String?
            var secret: [UInt8]?
            while true {
                guard let item = tokens.next() else { throw fail("the key \(quoted(name)) is not closed") }
                if item == "}" { break }
                guard let value = tokens.next(), tokens.next() == ";" else { throw fail("'\(item) <value>;' expected") }
                switch item {
                case "algorithm":
                    let a = value.lowercased()
                    guard algorithms.contains(a) else {
                        throw fail("algorithm \(value) is not supported (\(algorithms.joined(separator: ", ")))")
                    }
                    algorithm = a
                case "secret":
                    guard let b64 = Tokens.unquoted(value), let data = Data(base64Encoded: b64), !data.isEmpty else {
                        throw fail("the secret of \(quoted(name)) is not base64")
                    }
                    secret = Array(data)
                default:
                    throw fail("unknown key setting \(quoted(item)) (expected algorithm, secret)")
                }
            }
            guard tokens.next() == ";" else { throw fail("';' expected after the key \(quoted(name))") }
            guard let algorithm, let secret else { throw fail("the key \(quoted(name)) needs an algorithm and a secret") }
            let lower = name.lowercased().hasSuffix(".") ? String(name.lowercased().dropLast()) : name.lowercased()
            guard !keys.contains(where: { $0.name == lower }) else { throw fail("the key \(quoted(name)) is defined twice") }
            keys.append(TSIGKeyConfig(name: lower, algorithm: algorithm, secret: secret))
        }
        return keys
    }
}

/// Who may transfer a zone and whom to tell of a new serial (SPEC §3 "Zone transfer").
public struct TransferConfig: Sendable, Equatable {
    /// Client addresses allowed to transfer (address, CIDR or range); empty: any address, if
    /// a key is required.
    public var allow: [ListingKey] = []
    /// Transfers must be signed with this key; NOTIFY is signed with it.
    public var key: String?
    /// Secondaries sent a NOTIFY on every serial change.
    public var notify: [(host: String, port: Int)] = []

    public init() {}

    /// Nobody may transfer a zone that names neither addresses nor a key.
    public var permitsAnyone: Bool { !allow.isEmpty || key != nil }

    public static func == (a: TransferConfig, b: TransferConfig) -> Bool {
        a.allow == b.allow && a.key == b.key && a.notify.map { "\($0.host):\($0.port)" } == b.notify.map { "\($0.host):\($0.port)" }
    }

    /// `host:port`, `[v6]:port`, or an address alone (port 53).
    static func endpoint(_ text: String) -> (host: String, port: Int)? {
        var host = text
        var port = 53
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { return nil }
                port = p
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]) else { return nil }
            port = p
        }
        guard (1...65535).contains(port), let k = try? KeySpec(parsing: host) else { return nil }
        switch k.key {
        case .ipv4(let f, let l) where f == l: return (host, port)
        case .ipv6(_, 128): return (host, port)
        default: return nil
        }
    }
}

/// Words, quoted strings and the punctuation `{ } ;` of a BIND-style file.
struct Tokens {
    let bytes: [UInt8]
    var i = 0
    var line = 1

    init(_ text: String) { bytes = Array(text.utf8) }

    static func unquoted(_ token: String) -> String? {
        token.count >= 2 && token.hasPrefix("\"") && token.hasSuffix("\"") ? String(token.dropFirst().dropLast()) : nil
    }

    mutating func next() -> String? {
        skipSpaceAndComments()
        guard i < bytes.count else { return nil }
        let c = bytes[i]
        if c == UInt8(ascii: "{") || c == UInt8(ascii: "}") || c == UInt8(ascii: ";") {
            i += 1
            return String(UnicodeScalar(c))
        }
        let start = i
        if c == UInt8(ascii: "\"") {
            i += 1
            while i < bytes.count, bytes[i] != UInt8(ascii: "\"") { i += 1 }
            i = min(i + 1, bytes.count)
        } else {
            while i < bytes.count, !Self.isSpace(bytes[i]), !"{};\"".utf8.contains(bytes[i]) { i += 1 }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }

    mutating func skipSpaceAndComments() {
        while i < bytes.count {
            if bytes[i] == 0x0A { line += 1 }
            if Self.isSpace(bytes[i]) {
                i += 1
            } else if bytes[i] == UInt8(ascii: "#") || (bytes[i] == UInt8(ascii: "/") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "/")) {
                while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            } else if bytes[i] == UInt8(ascii: "/") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i + 1 < bytes.count, !(bytes[i] == UInt8(ascii: "*") && bytes[i + 1] == UInt8(ascii: "/")) {
                    if bytes[i] == 0x0A { line += 1 }
                    i += 1
                }
                i = min(i + 2, bytes.count)
            } else {
                return
            }
        }
    }
}
