import DNSWire
import ListingKeys
import Listings

/// `thurac dump --format bind`: the zone as a master file that BIND, NSD and Knot load
/// (`named-checkzone`, `kzonecheck`): the skeleton's records, then `ZoneExport`'s records for
/// the listings.
enum BindDump {
    static func render(_ zone: ZoneDefinition, dataset ds: ZoneDataset, ttl: UInt32, serial: UInt32, _ out: (String) -> Void) {
        out("; \(zone.name) as published by thurac (serial \(serial)); load with BIND, NSD or Knot\n")
        out("$ORIGIN \(zone.name).\n$TTL \(ttl)\n")
        out(apex(zone, ttl: ttl, serial: serial))
        ZoneExport.records(ds) { r in out("\(r.ownerText) IN \(rdataText(type: r.type, r.rdata))\n") }
    }

    static func apex(_ zone: ZoneDefinition, ttl: UInt32, serial: UInt32) -> String {
        var out = ""
        if let apex = zone.apex {
            let s = apex.soa
            out += "@ \(s.ttl) IN SOA \(text(s.mname)) \(text(s.rname)) \(serial) \(s.refresh) \(s.retry) \(s.expire) \(s.minimum)\n"
            for ns in apex.nameservers { out += "@ \(apex.nsTTL) IN NS \(text(ns))\n" }
            for (name, list) in apex.records.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                let owner = name.isEmpty ? "@" : ZoneExport.relativeText(name)
                for r in list { out += "\(owner) \(r.ttl) IN \(rdataText(type: r.type, r.rdata))\n" }
            }
        } else {
            out += "@ IN SOA ns1.\(zone.name). hostmaster.\(zone.name). \(serial) 3600 600 604800 300\n"
            out += "@ IN NS ns1.\(zone.name).\n"
        }
        return out
    }

    static func text(_ absolute: [UInt8]) -> String {
        let t = DomainName.text(fromWire: absolute)
        return t.hasSuffix(".") ? t : t + "."
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
        case RRType.txt.rawValue, RRType.hinfo.rawValue:  // character-strings
            return "\(RRType(type)) " + CharacterStrings.presentation(rdata: r).joined(separator: " ")
        default:
            return "TYPE\(type) \\# \(r.count) " + r.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        }
    }
}
