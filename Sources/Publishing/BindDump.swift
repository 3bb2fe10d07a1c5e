import DNSWire
import ListingKeys
import Listings

/// `thurac dump --format bind`: the zone as a master file that BIND, NSD and Knot load
/// (`named-checkzone`, `kzonecheck`). Address listings are written from the compiled,
/// non-overlapping intervals the server answers from: each interval is cut into blocks on octet
/// (IPv4) or nibble (IPv6) boundaries, a whole block becomes a wildcard and what does not fill
/// a block is written name by name. As no two intervals overlap, no written name ever sits
/// below another interval's wildcard. Domain subtrees are wildcards, and every name below a
/// subtree gets the subtree's records at itself and at `*.name`, so a name that exists for
/// another reason does not hide the wildcard from its own descendants. An excluded name answers
/// NODATA (a HINFO record marks it): "not listed", as SPEC §3 allows. `$` in TXT is the key; a
/// wildcard's TXT names its block.
enum BindDump {
    static func render(_ zone: ZoneDefinition, dataset ds: ZoneDataset, ttl: UInt32, serial: UInt32) -> String {
        var out = "; \(zone.name) as published by thurac (serial \(serial)); load with BIND, NSD or Knot\n"
        out += "$ORIGIN \(zone.name).\n$TTL \(ttl)\n"
        out += apex(zone, ttl: ttl, serial: serial)
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
                    out += records(owner, ds.ipValues, iv.ref, key: key)
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
                    out += records(owner, ds.ipValues, iv.ref, key: key)
                    let span = (UInt128(1) << (4 * nibbles)) - 1
                    if iv.end - a <= span { break }
                    a += span + 1
                }
            }
        }
        if let names = ds.domains { out += domains(names) }
        return out
    }

    static func apex(_ zone: ZoneDefinition, ttl: UInt32, serial: UInt32) -> String {
        var out = ""
        if let apex = zone.apex {
            let s = apex.soa
            out += "@ \(s.ttl) IN SOA \(text(s.mname)) \(text(s.rname)) \(serial) \(s.refresh) \(s.retry) \(s.expire) \(s.minimum)\n"
            for ns in apex.nameservers { out += "@ \(apex.nsTTL) IN NS \(text(ns))\n" }
            for (name, list) in apex.records.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                let owner = name.isEmpty ? "@" : relativeText(name)
                for r in list { out += "\(owner) \(r.ttl) IN \(rdataText(type: r.type, r.rdata))\n" }
            }
        } else {
            out += "@ IN SOA ns1.\(zone.name). hostmaster.\(zone.name). \(serial) 3600 600 604800 300\n"
            out += "@ IN NS ns1.\(zone.name).\n"
        }
        return out
    }

    /// One A and one TXT per value; an exclusion is a name without them.
    static func records(_ owner: String, _ table: ValueTable, _ ref: ValueRef, key: String) -> String {
        if ref == .excluded { return "\(owner) IN HINFO \"excluded\" \"not listed\"\n" }
        var out = ""
        table.forEachValue(ref) { i in
            let a = table.addresses[i]
            out += "\(owner) IN A \(a >> 24).\(a >> 16 & 255).\(a >> 8 & 255).\(a & 255)\n"
            let start = Int(table.templateStarts[i])
            let end = Int(table.templateStarts[i + 1])
            var txt: [UInt8] = []
            for c in table.templates[start..<end] { if c == AnswerValue.keyMarker { txt += Array(key.utf8) } else { txt.append(c) } }
            if !txt.isEmpty { out += "\(owner) IN TXT \(characterStrings(txt))\n" }
        }
        return out
    }

    static func domains(_ names: DomainSet) -> String {
        var byName: [[UInt8]: Int] = [:]
        for i in 0..<names.index.count { byName[names.index.name(i)] = i }
        var out = ""
        let order = (0..<names.index.count).sorted { names.index.name($0).lexicographicallyPrecedes(names.index.name($1)) }
        for i in order {
            let wire = names.index.name(i)
            let name = relativeText(wire)
            // The nearest subtree strictly above: it covers this name and what is below it,
            // unless this name says otherwise.
            var covering: ValueRef? = nil
            var o = 0
            while o < wire.count {
                o += 1 + Int(wire[o])
                if let j = byName[Array(wire[o...])], names.subtree[j] != .none {
                    covering = names.subtree[j]
                    break
                }
                if o >= wire.count { break }
            }
            if names.exact[i] != .none {
                out += records(name, names.values, names.exact[i], key: name)
            } else if let c = covering {
                out += records(name, names.values, c, key: name)
            }
            if names.subtree[i] != .none {
                out += records("*." + name, names.values, names.subtree[i], key: "*." + name)
            } else if let c = covering {
                out += records("*." + name, names.values, c, key: "*." + name)
            }
        }
        return out
    }

    /// TXT RDATA in presentation form: 255-octet character-strings, quotes and backslashes
    /// escaped, other bytes outside printable ASCII as \DDD.
    static func characterStrings(_ bytes: [UInt8]) -> String {
        var parts: [String] = []
        var i = 0
        repeat {
            let chunk = bytes[i..<min(bytes.count, i + 255)]
            var s = "\""
            for c in chunk {
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): s += "\\" + String(UnicodeScalar(c))
                case 0x20...0x7E: s += String(UnicodeScalar(c))
                default: s += "\\" + String(repeating: "0", count: 3 - String(c).count) + String(c)
                }
            }
            parts.append(s + "\"")
            i += 255
        } while i < bytes.count
        return parts.joined(separator: " ")
    }

    static func text(_ absolute: [UInt8]) -> String {
        let t = DomainName.text(fromWire: absolute)
        return t.hasSuffix(".") ? t : t + "."
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

    /// Presentation form of the record types a skeleton holds; anything else in RFC 3597 form.
    static func rdataText(type: UInt16, _ r: [UInt8]) -> String {
        switch type {
        case RRType.a.rawValue where r.count == 4:
            return "A \(r[0]).\(r[1]).\(r[2]).\(r[3])"
        case RRType.aaaa.rawValue where r.count == 16:
            var v: UInt128 = 0
            for b in r { v = v << 8 | UInt128(b) }
            return "AAAA \(ListingKey.ipv6(address: v, prefixLength: 128))"
        case RRType.ns.rawValue, RRType.cname.rawValue, RRType.ptr.rawValue:
            return "\(type == RRType.ns.rawValue ? "NS" : type == RRType.cname.rawValue ? "CNAME" : "PTR") \(text(r))"
        case RRType.txt.rawValue:
            var strings: [String] = []
            var o = 0
            while o < r.count {
                let n = Int(r[o])
                strings.append(characterStrings(Array(r[(o + 1)..<min(r.count, o + 1 + n)])))
                o += 1 + n
            }
            return "TXT " + strings.joined(separator: " ")
        default:
            return "TYPE\(type) \\# \(r.count) " + r.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        }
    }
}
