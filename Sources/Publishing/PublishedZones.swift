import DNSWire
import ListingKeys
import Listings
import Store

/// What a zone publishes (SPEC §5 shipped zones).
public enum ZoneRole: String, Sendable, CaseIterable {
    /// IPv4 and IPv6 listings, reversed (bl).
    case addresses
    /// Domains, exact and subtree (dbl).
    case domains
    /// SHA-1 of e-mail addresses under `_email` (hbl).
    case hashedAddresses
    /// The allowlist as a DNSWL (wl).
    case allowlist
}

/// A zone as configured (Zones/thurac.toml and the zone's skeleton).
public struct ZoneDefinition: Sendable {
    public var name: String
    public var role: ZoneRole
    /// SOA, NS, glue and static records from the zone's master-file skeleton; nil: synthesised
    /// (`ns1.<zone>`, `hostmaster.<zone>`).
    public var apex: ZoneApex?
    /// Category → A record (127.0.0.x); categories not named answer with their default code.
    public var codes: [Category: UInt32]
    /// Category → TXT template for listings without a reason of their own (`$` is the key).
    public var templates: [Category: String]
    /// TTL of answers; nil: the server's default.
    public var ttl: UInt32?
    /// Who gets which answers: the zone's query ACL rules, then the global ones; the first
    /// that matches a client decides, and no rule matching means answered as usual.
    public var acl: [QueryRule]

    public init(
        name: String, role: ZoneRole, apex: ZoneApex? = nil, codes: [Category: UInt32] = [:],
        templates: [Category: String] = [:], ttl: UInt32? = nil, acl: [QueryRule] = []
    ) {
        self.name = name
        self.role = role
        self.apex = apex
        self.codes = codes
        self.templates = templates
        self.ttl = ttl
        self.acl = acl
    }

    public func code(_ c: Category) -> UInt32 { codes[c] ?? c.defaultReturnCode }

    /// TXT template: the listing's reason, or the zone's template for its category.
    public func template(_ c: Category, reason: String?) -> String {
        reason ?? templates[c] ?? "Listed as \(c.rawValue) source: $"
    }

    /// The shipped defaults, used when there is no configuration file.
    public static let defaults: [ZoneDefinition] = [
        ZoneDefinition(name: "bl.ninhthuan.gov.vn", role: .addresses),
        ZoneDefinition(name: "dbl.ninhthuan.gov.vn", role: .domains),
        ZoneDefinition(name: "hbl.ninhthuan.gov.vn", role: .hashedAddresses),
        ZoneDefinition(name: "wl.ninhthuan.gov.vn", role: .allowlist),
    ]
}

/// The fixed part of a zone, from its master-file skeleton: everything but the listings.
public struct ZoneApex: Sendable {
    public var soa: SOAData
    /// Name server names, absolute wire form.
    public var nameservers: [[UInt8]]
    public var nsTTL: UInt32
    /// Addresses of in-zone name servers.
    public var glue: [(name: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8])]
    /// Other records, by relative name (labels below the origin, no root octet; [] = apex).
    public var records: [[UInt8]: [RecordTable.Record]]

    public init(
        soa: SOAData, nameservers: [[UInt8]], nsTTL: UInt32, glue: [(name: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8])],
        records: [[UInt8]: [RecordTable.Record]]
    ) {
        self.soa = soa
        self.nameservers = nameservers
        self.nsTTL = nsTTL
        self.glue = glue
        self.records = records
    }
}

/// One published record of a zone: a key, its category (A code) and reason (TXT).
public struct PublishedEntry: Sendable, Equatable {
    public var key: KeySpec
    public var category: Category
    public var reason: String?
    /// The store's key text (the e-mail address for hashed zones, before hashing).
    public var source: ListingStore.ListingRow?

    public init(key: KeySpec, category: Category, reason: String?, source: ListingStore.ListingRow? = nil) {
        self.key = key
        self.category = category
        self.reason = reason
        self.source = source
    }
}

public enum PublishedZones {
    /// RFC 5782 test points: always listed, never expiring. The IPv6 one (::FFFF:7F00:2, §5) is
    /// an IPv6 listing like any other: the store's zones do not answer IPv4-mapped names from
    /// the IPv4 data, so that secondaries, which only have the exported records, answer alike.
    static func testPoints(_ role: ZoneRole) -> [PublishedEntry] {
        switch role {
        case .addresses, .allowlist:
            return [
                .ipv4(first: 0x7F00_0002, last: 0x7F00_0002), .ipv6(address: UInt128(0xFFFF_7F00_0002), prefixLength: 128),
            ].map {
                PublishedEntry(key: KeySpec(key: $0, excluded: false), category: .spam, reason: "RFC 5782 test point", source: nil)
            }
        case .domains, .hashedAddresses:
            return []
        }
    }

