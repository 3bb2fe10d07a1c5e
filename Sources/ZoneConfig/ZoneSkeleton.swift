import CLDNS
import DNSWire
import Glibc
import Listings
import Publishing

/// A zone's master-file skeleton (`Zones/<zone>.zone`: $ORIGIN, $TTL, SOA, NS, glue, static
/// records), read with libldns so every master-file feature (relative names, `@`, parentheses,
/// TTL units) means what it means to BIND, NSD and Knot.
public enum ZoneSkeleton {
    public static func load(path: String, origin: String) throws(ConfigError) -> ZoneApex {
        guard let file = fopen(path, "r") else {
            throw ConfigError("\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { fclose(file) }
        return try read(file, path: path, origin: origin)
    }

    /// The same from the file's contents, already read (the fuzz target, tests).
    public static func load(contents: [UInt8], path: String, origin: String) throws(ConfigError) -> ZoneApex {
        var bytes = contents.isEmpty ? [10] : contents  // fmemopen refuses an empty buffer
        let result = bytes.withUnsafeMutableBytes { buffer -> Result<ZoneApex, ConfigError> in
            guard let file = fmemopen(buffer.baseAddress, buffer.count, "r") else { return .failure(ConfigError("\(path): cannot read")) }
            defer { fclose(file) }
            return Result { () throws(ConfigError) in try read(file, path: path, origin: origin) }
        }
        return try result.get()
    }

    static func read(_ file: UnsafeMutablePointer<FILE>, path: String, origin: String) throws(ConfigError) -> ZoneApex {
        guard let originWire = try? DomainName.wire(fromText: origin, lowercase: true) else {
            throw ConfigError("\(path): '\(origin)' is not a domain name")
        }
        guard let originRDF = ldns_dname_new_frm_str(origin.hasSuffix(".") ? origin : origin + ".") else {
            throw ConfigError("\(path): '\(origin)' is not a domain name")
        }
        defer { ldns_rdf_deep_free(originRDF) }
        try precheck(file, path: path, origin: originRDF)
        var zone: UnsafeMutablePointer<ldns_zone>? = nil
        var line: Int32 = 0
        let status = ldns_zone_new_frm_fp_l(&zone, file, originRDF, 3600, LDNS_RR_CLASS_IN, &line)
        guard status == LDNS_STATUS_OK, let zone else {
            throw ConfigError("\(path):\(line): \(String(cString: ldns_get_errorstr_by_id(status)))")
        }
        defer { ldns_zone_deep_free(zone) }
        guard let soaRR = ldns_zone_soa(zone) else { throw ConfigError("\(path): no SOA record") }
        guard owner(soaRR) == originWire else {
            throw ConfigError("\(path): the SOA is for \(DomainName.text(fromWire: owner(soaRR))), not \(origin)")
        }
        func number(_ i: Int) -> UInt32 {
            let d = rdf(soaRR, i)
            return d.count == 4 ? UInt32(d[0]) << 24 | UInt32(d[1]) << 16 | UInt32(d[2]) << 8 | UInt32(d[3]) : 0
        }
        let soa = SOAData(
            ttl: ldns_rr_ttl(soaRR), mname: lower(rdf(soaRR, 0)), rname: lower(rdf(soaRR, 1)), serial: number(2),
            refresh: number(3), retry: number(4), expire: number(5), minimum: number(6))

        var nameservers: [[UInt8]] = []
        var nsTTL: UInt32 = soa.ttl
        var addresses: [(name: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8])] = []
        var records: [[UInt8]: [RecordTable.Record]] = [:]
        let list = ldns_zone_rrs(zone)
        for i in 0..<ldns_rr_list_rr_count(list) {
            guard let rr = ldns_rr_list_rr(list, i) else { continue }
            let name = owner(rr)
            guard let relative = relativeLabels(name, origin: originWire) else {
                throw ConfigError("\(path): \(DomainName.text(fromWire: name)) is outside \(origin)")
            }
            let type = UInt16(ldns_rr_get_type(rr).rawValue)
            switch type {
            case RRType.soa.rawValue:
                throw ConfigError("\(path): a second SOA record")
            case RRType.ns.rawValue where relative.isEmpty:
                nameservers.append(lower(rdf(rr, 0)))
                nsTTL = ldns_rr_ttl(rr)
            case RRType.ns.rawValue:
                // The listings own every name below the apex: a delegation would hide them.
                throw ConfigError("\(path): NS records below the apex (\(DomainName.text(fromWire: name))) are not served")
            case RRType.a.rawValue, RRType.aaaa.rawValue:
                addresses.append((name, type, ldns_rr_ttl(rr), rdata(rr)))
            default:
                records[relative, default: []].append(RecordTable.Record(type: type, ttl: ldns_rr_ttl(rr), rdata: rdata(rr)))
            }
        }
        guard !nameservers.isEmpty else { throw ConfigError("\(path): no NS record at the apex") }
        // Addresses of the name servers also go with NS answers (glue); every address record is
        // answered at its own name too: in-zone, it is this zone's data.
        var glue: [(name: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8])] = []
        for a in addresses {
            if nameservers.contains(a.name) { glue.append(a) }
            if let relative = relativeLabels(a.name, origin: originWire) {
                records[relative, default: []].append(RecordTable.Record(type: a.type, ttl: a.ttl, rdata: a.rdata))
            }
        }
        return ZoneApex(soa: soa, nameservers: nameservers, nsTTL: nsTTL, glue: glue, records: records)
    }

