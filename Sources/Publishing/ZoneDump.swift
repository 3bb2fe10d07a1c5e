import Foundation
import DNSWire
import ListingKeys
import Listings
import Store

/// `thurac dump`: a zone as it is published, in rbldnsd form (from the same compiled dataset the
/// server answers from, so rbldnsd answers like thurac), or as CSV / JSON lines with provenance.
public enum ZoneDump {
    public enum Format: String, CaseIterable, Sendable {
        case rbldnsd, bind, csv, json
    }

    /// The zone at `now`, handed to `write` piece by piece (a zone of millions of records is
    /// never one string); `serial` defaults to `now`, as the server's serials are Unix times.
    public static func render(
        _ zone: ZoneDefinition, format: Format, store: ListingStore, now: Int, ttl: UInt32 = 2100, serial: UInt32? = nil,
        to write: (String) -> Void
    ) throws {
        func dataset() throws -> ZoneDataset {
            // The server's own full build: straight from the rows, no provenance needed.
            let cover = try PublishedZones.allowlist(store)
            return try PublishedZones.buildAll([zone], store: store, now: now, ttl: ttl, allowlist: cover).built[0].dataset
        }
        switch format {
        case .rbldnsd: rbldnsd(zone, dataset: try dataset(), ttl: ttl, write)
        case .bind: BindDump.render(zone, dataset: try dataset(), ttl: ttl, serial: serial ?? UInt32(truncatingIfNeeded: now), write)
        case .csv, .json:
            if format == .csv { write("key,category,reason,first_seen,last_seen,expires,reports,sources\n") }
            try PublishedZones.forEachEntry(zone.role, store: store, now: now) { try provenance($0, format: format, write) }
        }
    }

    /// The whole dump as one string (tests, small zones).
    public static func render(
        _ zone: ZoneDefinition, format: Format, store: ListingStore, now: Int, ttl: UInt32 = 2100, serial: UInt32? = nil
    ) throws -> String {
        var out = ""
        try render(zone, format: format, store: store, now: now, ttl: ttl, serial: serial) { out += $0 }
        return out
    }

    /// A `combined` dataset: load it with `rbldnsd ... ZONE:combined:FILE`.
    static func rbldnsd(_ zone: ZoneDefinition, dataset ds: ZoneDataset, ttl: UInt32, _ out: (String) -> Void) {
        out("# \(zone.name) as published by thurac; load with rbldnsd \(zone.name):combined:FILE\n")
        if let apex = zone.apex {
            let soa = apex.soa
            out("$SOA \(soa.ttl) \(BindDump.text(soa.mname)) \(BindDump.text(soa.rname)) 0 \(soa.refresh) \(soa.retry) \(soa.expire) \(soa.minimum)\n")
            out("$NS \(apex.nsTTL) " + apex.nameservers.map(BindDump.text).joined(separator: " ") + "\n")
        } else {
            out("$SOA \(ttl) ns1.\(zone.name). hostmaster.\(zone.name). 0 1h 10m 1w 5m\n$NS \(ttl) ns1.\(zone.name).\n")
        }
        out("$TTL \(ttl)\n")
        func value(_ table: ValueTable, _ i: Int) -> String {
            let start = Int(table.templateStarts[i])
            let end = Int(table.templateStarts[i + 1])
            let text = String(decoding: table.templates[start..<end].map { $0 == AnswerValue.keyMarker ? UInt8(ascii: "$") : $0 }, as: UTF8.self)
            return ":\(dotted(table.addresses[i])):\(text)"
        }
        if ds.hasIPv4 {
            out("$DATASET ip4set:\(zone.role.rawValue)-ipv4 @\n")
            for iv in ds.ipv4.listedIntervals() {
                let range = iv.start == iv.end ? dotted(iv.start) : "\(dotted(iv.start))-\(dotted(iv.end))"
                ds.ipValues.forEachValue(iv.ref) { out("\(range) \(value(ds.ipValues, $0))\n") }
            }
        }
        if ds.hasIPv6 {
            // ip6trie holds one value per prefix: a range answering with several values is
            // written into as many ip6trie sections, which rbldnsd consults together.
            let intervals = ds.ipv6.listedIntervals()
            var layers = 1
            for iv in intervals {
                var n = 0
                ds.ipValues.forEachValue(iv.ref) { _ in n += 1 }
                layers = max(layers, n)
            }
            for layer in 0..<layers {
                out("$DATASET ip6trie:\(zone.role.rawValue)-ipv6-\(layer + 1) @\n")
                for iv in intervals {
                    var k = 0
                    var chosen: Int? = nil
                    ds.ipValues.forEachValue(iv.ref) { v in
                        if k == layer { chosen = v }
                        k += 1
                    }
                    guard let v = chosen else { continue }
                    for (a, n) in ListingKey.ipv6Prefixes(from: iv.start, through: iv.end) {
                        out("\(ipv6(a))/\(n) \(value(ds.ipValues, v))\n")
                    }
                }
            }
        }
        if let names = ds.domains {
            out("$DATASET dnset:\(zone.role.rawValue) @\n")
            for i in 0..<names.index.count {
                let name = ZoneExport.relativeText(names.index.name(i))
                let exact = names.exact[i]
                let subtree = names.subtree[i]
                if exact == .excluded { out("!\(name)\n") }
                if subtree == .excluded { out("!*.\(name)\n") }
                names.values.forEachValue(exact) { out("\(name) \(value(names.values, $0))\n") }
                names.values.forEachValue(subtree) { out("*.\(name) \(value(names.values, $0))\n") }
            }
        }
    }

    /// One listing with its provenance: a CSV line or a JSON object on a line.
    static func provenance(_ e: PublishedEntry, format: Format, _ out: (String) -> Void) throws {
        guard let row = e.source else { return }  // test points have no provenance
        let first = ISOTime.format(row.firstSeen)
        let last = ISOTime.format(row.lastSeen)
        let expires = row.expiresAt.map(ISOTime.format) ?? ""
        if format == .csv {
            let fields = [row.key, row.category, row.reason ?? "", first, last, expires, "\(row.reportCount)", row.sources.joined(separator: " ")]
            out(CSV.line(fields))
        } else {
            var object: [String: Any] = [
                "key": row.key, "category": row.category, "first_seen": first, "last_seen": last,
                "reports": row.reportCount, "sources": row.sources,
            ]
            if let r = row.reason { object["reason"] = r }
            if let x = row.expiresAt { object["expires"] = ISOTime.format(x) }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            out(String(decoding: data, as: UTF8.self) + "\n")
        }
    }

    static func dotted(_ a: UInt32) -> String { AddressText.ipv4(a) }

    static func ipv6(_ a: UInt128) -> String { AddressText.ipv6(a) }

}
