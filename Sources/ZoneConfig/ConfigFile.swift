import DNSWire
import Foundation
import ListingKeys
import Listings
import Publishing
import RateLimiting
import Store
import TOMLKit

/// The zone configuration (SPEC §4 "Zones/"): which lists are served under which names, with
/// which return codes and TXT templates, the publication policy, TTLs and where things listen.
/// TOML, read with TOMLKit (toml++); every key is checked, so a typo is an error, not a default.
public struct ThuracConfig: Sendable {
    public var zones: [ZoneDefinition] = ZoneDefinition.defaults
    public var policy = Policy()
    /// Seconds expired and delisted records stay restorable (never less than 7 days).
    public var retention = 30 * 86400
    /// Default grace of a delisting against re-listing by untrusted sources.
    public var delistingGrace = 7 * 86400
    public var database: String?
    public var dnsListen: [String] = ["127.0.0.1:5300"]
    public var httpListen = "127.0.0.1:8053"
    /// Reverse proxies in front of the HTTP listener (`serve.trusted_proxies`): from them, the
    /// client is the address their `X-Forwarded-For` names (rate limits, public reporters).
    public var trustedProxies: [ClientPrefix] = []
    public var ttl: UInt32 = 2100
    public var negativeTTL: UInt32 = 300
    /// TSIG keys by name (`[transfer] keys`, a file in `tsig-keygen` format).
    public var keys: [String: TSIGKeyConfig] = [:]
    /// Zone transfer settings by zone name; a zone without any is not transferred.
    public var transfers: [String: TransferConfig] = [:]
    /// Spam reports by e-mail (`thurac intake`).
    public var intake = IntakeConfig()
    /// UDP response rate limiting (`[rrl]`, docs/rate-limiting.md).
    public var rateLimit = RateLimitSettings.shipped
    /// Query ACL rules for every zone, after each zone's own (`[acl] rules`); already appended
    /// to each `ZoneDefinition.acl`.
    public var acl: [QueryRule] = []

    public init() {}

    /// Where `thurac` looks when `--config` is not given.
    public static let defaultPath = "Zones/thurac.toml"

