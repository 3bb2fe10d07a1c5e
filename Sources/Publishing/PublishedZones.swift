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

    public init(
        name: String, role: ZoneRole, apex: ZoneApex? = nil, codes: [Category: UInt32] = [:],
        templates: [Category: String] = [:], ttl: UInt32? = nil
    ) {
        self.name = name
        self.role = role
        self.apex = apex
        self.codes = codes
        self.templates = templates
        self.ttl = ttl
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
}

public enum PublishedZones {
    /// RFC 5782 test points: always listed, never expiring.
    static func testPoints(_ role: ZoneRole) -> [PublishedEntry] {
        switch role {
        case .addresses, .allowlist:
            return [PublishedEntry(key: KeySpec(key: .ipv4(first: 0x7F00_0002, last: 0x7F00_0002), excluded: false), category: .spam, reason: "RFC 5782 test point", source: nil)]
        case .domains, .hashedAddresses:
            return []
        }
    }

    /// The entries a zone publishes at `now`, each with its provenance (for dumps).
    public static func entries(_ role: ZoneRole, store: ListingStore, now: Int) throws -> [PublishedEntry] {
        var out = testPoints(role)
        if role == .allowlist { return out + (try allowlistEntries(store)) }
        let cover = try allowlist(store)
        for row in try store.published(now: now) {
            var key = row.key
            guard let k = key.withUTF8({ try? KeySpec(canonicalBytes: $0) }), let c = Category(rawValue: row.category),
                Self.role(of: k.key) == role, k.excluded || !cover.covers(k.key)
            else { continue }
            out.append(PublishedEntry(key: k, category: c, reason: row.reason, source: row))
        }
        return out
    }

    /// The entries of several zones from one pass over the store, without provenance: what
    /// the server builds its snapshot from. Listings the allowlist covers are left out here;
    /// partial overlaps become holes in `dataset`.
    public static func entries(_ roles: [ZoneRole], store: ListingStore, now: Int) throws -> [ZoneRole: [PublishedEntry]] {
        var out: [ZoneRole: [PublishedEntry]] = [:]
        for role in roles { out[role] = testPoints(role) }
        if roles.contains(.allowlist) { out[.allowlist, default: []] += try allowlistEntries(store) }
        let listed = Set(roles.filter { $0 != .allowlist })
        guard !listed.isEmpty else { return out }
        let cover = try allowlist(store)
        // Reasons repeat (a feed gives the same one to thousands of keys): one string each.
        var reasons: [[UInt8]: String] = [:]
        try store.forEachPublished(now: now) { keyText, categoryText, reasonText in
            guard let k = try? KeySpec(canonicalBytes: keyText),
                let c = Category(rawValue: String(decoding: categoryText, as: UTF8.self))
            else { return }
            let role = Self.role(of: k.key)
            guard listed.contains(role), k.excluded || !cover.covers(k.key) else { return }
            var reason: String? = nil
            if let r = reasonText {
                let bytes = Array(r)
                if let known = reasons[bytes] {
                    reason = known
                } else {
                    let text = String(decoding: bytes, as: UTF8.self)
                    if reasons.count < 100_000 { reasons[bytes] = text }
                    reason = text
                }
            }
            out[role, default: []].append(PublishedEntry(key: k, category: c, reason: reason, source: nil))
        }
        return out
    }

    static func role(of key: ListingKey) -> ZoneRole {
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
        let role = zone.role
        var values = ValueTableBuilder()
        var raw = AddressEntries()
        var names = DomainSetBuilder()
        var ipValues = ValueInterner(zone: zone)
        var nameValues = ValueInterner(zone: zone)
        for e in entries {
            switch e.key.key {
            case .ipv4, .ipv6:
                raw.append(e.key, ref: ipValues.ref(e, &values))
            case .domain, .email:
                let slot = nameSlot(e.key.key)
                let r = nameValues.ref(e, &names.values)
                names.add(slot.wire, exact: slot.subtree ? nil : r, subtree: slot.subtree ? r : nil)
            }
        }
        if role == .domains || role == .hashedAddresses {
            names.add(relativeWire("test"), exact: names.values.intern(AnswerValue(address: 0x7F00_0002, template: Array("RFC 5782 test point".utf8))), subtree: nil)
        }
        if role == .domains {
            // Allowlisted names and addresses are holes in whatever lists them (the DNSWL zone
            // publishes them instead).
            for name in allowlist.exactNames { names.add(relativeWire(name), exact: .excluded, subtree: nil) }
            for name in allowlist.subtrees { names.add(relativeWire(name), exact: nil, subtree: .excluded) }
        }
        var ipv4Intervals = layered(raw.v4, values: &values)
        var ipv6Intervals = layered(raw.v6, values: &values)
        if role == .addresses {
            ipv4Intervals = IntervalAlgebra.overlay(ipv4Intervals, allowlist.ipv4Ranges.map { AddressInterval(start: $0.first, end: $0.last, ref: .excluded) })
            ipv6Intervals = IntervalAlgebra.overlay(ipv6Intervals, allowlist.ipv6Ranges.map { AddressInterval(start: $0.first, end: $0.last, ref: .excluded) })
        }
        let hasIP = role == .addresses || role == .allowlist
        let dataset = ZoneDataset(
            name: role.rawValue, ttl: ttl, ipValues: values.build(), ipv4: hasIP ? IntervalMap(ipv4Intervals) : nil,
            ipv6: hasIP ? IntervalMap(ipv6Intervals) : nil, domains: hasIP ? nil : names.build(), records: nil)
        return (dataset, raw)
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
        ((try? DomainName.wire(fromText: name, lowercase: true)) ?? [0]).dropLast()
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
