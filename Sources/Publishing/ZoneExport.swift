import DNSWire
import ListingKeys
import Listings

/// A zone's listings as plain DNS records that any authoritative server answers exactly like
/// thurac (SPEC §3 "zone consistency"; docs/zone-export.md): what `dump --format bind` writes.
///
/// Addresses are written from the compiled, non-overlapping intervals the server answers from:
/// each interval is cut into blocks on octet (IPv4) or nibble (IPv6) boundaries; a whole block
/// becomes a wildcard, what does not fill a block is written name by name. As no two intervals
/// overlap, no written name ever sits below another interval's wildcard, so no wildcard is
/// hidden (RFC 4592). Domain subtrees are wildcards; a name that exists below a subtree (it is
/// listed itself, excluded, or an ancestor of such a name) would hide the wildcard from itself
/// and its descendants, so it gets the subtree's records at itself and at `*.name`. An excluded
/// name answers NODATA (a HINFO record makes it exist): "not listed", as SPEC §3 allows. `$` in
/// a TXT is the key; a wildcard's TXT names its block.
public enum ZoneExport {
    public struct Record: Sendable, Equatable {
        /// Relative to the zone origin, presentation form (`*.` first for a wildcard).
        public var owner: String
        public var type: UInt16
        public var rdata: [UInt8]
    }

    /// Calls `body` with every record of the dataset's listings.
    public static func records(_ ds: ZoneDataset, _ body: (Record) -> Void) {
        if ds.hasIPv4 {
            for iv in ds.ipv4.listedIntervals() {
                var a = UInt64(iv.start)
                let end = UInt64(iv.end)
                while a <= end {
                    // The largest octet-aligned block at `a` inside the interval, a /8 at most.
                    var octets = 3
                    while octets > 0 {
                        let size = UInt64(1) << (8 * octets)
                        if a % size == 0 && a + size - 1 <= end { break }
                        octets -= 1
                    }
                    let labels = (octets..<4).map { String((a >> (8 * $0)) & 255) }
                    let owner = (octets > 0 ? "*." : "") + labels.joined(separator: ".")
                    let key = octets == 0 ? labels.reversed().joined(separator: ".") : "\(ListingKey.ipv4(first: UInt32(a), last: UInt32(a)))/\(32 - 8 * octets)"
                    values(owner, ds.ipValues, iv.ref, key: key, body)
                    a += UInt64(1) << (8 * octets)
                }
            }
        }
        if ds.hasIPv6 {
            for iv in ds.ipv6.listedIntervals() {
                var a = iv.start
                while true {
                    // The largest nibble-aligned block at `a` inside the interval (one nibble kept).
                    var nibbles = 31
                    while nibbles > 0 {
                        let span = (UInt128(1) << (4 * nibbles)) - 1
                        if a & span == 0 && iv.end >= a && iv.end - a >= span { break }
                        nibbles -= 1
                    }
                    let labels = (nibbles..<32).map { String((a >> (4 * UInt128($0))) & 15, radix: 16) }
                    let owner = (nibbles > 0 ? "*." : "") + labels.joined(separator: ".")
                    let key = ListingKey.ipv6(address: a, prefixLength: 128 - 4 * nibbles).description
                    values(owner, ds.ipValues, iv.ref, key: key, body)
                    let span = (UInt128(1) << (4 * nibbles)) - 1
                    if iv.end - a <= span { break }
                    a += span + 1
                }
            }
        }
        if let names = ds.domains { domains(names, body) }
    }

    /// One A and one TXT per value; an exclusion is a name without them.
    static func values(_ owner: String, _ table: ValueTable, _ ref: ValueRef, key: String, _ body: (Record) -> Void) {
        if ref == .excluded {
            body(Record(owner: owner, type: 13, rdata: characterStrings(Array("excluded".utf8)) + characterStrings(Array("not listed".utf8))))
            return
        }
        table.forEachValue(ref) { i in
            let a = table.addresses[i]
            body(Record(owner: owner, type: RRType.a.rawValue, rdata: [UInt8(a >> 24), UInt8(a >> 16 & 255), UInt8(a >> 8 & 255), UInt8(a & 255)]))
            let start = Int(table.templateStarts[i])
            let end = Int(table.templateStarts[i + 1])
            var txt: [UInt8] = []
            for c in table.templates[start..<end] { if c == AnswerValue.keyMarker { txt += Array(key.utf8) } else { txt.append(c) } }
            if !txt.isEmpty { body(Record(owner: owner, type: RRType.txt.rawValue, rdata: characterStrings(txt))) }
        }
    }

    static func domains(_ names: DomainSet, _ body: (Record) -> Void) {
        var byName: [[UInt8]: Int] = [:]
        for i in 0..<names.index.count { byName[names.index.name(i)] = i }
        let order = (0..<names.index.count).sorted { names.index.name($0).lexicographicallyPrecedes(names.index.name($1)) }
        for i in order {
            let wire = names.index.name(i)
            guard !wire.isEmpty else { continue }
            let name = relativeText(wire)
            // The nearest subtree strictly above: it covers this name and what is below it,
            // unless this name says otherwise.
            var covering: ValueRef? = nil
            var o = 0
            while o < wire.count {
                o += 1 + Int(wire[o])
                if o >= wire.count { break }
                if let j = byName[Array(wire[o...])], names.subtree[j] != .none {
                    covering = names.subtree[j]
                    break
                }
            }
            if names.exact[i] != .none {
                values(name, names.values, names.exact[i], key: name, body)
            } else if let c = covering {
                values(name, names.values, c, key: name, body)
            }
            if names.subtree[i] != .none {
                values("*." + name, names.values, names.subtree[i], key: "*." + name, body)
            } else if let c = covering {
                values("*." + name, names.values, c, key: "*." + name, body)
            }
        }
    }

    /// TXT-style RDATA: the bytes as character-strings of at most 255 octets.
    static func characterStrings(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        repeat {
            let chunk = bytes[i..<min(bytes.count, i + 255)]
            out.append(UInt8(chunk.count))
            out += chunk
            i += 255
        } while i < bytes.count
        return out
    }

    static func relativeText(_ labels: [UInt8]) -> String {
        var parts: [String] = []
        var o = 0
        while o < labels.count {
            parts.append(String(decoding: labels[(o + 1)..<(o + 1 + Int(labels[o]))], as: UTF8.self))
            o += 1 + Int(labels[o])
        }
        return parts.joined(separator: ".")
    }
}