    /// The entries a zone publishes at `now`, each with its provenance (for dumps).
    public static func entries(_ role: ZoneRole, store: ListingStore, now: Int) throws -> [PublishedEntry] {
        var out = testPoints(role)
        try forEachEntry(role, store: store, now: now) { out.append($0) }
        return out
    }

    /// The listings of a zone at `now`, one at a time, with provenance (test points excluded).
    public static func forEachEntry(_ role: ZoneRole, store: ListingStore, now: Int, _ body: (PublishedEntry) throws -> Void) throws {
        if role == .allowlist {
            for e in try allowlistEntries(store) { try body(e) }
            return
        }
        let cover = try allowlist(store)
        let family: ListingKey.Family = role == .addresses ? .address : role == .domains ? .domain : .hashedAddress
        try store.forEachPublishedRow(now: now, family: family) { row in
            var key = row.key
            guard let k = key.withUTF8({ try? KeySpec(canonicalBytes: $0) }), let c = Category(rawValue: row.category),
                Self.role(of: k.key) == role, k.excluded || !cover.covers(k.key)
            else { return }
            try body(PublishedEntry(key: k, category: c, reason: row.reason, source: row))
        }
    }

    public static func role(of key: ListingKey) -> ZoneRole {
        switch key {
        case .ipv4, .ipv6: return .addresses
        case .domain: return .domains
        case .email: return .hashedAddresses
        }
    }

    static func allowlistEntries(_ store: ListingStore) throws -> [PublishedEntry] {
        try store.allowlist().compactMap { a in
            (try? KeySpec(parsing: a.key)).map { PublishedEntry(key: $0, category: .spam, reason: a.reason, source: nil) }
        }
    }

    /// The allowlist as keys: it wins over every listing (SPEC §2).
    public static func allowlist(_ store: ListingStore) throws -> KeyCover {
        KeyCover(try store.allowlist().compactMap { try? KeySpec(parsing: $0.key).key })
    }

    /// Builds the zone's dataset for the responder.
    public static func dataset(
        _ zone: ZoneDefinition, entries: [PublishedEntry], ttl: UInt32, allowlist: KeyCover = KeyCover([])
    ) -> ZoneDataset {
        build(zone, entries: entries, ttl: ttl, allowlist: allowlist).dataset
    }

    /// The dataset, and its address entries before they were laid over each other (what an
    /// incremental update needs to recompute a changed range).
    static func build(
        _ zone: ZoneDefinition, entries: [PublishedEntry], ttl: UInt32, allowlist: KeyCover
    ) -> (dataset: ZoneDataset, raw: AddressEntries) {
        var c = ZoneCompiler(zone: zone)
        for e in entries { c.add(e) }
        return c.finish(ttl: ttl, allowlist: allowlist)
    }

    /// Full builds of `zones` from one pass over the store, straight from its rows: no entry
    /// objects in between, values looked up by the bytes of (category, reason). What the
    /// server starts from and rebuilds with.
    static func buildAll(
        _ zones: [ZoneDefinition], store: ListingStore, now: Int, ttl: UInt32, allowlist: KeyCover
    ) throws -> (built: [(dataset: ZoneDataset, raw: AddressEntries)], count: Int) {
        var compilers = zones.map { ZoneCompiler(zone: $0) }
        var count = 0
        for (i, z) in zones.enumerated() {
            var extra = testPoints(z.role)
            if z.role == .allowlist { extra += try allowlistEntries(store) }
            for e in extra { compilers[i].add(e) }
            count += extra.count
        }
        let byRole = Dictionary(grouping: zones.indices.filter { zones[$0].role != .allowlist }, by: { zones[$0].role })
        if !byRole.isEmpty {
            try store.forEachPublished(now: now) { keyText, categoryText, reasonText in
                guard let k = try? KeySpec(canonicalBytes: keyText), let targets = byRole[role(of: k.key)],
                    let c = Category(bytes: categoryText), k.excluded || !allowlist.covers(k.key)
                else { return }
                count += 1
                for i in targets { compilers[i].add(k, category: c, reason: reasonText) }
            }
        }
        return (zones.indices.map { compilers[$0].finish(ttl: zones[$0].ttl ?? ttl, allowlist: allowlist) }, count)
    }