    /// Reads `path`; skeleton files are found relative to its directory.
    public static func load(path: String) throws(ConfigError) -> ThuracConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigError("\(path): cannot read the file") }
        return try load(contents: Array(data), path: path)
    }

    /// The same from the file's contents, already read (`path` names it in errors and is where
    /// skeleton files are looked for).
    public static func load(contents: [UInt8], path: String) throws(ConfigError) -> ThuracConfig {
        guard let text = String(validating: contents, as: UTF8.self) else { throw ConfigError("\(path): not UTF-8 text") }
        if let (line, why) = TOMLPrecheck.refusal(contents) { throw ConfigError("\(path):\(line): \(why)") }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw ConfigError("\(path):\(e.source.begin.line): \(oneLine(e.description))")
        } catch {
            throw ConfigError("\(path): \(oneLine("\(error)"))")
        }
        let directory = (path as NSString).deletingLastPathComponent
        do {
            return try parse(table, directory: directory.isEmpty ? "." : directory)
        } catch let e as ConfigError {
            throw ConfigError("\(path): \(oneLine(e.description))")
        } catch {
            throw ConfigError("\(path): \(oneLine("\(error)"))")
        }
    }

    static func parse(_ root: TOMLTable, directory: String) throws -> ThuracConfig {
        var c = ThuracConfig()
        let top = Section(root, "")
        try top.only(["store", "serve", "policy", "transfer", "zone", "intake", "rrl", "acl"])
        if let acl = try top.table("acl") {
            try acl.only(["rules"])
            c.acl = try QueryRuleSection.parse(acl, "rules")
        }
        if let rrl = try top.table("rrl") { c.rateLimit = try RateLimitSection.parse(rrl) }
        if let transfer = try top.table("transfer") {
            try transfer.only(["keys"])
            if let file = try transfer.string("keys") {
                let path = file.hasPrefix("/") ? file : directory + "/" + file
                guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                    throw ConfigError("transfer.keys: cannot read \(path)")
                }
                for k in try TSIGKeyConfig.parse(text, file: path) { c.keys[k.name] = k }
            }
        }
        if let store = try top.table("store") {
            try store.only(["path", "retention"])
            c.database = try store.string("path")
            if let r = try store.duration("retention") {
                guard r >= ListingStore.minimumRetention else {
                    throw ConfigError("store.retention must be at least 7d (the directive's restore window)")
                }
                c.retention = r
            }
        }
        if let serve = try top.table("serve") {
            try serve.only(["dns", "http", "ttl", "negative_ttl", "trusted_proxies"])
            if let proxies = try serve.strings("trusted_proxies") {
                c.trustedProxies = try proxies.map { p in
                    do { return try ClientPrefix(parsing: p) } catch { throw ConfigError("serve.trusted_proxies: \(error)") }
                }
            }
            if let dns = try serve.strings("dns") { c.dnsListen = dns }
            if let http = try serve.string("http") { c.httpListen = http }
            if let t = try serve.duration("ttl") { c.ttl = UInt32(t) }
            if let t = try serve.duration("negative_ttl") { c.negativeTTL = UInt32(t) }
        }
        if let policy = try top.table("policy") {
            try policy.only(["public_reporters", "public_window", "delisting_grace"])
            if let n = try policy.int("public_reporters") {
                guard n >= 1 else { throw ConfigError("policy.public_reporters must be at least 1") }
                c.policy.publicReporters = n
            }
            if let w = try policy.duration("public_window") { c.policy.publicWindow = w }
            if let g = try policy.duration("delisting_grace") { c.delistingGrace = g }
        }
        if let intake = try top.table("intake") {
            try intake.only(["trusted_relays", "mailboxes", "max_domains", "per_hour", "public_suffix_list"])
            if let relays = try intake.strings("trusted_relays") {
                for r in relays {
                    let t = r.trimmingCharacters(in: .whitespaces).lowercased()
                    let name = t.hasPrefix(".") ? String(t.dropFirst()) : t
                    guard (try? KeySpec(parsing: t)) != nil || (name.contains(".") && (try? DomainName.wire(fromText: name)) != nil) else {
                        throw ConfigError("intake.trusted_relays: \(quoted(r)) is not an address, a CIDR or a host name")
                    }
                }
                c.intake.trustedRelays = relays
            }
            if let boxes = try intake.table("mailboxes") {
                for box in boxes.keys {
                    guard box.contains("@"), let source = try boxes.string(box) else {
                        throw ConfigError("intake.mailboxes: \"\(box)\" = \"SOURCE\" (a mailbox and a source name) is expected")
                    }
                    c.intake.mailboxes[box.lowercased()] = source
                }
            }
            if let n = try intake.int("max_domains") {
                guard n >= 1 else { throw ConfigError("intake.max_domains must be at least 1") }
                c.intake.maxDomains = n
            }
            if let n = try intake.int("per_hour") {
                guard n >= 1 else { throw ConfigError("intake.per_hour must be at least 1") }
                c.intake.perHour = n
            }
            if let path = try intake.string("public_suffix_list") {
                c.intake.publicSuffixList = path.hasPrefix("/") ? path : directory + "/" + path
            }
        }
        if let zones = try top.tables("zone") {
            c.zones = []
            for (i, z) in zones.enumerated() {
                let section = z.renamed("zone[\(i + 1)]")
                let zone = try ZoneSection.parse(section, directory: directory)
                if c.zones.contains(where: { $0.name == zone.name }) { throw ConfigError("zone \(zone.name) is configured twice") }
                c.zones.append(zone)
                if let transfer = try ZoneSection.transfer(section, keys: c.keys) { c.transfers[zone.name] = transfer }
            }
        }
        // Zone rules first, then the global ones: the first rule that matches decides.
        for i in c.zones.indices { c.zones[i].acl += c.acl }
        return c
    }
}

/// `[intake]`: what `thurac intake` trusts and where its reports go (docs/intake.md).
public struct IntakeConfig: Sendable, Equatable {
    /// The province's own mail relays: addresses, CIDRs, host names (`.example.vn`: below it).
    public var trustedRelays: [String] = []
    /// Recipient mailbox → source name its reports count as.
    public var mailboxes: [String: String] = [:]
    public var maxDomains = 50
    public var perHour = 20
    public var publicSuffixList = "/usr/share/publicsuffix/public_suffix_list.dat"

    public init() {}
}

/// `[rrl]`: BIND's `rate-limit` / NSD's `rrl-*` settings under their snake_case names.
enum RateLimitSection {
    static let keys = [
        "responses_per_second", "nxdomains_per_second", "errors_per_second", "window", "slip", "ipv4_prefix_length",
        "ipv6_prefix_length", "exempt", "log_only",
    ]