    /// libldns 1.8.3's zone reader has two faults on bad files (found by the configuration fuzz
    /// target): it skips a second SOA by freeing it and then reads the freed record as the
    /// previous one (a crash on the next record), and on an error it frees its list of records
    /// but not the records. So the file is read first with libldns's record reader, which the
    /// zone reader calls itself with the same $ORIGIN and $TTL handling: a syntax error (with
    /// its line) or a second SOA is refused here, and the zone reader only sees files it reads
    /// to their end.
    static func precheck(_ file: UnsafeMutablePointer<FILE>, path: String, origin: UnsafeMutablePointer<ldns_rdf>) throws(ConfigError) {
        defer { rewind(file) }
        var ttl: UInt32 = 3600
        var current: UnsafeMutablePointer<ldns_rdf>? = ldns_rdf_clone(origin)
        var previous: UnsafeMutablePointer<ldns_rdf>? = nil
        defer {
            if let current { ldns_rdf_deep_free(current) }
            if let previous { ldns_rdf_deep_free(previous) }
        }
        var line: Int32 = 0
        var seen = false
        while feof(file) == 0 {
            var rr: UnsafeMutablePointer<ldns_rr>? = nil
            let status = ldns_rr_new_frm_fp_l(&rr, file, &ttl, &current, &previous, &line)
            if status == LDNS_STATUS_SYNTAX_EMPTY || status == LDNS_STATUS_SYNTAX_TTL || status == LDNS_STATUS_SYNTAX_ORIGIN { continue }
            guard status == LDNS_STATUS_OK, let rr else {
                if let rr { ldns_rr_free(rr) }
                let why = status == LDNS_STATUS_SYNTAX_INCLUDE ? "$INCLUDE is not read in a skeleton" : String(cString: ldns_get_errorstr_by_id(status))
                throw ConfigError("\(path):\(line): \(why)")
            }
            let soa = ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA
            ldns_rr_free(rr)
            if soa && seen { throw ConfigError("\(path):\(line): a second SOA record (a zone has one)") }
            seen = seen || soa
        }
    }

    static func owner(_ rr: UnsafePointer<ldns_rr>) -> [UInt8] {
        guard let o = ldns_rr_owner(rr) else { return [0] }
        return lower(Array(UnsafeBufferPointer(start: ldns_rdf_data(o), count: ldns_rdf_size(o))))
    }

    static func rdf(_ rr: UnsafePointer<ldns_rr>, _ i: Int) -> [UInt8] {
        guard let f = ldns_rr_rdf(rr, i) else { return [] }
        return Array(UnsafeBufferPointer(start: ldns_rdf_data(f), count: ldns_rdf_size(f)))
    }

    /// RDATA in wire form, names uncompressed (as the responder copies it into answers).
    static func rdata(_ rr: UnsafePointer<ldns_rr>) -> [UInt8] {
        var out: [UInt8] = []
        for i in 0..<ldns_rr_rd_count(rr) { out += rdf(rr, i) }
        return out
    }

    static func lower(_ wire: [UInt8]) -> [UInt8] { wire.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 } }

    /// The labels of `name` below `origin` (no root octet), nil when it is not at or below it.
    static func relativeLabels(_ name: [UInt8], origin: [UInt8]) -> [UInt8]? {
        guard name.count >= origin.count, Array(name.suffix(origin.count)) == origin else { return nil }
        // The suffix must start on a label boundary.
        var o = 0
        let cut = name.count - origin.count
        while o < cut { o += 1 + Int(name[o]) }
        return o == cut ? Array(name.prefix(cut)) : nil
    }
}

/// A configuration that cannot be used: one line saying where and why. Nothing is applied.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