    /// Where a name key lives in a domain set: its labels, and whether it is the subtree slot.
    static func nameSlot(_ key: ListingKey) -> (wire: [UInt8], subtree: Bool) {
        switch key {
        case .domain(let name, let subtree): return (relativeWire(name), subtree)
        case .email(let address): return (relativeWire(ListingKey.hashedLabel(email: address) + "._email"), false)
        case .ipv4, .ipv6: return ([], false)
        }
    }

    /// The more specific entry decides: entries are laid over each other from the widest to the
    /// narrowest (by powers of two), so an exclusion inside a listed range hides it, and a listing
    /// inside that exclusion shows again. Entries of one size that overlap answer together
    /// (several categories), unless one of them is an exclusion.
    static func layered<A>(_ entries: [AddressInterval<A>], values: inout ValueTableBuilder) -> [AddressInterval<A>] {
        var bySize = [[AddressInterval<A>]](repeating: [], count: A.bitWidth + 1)
        for e in entries {
            let span = e.end - e.start
            let bits = span == A.max ? A.bitWidth : (A.bitWidth - (span &+ 1).leadingZeroBitCount - 1)
            bySize[max(0, bits)].append(e)
        }
        var result: [AddressInterval<A>] = []
        for group in bySize.reversed() where !group.isEmpty {
            result = IntervalAlgebra.overlay(result, IntervalAlgebra.flatten(group, values: &values))
        }
        return result
    }

    /// Labels of a relative name, lower-cased wire form without the root octet. The names come
    /// from validated keys, so the codec's parser cannot refuse them.
    static func relativeWire(_ name: String) -> [UInt8] {
        var name = name
        // Keys hold host names (letters, digits, '-', '_', dots between labels of 1-63): their
        // wire form is the text with each dot replaced by the next label's length. Anything
        // else goes through the codec's parser.
        let fast: [UInt8]? = name.withUTF8 { t in
            guard !t.isEmpty, t.count <= 253 else { return nil }
            var out = [UInt8](repeating: 0, count: t.count + 1)
            var lengthAt = 0
            var n = 0
            for (i, c) in t.enumerated() {
                if c == UInt8(ascii: ".") {
                    guard n > 0, n <= 63 else { return nil }
                    out[lengthAt] = UInt8(n)
                    lengthAt = i + 1
                    n = 0
                } else {
                    guard (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 45 || c == 95 else { return nil }
                    out[i + 1] = c
                    n += 1
                }
            }
            guard n > 0, n <= 63 else { return nil }
            out[lengthAt] = UInt8(n)
            return out
        }
        return fast ?? ((try? DomainName.wire(fromText: name, lowercase: true)) ?? [0]).dropLast()
    }
}

/// Answer values of one zone: a listing's category gives the A record, its reason (or the
/// zone's template) the TXT. Listings share a handful of (category, reason) pairs: each is
/// interned once.
struct ValueInterner {
    struct Key: Hashable {
        var category: Category
        var reason: String?
    }
    let zone: ZoneDefinition
    var cache: [Key: ValueRef] = [:]

    init(zone: ZoneDefinition) { self.zone = zone }

    mutating func ref(_ e: PublishedEntry, _ table: inout ValueTableBuilder) -> ValueRef {
        if e.key.excluded { return .excluded }
        let k = Key(category: e.category, reason: e.reason)
        if let r = cache[k] { return r }
        let text = zone.template(e.category, reason: e.reason)
        let r = table.intern(
            AnswerValue(address: zone.code(e.category), template: text.utf8.map { $0 == UInt8(ascii: "$") ? AnswerValue.keyMarker : $0 }))
        cache[k] = r
        return r
    }
}

/// Address entries as intervals, before layering.
struct AddressEntries {
    var v4: [AddressInterval<UInt32>] = []
    var v6: [AddressInterval<UInt128>] = []