    static func parse(_ t: Section) throws -> RateLimitSettings {
        try t.only(keys)
        var r = RateLimitSettings.shipped
        if let n = try t.int("responses_per_second") { r.responsesPerSecond = n }
        if let n = try t.int("nxdomains_per_second") { r.nxdomainsPerSecond = n }
        if let n = try t.int("errors_per_second") { r.errorsPerSecond = n }
        // Seconds as BIND and NSD write it, or a duration such as "15s".
        if let w = t.keys.contains("window") && (try? t.int("window")) != nil ? try t.int("window") : try t.duration("window") { r.window = w }
        if let n = try t.int("slip") { r.slip = n }
        if let n = try t.int("ipv4_prefix_length") { r.ipv4PrefixLength = n }
        if let n = try t.int("ipv6_prefix_length") { r.ipv6PrefixLength = n }
        if let list = try t.strings("exempt") {
            r.exempt = try list.map { e in
                do { return try ClientPrefix(parsing: e) } catch { throw ConfigError("rrl.exempt: \(error)") }
            }
        }
        if let b = try t.bool("log_only") { r.logOnly = b }
        do { try r.validate() } catch { throw ConfigError("\(error)") }
        return r
    }
}

/// Query ACL rules: `[{ from = "CIDR or address", action = "allow|refuse|ignore|empty|127.x.y.z" }, ...]`.
enum QueryRuleSection {
    static func parse(_ t: Section, _ key: String) throws -> [QueryRule] {
        guard let rules = try t.tables(key) else { return [] }
        return try rules.map { r in
            try r.only(["from", "action"])
            guard let from = try r.string("from") else { throw ConfigError("\(r.path).from is missing") }
            guard let word = try r.string("action") else { throw ConfigError("\(r.path).action is missing") }
            let prefix: ClientPrefix
            do { prefix = try ClientPrefix(parsing: from) } catch { throw ConfigError("\(r.path).from: \(error)") }
            let action: QueryRule.Action
            switch word {
            case "allow": action = .allow
            case "refuse": action = .refuse
            case "ignore": action = .ignore
            case "empty": action = .empty
            default:
                var a = in_addr()
                guard inet_pton(AF_INET, word, &a) == 1, word.hasPrefix("127.") else {
                    throw ConfigError(
                        "\(r.path).action: \(quoted(word)) (expected allow, refuse, ignore, empty or an answer in 127.0.0.0/8 such as 127.255.255.254)")
                }
                action = .answer(UInt32(bigEndian: a.s_addr))
            }
            return QueryRule(from: prefix, action: action)
        }
    }
}

enum ZoneSection {
    static func parse(_ z: Section, directory: String) throws -> ZoneDefinition {
        try z.only(["name", "lists", "skeleton", "ttl", "codes", "templates", "allow_transfer", "transfer_key", "notify", "acl"])
        guard let name = try z.string("name") else { throw ConfigError("\(z.path).name is missing") }
        guard (try? DomainName.wire(fromText: name)) != nil, name.contains(".") else {
            throw ConfigError("\(z.path).name: \(quoted(name)) is not a domain name")
        }
        guard let lists = try z.string("lists") else { throw ConfigError("\(z.path).lists is missing") }
        let role: ZoneRole
        switch lists {
        case "addresses": role = .addresses
        case "domains": role = .domains
        case "hashed-addresses": role = .hashedAddresses
        case "allowlist": role = .allowlist
        default:
            throw ConfigError("\(z.path).lists: \(quoted(lists)) (expected addresses, domains, hashed-addresses or allowlist)")
        }
        var zone = ZoneDefinition(name: name.hasSuffix(".") ? String(name.dropLast()) : name, role: role)
        if let t = try z.duration("ttl") { zone.ttl = UInt32(t) }
        zone.acl = try QueryRuleSection.parse(z, "acl")
        if let skeleton = try z.string("skeleton") {
            let path = skeleton.hasPrefix("/") ? skeleton : directory + "/" + skeleton
            zone.apex = try ZoneSkeleton.load(path: path, origin: zone.name)
        }
        if let codes = try z.table("codes") {
            for key in codes.keys {
                let category = try Category(parsing: key)
                guard let text = try codes.string(key), let a = ipv4(text) else {
                    throw ConfigError("\(codes.path).\(key): an IPv4 address in 127.0.0.0/8 is expected")
                }
                // RFC 5782 §2.1 and SPEC §3: clients read these as errors, never as listings.
                guard a >> 24 == 127, a != 0x7F00_0001, a & 0xFFFF_FF00 != 0x7FFF_FF00 else {
                    throw ConfigError("\(codes.path).\(key): \(text) is not a usable return code (127.0.0.2 to 127.255.254.255)")
                }
                zone.codes[category] = a
            }
        }
        if let templates = try z.table("templates") {
            for key in templates.keys {
                let category = try Category(parsing: key)
                guard let text = try templates.string(key) else { throw ConfigError("\(templates.path).\(key): text expected") }
                zone.templates[category] = text
            }
        }
        return zone
    }

