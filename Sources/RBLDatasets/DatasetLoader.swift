import Glibc
import DNSWire
import Listings

/// Settings that rbldnsd takes on its command line and that shape how data is read.
public struct LoadOptions: Sendable {
    /// `-t defttl:minttl:maxttl`; rbldnsd's default TTL is 35 minutes.
    public var defaultTTL: UInt32 = 2100
    public var minTTL: UInt32 = 0
    public var maxTTL: UInt32 = 0
    /// `-e`: accept CIDRs with host bits set (they are masked), instead of warning and skipping.
    public var acceptHostBits = false
    /// Seconds since the epoch, for `$TIMESTAMP`.
    public var now: Int = 0
    public init() {}

    func constrain(_ ttl: UInt32) -> UInt32 {
        var t = ttl
        if minTTL > 0, t < minTTL { t = minTTL }
        if maxTTL > 0, t > maxTTL { t = maxTTL }
        return t
    }
}

/// One dataset read from its files: what it contributes to a zone.
public struct LoadedDataset: Sendable {
    public var type: DatasetType
    /// (subzone labels relative to the zone origin, lower-cased wire without root; dataset).
    public var parts: [(subzone: [UInt8], dataset: ZoneDataset)]
    public var soa: SOAData?
    public var nameservers: [[UInt8]]?
    public var nsTTL: UInt32
    public var acl: AccessList?
    public var warnings: [DatasetDiagnostic]
    /// Newest modification time among the files (seconds), used for serial 0.
    public var newestModification: Int
    /// `$TIMESTAMP` expiry: after this instant the data is not served.
    public var expires: Int?
    public var entryCount: Int
}

/// Reads rbldnsd dataset files (rbldnsd(8), "DATASET TYPES AND FORMATS").
public enum DatasetLoader {
    public static func load(
        type: DatasetType, files: [String], options: LoadOptions, name: String? = nil
    ) throws(DatasetError) -> LoadedDataset {
        var sources: [Source] = []
        for file in files {
            sources.append(Source(name: file, bytes: try FileReader.read(file), modified: FileReader.modificationTime(file) ?? 0))
        }
        return try load(type: type, sources: sources, options: options, name: name ?? "\(type.rawValue):\(files.joined(separator: ","))")
    }

    /// One data file's contents (gunzipped), its name for diagnostics and its modification time.
    public struct Source: Sendable {
        public var name: String
        public var bytes: [UInt8]
        public var modified: Int
        public init(name: String, bytes: [UInt8], modified: Int = 0) {
            self.name = name
            self.bytes = bytes
            self.modified = modified
        }
    }

    /// The same from contents already in memory (the fuzz target, tests).
    public static func load(type: DatasetType, sources: [Source], options: LoadOptions, name: String) throws(DatasetError) -> LoadedDataset {
        var top = DatasetState(type: type, name: name, options: options)
        var warnings: [DatasetDiagnostic] = []
        var newest = 0
        for source in sources {
            let (file, bytes) = (source.name, source.bytes)
            newest = max(newest, source.modified)
            top.startFile()
            top.expect(fileSize: bytes.count)
            var current: Int? = nil  // index into top.subsets while inside a $DATASET section
            var lineNumber = 0
            var start = 0
            // One line buffer for the whole file: reused, so reading a line allocates nothing.
            var line: [UInt8] = []
            line.reserveCapacity(1024)
            while start < bytes.count {
                // The line's end found with memchr and its bytes copied in one go: the per-line
                // cost is most of a million-line file's parse.
                let end = bytes.withUnsafeBufferPointer { all in
                    let rest = all.count - start
                    guard let nl = memchr(all.baseAddress! + start, 10, rest) else { return all.count }
                    return all.baseAddress!.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                }
                lineNumber += 1
                trim(bytes, start..<end, into: &line)
                start = end + 1
                if line.isEmpty { continue }
                let where_ = (file, lineNumber)
                // Specials: `$X`, `#$X`, `;$X`, `:$X` (rbldnsd(8), "Special Entries").
                if line[0] == UInt8(ascii: "$")
                    || (line.count > 1 && line[1] == UInt8(ascii: "$")
                        && (line[0] == UInt8(ascii: "#") || line[0] == UInt8(ascii: ";") || line[0] == UInt8(ascii: ":")))
                {
                    line.removeFirst(line[0] == UInt8(ascii: "$") ? 1 : 2)
                    do {
                        try special(line, top: &top, current: &current, at: where_, warnings: &warnings)
                    } catch let e as DatasetError {
                        throw e
                    } catch {
                        warnings.append(DatasetDiagnostic(file: file, line: lineNumber, message: "\(error)"))
                    }
                    continue
                }
                if line[0] == UInt8(ascii: "#") || line[0] == UInt8(ascii: ";") { continue }
                if let c = current {
                    top.subsets[c].state.entryLine(line, at: where_, warnings: &warnings)
                } else if type == .combined {
                    warnings.append(DatasetDiagnostic(file: file, line: lineNumber, message: "entry outside a $DATASET section"))
                } else {
                    top.entryLine(line, at: where_, warnings: &warnings)
                }
            }
        }
        var parts: [(subzone: [UInt8], dataset: ZoneDataset)] = []
        var entries = top.entryCount
        var acl: AccessList? = nil
        if type == .combined {
            for sub in top.subsets {
                let ds = sub.state.build(warnings: &warnings)
                entries += sub.state.entryCount
                for z in sub.subzones { parts.append((z, ds)) }
            }
        } else if type == .acl {
            acl = top.buildACL(warnings: &warnings)
        } else {
            parts.append(([], top.build(warnings: &warnings)))
        }
        return LoadedDataset(
            type: type, parts: parts, soa: top.soa, nameservers: top.nameservers, nsTTL: top.nsTTL, acl: acl,
            warnings: warnings, newestModification: newest, expires: top.expires, entryCount: entries)
    }