    mutating func append(_ key: KeySpec, ref: ValueRef) {
        switch key.key {
        case .ipv4(let first, let last): v4.append(AddressInterval(start: first, end: last, ref: ref))
        case .ipv6(let a, let n): v6.append(AddressInterval(start: a, end: n == 0 ? UInt128.max : a | (UInt128.max >> n), ref: ref))
        case .domain, .email: break
        }
    }
}

/// Compiles one zone's listings: values interned, addresses collected as intervals, names into
/// a domain set; `finish` lays the addresses over each other and cuts the allowlist's holes.
struct ZoneCompiler {
    let zone: ZoneDefinition
    var values = ValueTableBuilder()
    var raw = AddressEntries()
    var names = DomainSetBuilder()
    var interner: ValueInterner
    /// (category, reason bytes) -> value, without making a string per row: FNV-1a of the bytes,
    /// checked against the bytes kept for it.
    var byBytes: [UInt64: (category: Category, reason: [UInt8]?, ref: ValueRef)] = [:]

    init(zone: ZoneDefinition) {
        self.zone = zone
        interner = ValueInterner(zone: zone)
    }

    mutating func add(_ e: PublishedEntry) {
        switch e.key.key {
        case .ipv4, .ipv6: raw.append(e.key, ref: interner.ref(e, &values))
        case .domain, .email: addName(e.key, ref: interner.ref(e, &names.values))
        }
    }

    mutating func add(_ key: KeySpec, category: Category, reason: UnsafeBufferPointer<UInt8>?) {
        let ref: ValueRef
        if key.excluded {
            ref = .excluded
        } else {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(category.code)
            h = h &* 0x100_0000_01b3
            if let reason {
                for b in reason { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            } else {
                h ^= 0xFF
            }
            if let known = byBytes[h], known.category == category,
                known.reason.map({ r in reason.map { r.elementsEqual($0) } ?? false }) ?? (reason == nil)
            {
                ref = known.ref
            } else {
                let text = reason.map { String(decoding: $0, as: UTF8.self) }
                let e = PublishedEntry(key: key, category: category, reason: text, source: nil)
                switch key.key {
                case .ipv4, .ipv6: ref = interner.ref(e, &values)
                case .domain, .email: ref = interner.ref(e, &names.values)
                }
                if byBytes[h] == nil { byBytes[h] = (category, reason.map(Array.init), ref) }
            }
        }
        switch key.key {
        case .ipv4, .ipv6: raw.append(key, ref: ref)
        case .domain, .email: addName(key, ref: ref)
        }
    }

    // A zone lists either addresses or names, so the byte cache serves its one value table.
    mutating func addName(_ key: KeySpec, ref: ValueRef) {
        let slot = PublishedZones.nameSlot(key.key)
        names.add(slot.wire, exact: slot.subtree ? nil : ref, subtree: slot.subtree ? ref : nil)
    }

    mutating func finish(ttl: UInt32, allowlist: KeyCover) -> (dataset: ZoneDataset, raw: AddressEntries) {
        let role = zone.role
        if role == .domains || role == .hashedAddresses {
            names.add(
                PublishedZones.relativeWire("test"),
                exact: names.values.intern(AnswerValue(address: 0x7F00_0002, template: Array("RFC 5782 test point".utf8))),
                subtree: nil)
        }
        if role == .domains {
            // Allowlisted names and addresses are holes in whatever lists them (the DNSWL zone
            // publishes them instead).
            for name in allowlist.exactNames { names.add(PublishedZones.relativeWire(name), exact: .excluded, subtree: nil) }
            for name in allowlist.subtrees { names.add(PublishedZones.relativeWire(name), exact: nil, subtree: .excluded) }
        }
        var ipv4 = PublishedZones.layered(raw.v4, values: &values)
        var ipv6 = PublishedZones.layered(raw.v6, values: &values)
        if role == .addresses {
            ipv4 = IntervalAlgebra.overlay(ipv4, allowlist.ipv4Ranges.map { AddressInterval(start: $0.first, end: $0.last, ref: .excluded) })
            ipv6 = IntervalAlgebra.overlay(ipv6, allowlist.ipv6Ranges.map { AddressInterval(start: $0.first, end: $0.last, ref: .excluded) })
        }
        let hasIP = role == .addresses || role == .allowlist
        let dataset = ZoneDataset(
            name: role.rawValue, ttl: ttl, ipValues: values.build(), ipv4: hasIP ? IntervalMap(ipv4) : nil,
            ipv6: hasIP ? IntervalMap(ipv6) : nil, domains: hasIP ? nil : names.build(), records: nil)
        return (dataset, raw)
    }
}
