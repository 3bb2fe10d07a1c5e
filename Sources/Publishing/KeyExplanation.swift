import DNSWire
import ListingKeys
import Store

/// Why a key is listed or not (SPEC §5 `thurac lookup`, §6 `GET /v1/lookup/{key}`): its
/// listings and where they are published, the allowlist entry that covers it, its delisting,
/// who reported it, and wider listings (ranges, subtrees) that cover it. One explanation for the
/// CLI (as text) and the API (as JSON).
public struct KeyExplanation: Sendable, Codable, Equatable {
    public struct Listing: Sendable, Codable, Equatable {
        public var key: String
        public var category: String
        /// published, pending, expired, delisted, superseded (as of the instant asked about).
        public var state: String
        /// Zone and A record where the listing is published ("excluded" for an exclusion).
        public var publishedIn: [PublishedIn]
        public var firstSeen: String
        public var lastSeen: String
        /// nil: until delisted.
        public var expires: String?
        public var reports: Int
        public var reason: String?
    }

    public struct PublishedIn: Sendable, Codable, Equatable {
        public var zone: String
        public var answer: String
    }

    public struct Allowlisted: Sendable, Codable, Equatable {
        public var entry: String
        public var since: String
        public var by: String
        public var reason: String?
    }

    public struct Delisted: Sendable, Codable, Equatable {
        public var at: String
        public var by: String
        public var reason: String
        /// Untrusted reports are held back until then (nil: no longer).
        public var graceUntil: String?
    }

    public struct Reporter: Sendable, Codable, Equatable {
        public var source: String
        public var kind: String
        public var lastSeen: String
        /// The newest evidence of the source's reports on the key (an e-mail report: the spam's
        /// Message-ID, the hop, the stored message).
        public var evidence: String?
    }

    public var key: String
    /// Published in a zone now (itself or through a wider listing), and not allowlisted.
    public var listed: Bool
    public var allowlisted: Allowlisted?
    public var listings: [Listing]
    public var delisting: Delisted?
    public var reporters: [Reporter]
    public var coveredBy: [Listing]

    public static func explain(_ spec: KeySpec, store: ListingStore, zones: [ZoneDefinition], at: Int) throws -> KeyExplanation {
        let allow = try store.allowlist().first { entry in
            (try? KeySpec(parsing: entry.key)).map { KeyCover([$0.key]).covers(spec.key) } ?? false
        }
        let rows = try store.listings(key: spec.description).map { listing($0, at: at, zones: zones) }
        let wider = try store.covering(spec.key).map { listing($0, at: at, zones: zones) }
        let delisting = try store.delisting(key: spec.description).map {
            Delisted(at: ISOTime.format($0.at), by: $0.by, reason: $0.reason, graceUntil: $0.graceUntil > at ? ISOTime.format($0.graceUntil) : nil)
        }
        let reporters = try store.reporters(key: spec.description).map {
            Reporter(source: $0.source, kind: $0.kind, lastSeen: ISOTime.format($0.seen), evidence: $0.evidence)
        }
        let published = (rows + wider).contains { $0.state == "published" && !$0.key.hasPrefix("!") }
        return KeyExplanation(
            key: spec.description, listed: published && allow == nil,
            allowlisted: allow.map { Allowlisted(entry: $0.key, since: ISOTime.format($0.addedAt), by: $0.addedBy, reason: $0.reason) },
            listings: rows, delisting: delisting, reporters: reporters, coveredBy: wider)
    }

    /// One listing row at `at`: its state then, where and how it is published.
    static func listing(_ r: ListingStore.ListingRow, at: Int, zones: [ZoneDefinition]) -> Listing {
        var state = r.state
        if state == "published", let e = r.expiresAt, e <= at { state = "expired" }
        var places: [PublishedIn] = []
        if state == "published", let c = Category(rawValue: r.category), let k = try? KeySpec(parsing: r.key) {
            for z in zones where z.role == PublishedZones.role(of: k.key) {
                let a = z.code(c)
                places.append(PublishedIn(zone: z.name, answer: k.excluded ? "excluded" : AddressText.ipv4(a)))
            }
        }
        return Listing(
            key: r.key, category: r.category, state: state, publishedIn: places, firstSeen: ISOTime.format(r.firstSeen),
            lastSeen: ISOTime.format(r.lastSeen), expires: r.expiresAt.map { ISOTime.format($0) }, reports: r.reportCount, reason: r.reason)
    }

    /// The explanation as `thurac lookup` prints it.
    public var lines: [String] {
        var out: [String] = []
        if let a = allowlisted {
            let via = a.entry == key ? "" : " through \(a.entry)"
            out.append("\(key): allowlisted\(via) since \(a.since) by \(a.by)\(a.reason.map { " (\($0))" } ?? ""): never published")
        }
        if listings.isEmpty && coveredBy.isEmpty {
            out.append("\(key): not listed (no reports)")
            return out
        }
        for l in listings { out.append(Self.line(l, as: key)) }
        if let d = delisting {
            out.append("  delisted \(d.at) by \(d.by): \(d.reason)\(d.graceUntil.map { "; untrusted reports are held back until \($0)" } ?? "")")
        }
        for r in reporters { out.append("  reported by \(r.source) (\(r.kind)), last \(r.lastSeen)\(r.evidence.map { "; evidence: \($0)" } ?? "")") }
        for l in coveredBy { out.append("covered by " + Self.line(l, as: l.key)) }
        return out
    }

    static func line(_ l: Listing, as key: String) -> String {
        let places = l.publishedIn.isEmpty ? "" : " in " + l.publishedIn.map { "\($0.zone) \($0.answer == "excluded" ? "(excluded)" : $0.answer)" }.joined(separator: ", ")
        return "\(key) \(l.category): \(l.state)\(places); first seen \(l.firstSeen), last seen \(l.lastSeen), expires \(l.expires ?? "until delisted"); \(l.reports) report(s)\(l.reason.map { "; reason: \($0)" } ?? "")"
    }
}