    /// `allow_transfer`, `transfer_key`, `notify`; nil when the zone names none of them.
    static func transfer(_ z: Section, keys: [String: TSIGKeyConfig]) throws -> TransferConfig? {
        var t = TransferConfig()
        for text in try z.strings("allow_transfer") ?? [] {
            guard let k = try? KeySpec(parsing: text), !k.excluded else {
                throw ConfigError("\(z.name("allow_transfer")): \(quoted(text)) is not an address, CIDR or range")
            }
            switch k.key {
            case .ipv4, .ipv6: t.allow.append(k.key)
            default: throw ConfigError("\(z.name("allow_transfer")): \(quoted(text)) is not an address, CIDR or range")
            }
        }
        if let name = try z.string("transfer_key") {
            let lower = name.lowercased().hasSuffix(".") ? String(name.lowercased().dropLast()) : name.lowercased()
            guard keys[lower] != nil else {
                throw ConfigError("\(z.name("transfer_key")): no key \(quoted(name)) in the [transfer] keys file")
            }
            t.key = lower
        }
        for text in try z.strings("notify") ?? [] {
            guard let e = TransferConfig.endpoint(text) else {
                throw ConfigError("\(z.name("notify")): \(quoted(text)) is not an address with an optional port (192.0.2.1:53, [2001:db8::1]:53)")
            }
            t.notify.append(e)
        }
        return t.permitsAnyone || !t.notify.isEmpty ? t : nil
    }

    static func ipv4(_ text: String) -> UInt32? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { b -> UInt32? in
            guard let k = try? KeySpec(parsingBytes: UnsafeBufferPointer(b)), case .ipv4(let f, let l) = k.key, f == l else {
                return nil
            }
            return f
        }
    }
}

/// A TOML table with the path that names it in error messages.
struct Section {
    let table: TOMLTable
    let path: String

    init(_ table: TOMLTable, _ path: String) {
        self.table = table
        self.path = path
    }

    func renamed(_ p: String) -> Section { Section(table, p) }

    var keys: [String] { table.keys }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func only(_ allowed: [String]) throws {
        for k in table.keys where !allowed.contains(k) {
            throw ConfigError("unknown setting \(quoted(name(k))) (expected one of: \(allowed.joined(separator: ", ")))")
        }
    }

    func string(_ key: String) throws -> String? {
        guard let v = table[key] else { return nil }
        guard let s = v.string else { throw ConfigError("\(name(key)) must be a string") }
        return s
    }

    func int(_ key: String) throws -> Int? {
        guard let v = table[key] else { return nil }
        guard let n = v.int else { throw ConfigError("\(name(key)) must be an integer") }
        return n
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = table[key] else { return nil }
        guard let b = v.bool else { throw ConfigError("\(name(key)) must be true or false") }
        return b
    }

    func duration(_ key: String) throws -> Int? {
        guard let s = try string(key) else { return nil }
        do { return try DurationText.seconds(s) } catch { throw ConfigError("\(name(key)): \(error)") }
    }

    func strings(_ key: String) throws -> [String]? {
        guard let v = table[key] else { return nil }
        guard let a = v.array else { throw ConfigError("\(name(key)) must be a list of strings") }
        return try a.map { e in
            guard let s = e.string else { throw ConfigError("\(name(key)) must be a list of strings") }
            return s
        }
    }

    func table(_ key: String) throws -> Section? {
        guard let v = table[key] else { return nil }
        guard let t = v.table else { throw ConfigError("\(name(key)) must be a table") }
        return Section(t, name(key))
    }

    func tables(_ key: String) throws -> [Section]? {
        guard let v = table[key] else { return nil }
        guard let a = v.array else { throw ConfigError("\(name(key)) must be an array of tables ([[\(key)]])") }
        return try a.enumerated().map { i, e in
            guard let t = e.table else { throw ConfigError("\(name(key)) must be an array of tables ([[\(key)]])") }
            return Section(t, "\(name(key))[\(i + 1)]")
        }
    }
}