    static func trim(_ s: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        s.withUnsafeBufferPointer { trim($0, 0..<$0.count, into: &out) }
        return out
    }

    /// bytes[range] without its leading and trailing blanks, into `out` (its storage kept).
    static func trim(_ bytes: [UInt8], _ range: Range<Int>, into out: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { trim($0, range, into: &out) }
    }

    static func trim(_ all: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [UInt8]) {
        var a = range.lowerBound
        var b = range.upperBound
        while a < b, isSpace(all[a]) { a += 1 }
        while b > a, isSpace(all[b - 1]) { b -= 1 }
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: UnsafeBufferPointer(rebasing: all[a..<b]))
    }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 13 }
    @inline(__always) static func isComment(_ c: UInt8) -> Bool { c == UInt8(ascii: "#") || c == UInt8(ascii: ";") }

    struct SpecialError: Error, CustomStringConvertible {
        var description: String
    }

    private static func special(
        _ line: [UInt8], top: inout DatasetState, current: inout Int?, at where_: (String, Int),
        warnings: inout [DatasetDiagnostic]
    ) throws {
        let words = split(line)
        guard let keyword = words.first.map({ String(decoding: $0, as: UTF8.self).lowercased() }) else {
            throw SpecialError(description: "empty special entry")
        }
        let args = Array(words.dropFirst())
        func ttl(_ w: [UInt8]) throws -> UInt32 {
            guard let t = parseTime(w) else { throw SpecialError(description: "invalid time value '\(String(decoding: w, as: UTF8.self))'") }
            return t
        }
        switch keyword {
        case "soa":
            guard top.type != .acl else { throw SpecialError(description: "$SOA is not allowed in an acl dataset") }
            guard top.soa == nil else { return }
            guard args.count == 8 else { throw SpecialError(description: "$SOA needs ttl origin person serial refresh retry expire minttl") }
            var t = try ttl(args[0])
            t = t == 0 ? top.ttl : top.options.constrain(t)
            guard let serial = UInt32(String(decoding: args[3], as: UTF8.self)) else {
                throw SpecialError(description: "invalid SOA serial")
            }
            top.soa = SOAData(
                ttl: t, mname: try absoluteName(args[1]), rname: try absoluteName(args[2]), serial: serial,
                refresh: try ttl(args[4]), retry: try ttl(args[5]), expire: try ttl(args[6]), minimum: try ttl(args[7]))
        case "ns", "nameserver":
            guard top.type != .acl else { throw SpecialError(description: "$NS is not allowed in an acl dataset") }
            guard top.nameservers == nil, !args.isEmpty else { return }
            var t = try ttl(args[0])
            t = t == 0 ? top.ttl : top.options.constrain(t)
            var list: [[UInt8]] = []
            for w in args.dropFirst() where w.first != UInt8(ascii: "-") && list.count < 32 {
                list.append(try absoluteName(w))
            }
            top.nameservers = list
            top.nsTTL = t
        case "ttl":
            guard args.count == 1 else { throw SpecialError(description: "$TTL takes one value") }
            let t = top.options.constrain(try ttl(args[0]))
            if let c = current { top.subsets[c].state.ttl = t } else { top.ttl = t }
        case "maxrange4":
            guard args.count == 1 else { throw SpecialError(description: "$MAXRANGE4 takes one value") }
            var w = args[0]
            let cidr = w.first == UInt8(ascii: "/")
            if cidr { w.removeFirst() }
            guard let n = UInt64(String(decoding: w, as: UTF8.self)), n > 0, !cidr || n <= 32 else {
                throw SpecialError(description: "invalid $MAXRANGE4")
            }
            let r: UInt64 = cidr ? (UInt64(1) << (32 - n)) : n
            if top.maxRange4 > 0 && top.maxRange4 < r {
                warnings.append(DatasetDiagnostic(file: where_.0, line: where_.1, message: "ignoring attempt to increase $MAXRANGE4"))
            } else {
                top.maxRange4 = r
            }
        case "dataset":
            guard top.type == .combined else { throw SpecialError(description: "$DATASET is only allowed in a combined dataset") }
            guard let spec = args.first else { throw SpecialError(description: "$DATASET needs a type") }
            // `type:name`; "$DATASET :" (no type) once indexed past an empty split (fuzzing).
            let parts = String(decoding: spec, as: UTF8.self).split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let t = DatasetType(rawValue: String(parts[0]).lowercased()), t != .combined, t != .acl else {
                throw SpecialError(description: "invalid nested dataset type '\(parts[0].prefix(40))'")
            }
            var subzones: [[UInt8]] = []
            for z in args.dropFirst() {
                if z == [UInt8(ascii: "@")] { subzones.append([]); continue }
                var wire = try relativeName(z)
                wire.removeLast()
                subzones.append(wire)
            }
            var sub = DatasetState(type: t, name: parts.count > 1 ? String(parts[1]) : t.rawValue, options: top.options)
            sub.ttl = top.ttl
            sub.startFile()
            top.subsets.append((subzones, sub))
            current = top.subsets.count - 1
        case "timestamp":
            guard let stamp = args.first.flatMap({ parseTimestamp($0) }) else {
                throw SpecialError(description: "invalid $TIMESTAMP")
            }
            if stamp > 0, top.options.now > 0, stamp > top.options.now {
                throw DatasetError(file: where_.0, line: where_.1, "data timestamp is in the future, not loading")
            }
            if args.count > 1 {
                var e = args[1]
                var expires: Int?
                if e.first == UInt8(ascii: "+") {
                    e.removeFirst()
                    if let rel = parseTime(e) { expires = stamp + Int(rel) }
                } else {
                    expires = parseTimestamp(e)
                }
                guard let x = expires else { throw SpecialError(description: "invalid $TIMESTAMP expiry") }
                if x > 0 && (top.expires == nil || top.expires! > x) { top.expires = x }
            }
        default:
            // `$0`..`$9` and `$=`: substitution variables; the first assignment wins.
            if keyword.count == 1, let c = keyword.utf8.first,
                AddressSyntax.isDigit(c) || c == UInt8(ascii: "=")
            {
                var text = Array(line.dropFirst(1))
                while let f = text.first, isSpace(f) { text.removeFirst() }
                guard !text.isEmpty else { throw SpecialError(description: "empty substitution variable") }
                if let cur = current {
                    top.subsets[cur].state.setVariable(c, text)
                } else {
                    top.setVariable(c, text)
                }
                return
            }
            throw SpecialError(description: "invalid or unrecognized special entry")
        }
    }

    static func split(_ s: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var cur: [UInt8] = []
        for c in s {
            if isSpace(c) {
                if !cur.isEmpty { out.append(cur); cur = [] }
            } else {
                cur.append(c)
            }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    /// Time with an optional unit suffix: s, m, h, d, w (rbldnsd `-t`).
    public static func parseTime(_ w: [UInt8]) -> UInt32? {
        guard !w.isEmpty else { return nil }
        var n: UInt64 = 0
        var i = 0
        while i < w.count, AddressSyntax.isDigit(w[i]) {
            n = n * 10 + UInt64(w[i] - UInt8(ascii: "0"))
            if n > UInt64(UInt32.max) { return nil }
            i += 1
        }
        guard i > 0 else { return nil }
        if i < w.count {
            guard i == w.count - 1 else { return nil }
            switch w[i] | 0x20 {
            case UInt8(ascii: "s"): break
            case UInt8(ascii: "m"): n *= 60
            case UInt8(ascii: "h"): n *= 3600
            case UInt8(ascii: "d"): n *= 86400
            case UInt8(ascii: "w"): n *= 604_800
            default: return nil
            }
        }
        return n > UInt64(UInt32.max) ? nil : UInt32(n)
    }

    /// `yyyy:mm:dd[:hh[:mi[:ss]]]` (delimiters `:` or `-` optional), or `0`/`-` for "not given" (0).
    static func parseTimestamp(_ w: [UInt8]) -> Int? {
        if w == [UInt8(ascii: "0")] || w == [UInt8(ascii: "-")] { return 0 }
        let digits = w.filter { $0 != UInt8(ascii: ":") && $0 != UInt8(ascii: "-") }
        guard digits.allSatisfy(AddressSyntax.isDigit), [8, 10, 12, 14].contains(digits.count) else { return nil }
        func num(_ a: Int, _ n: Int) -> Int {
            a + n <= digits.count ? Int(String(decoding: digits[a..<(a + n)], as: UTF8.self))! : 0
        }
        let (y, mo, d, h, mi, s) = (num(0, 4), num(4, 2), num(6, 2), num(8, 2), num(10, 2), num(12, 2))
        guard (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 60 else { return nil }
        // Days from the civil calendar (proleptic Gregorian), UTC.
        let yy = mo <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return ((days * 24 + h) * 60 + mi) * 60 + s
    }

    static func absoluteName(_ w: [UInt8]) throws -> [UInt8] {
        try DomainName.wire(fromText: String(decoding: w, as: UTF8.self), lowercase: false)
    }

    static func relativeName(_ w: [UInt8]) throws -> [UInt8] {
        try DomainName.wire(fromText: String(decoding: w, as: UTF8.self), lowercase: true)
    }
}

