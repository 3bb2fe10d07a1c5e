import DNSWire
import Listings

/// A value as written in the data, before templates are compiled (variables may be defined
/// after the entries that use them, so compiling waits for the end of the dataset).
struct RawValue: Hashable {
    var address: UInt32
    var text: [UInt8]

    func hash(into hasher: inout Hasher) {
        hasher.combine(address)
        text.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// The state of one dataset while its lines are read.
struct DatasetState {
    let type: DatasetType
    let name: String
    let options: LoadOptions
    var ttl: UInt32
    var variables: [[UInt8]?] = Array(repeating: nil, count: 10)
    var baseTemplate: [UInt8]? = nil
    var maxRange4: UInt64 = 0
    var defaultValue = RawValue(address: 0x7F00_0002, text: [])
    /// ip4tset/ip6tset: only the first default line counts.
    var trivialDefault: RawValue? = nil
    var rawValues: [RawValue] = []
    var rawIndex: [RawValue: UInt32] = [:]
    var entryCount = 0

    // rbldnsd ip4set keeps four octet levels (/32, /24, /16, /8); the most specific level that
    // has an entry for the address decides.
    var ip4Levels: [[AddressInterval<UInt32>]] = [[], [], [], []]
    var ip4Prefixes: [(address: UInt32, length: Int, ref: ValueRef)] = []
    var ip4Singles: [UInt32] = []
    var ip6Prefixes: [(address: UInt128, length: Int, ref: ValueRef)] = []
    var ip6Listed64: [UInt128] = []
    var ip6Excluded128: [UInt128] = []
    /// ip4trie, ip6trie and acl: where each of `ip4Prefixes` / `ip6Prefixes` was read (file
    /// index in `files` << 32 | line), for rbldnsd's "duplicated entry" warning.
    var ip4Origins: [UInt64] = []
    var ip6Origins: [UInt64] = []
    var files: [String] = []
    // dnset: names are laid out in one blob as they are read and indexed in bulk at the end;
    // refs are raw until the values are compiled.
    var domainBlob: [UInt8] = []
    var domainStarts: [UInt32] = []
    var domainLengths: [UInt8] = []
    var domainExact: [ValueRef] = []
    var domainSubtree: [ValueRef] = []
    var records: [[UInt8]: [RecordTable.Record]] = [:]
    var aclActions: [AccessAction] = []

    var soa: SOAData? = nil
    var nameservers: [[UInt8]]? = nil
    var nsTTL: UInt32 = 0
    var expires: Int? = nil
    var subsets: [(subzones: [[UInt8]], state: DatasetState)] = []

    init(type: DatasetType, name: String, options: LoadOptions) {
        self.type = type
        self.name = name
        self.options = options
        self.ttl = options.defaultTTL
    }

    /// rbldnsd resets the default value at the start of every file.
    mutating func startFile() {
        defaultValue = RawValue(address: 0x7F00_0002, text: [])
    }

    mutating func setVariable(_ c: UInt8, _ text: [UInt8]) {
        if c == UInt8(ascii: "=") {
            if baseTemplate == nil { baseTemplate = text }
        } else {
            let n = Int(c - UInt8(ascii: "0"))
            if variables[n] == nil { variables[n] = text }
        }
    }

    /// Most entries repeat the value before them (the file's default): check that first.
    var lastValue: (value: RawValue, ref: ValueRef)? = nil

    mutating func ref(for value: RawValue) -> ValueRef {
        if let last = lastValue, last.value == value { return last.ref }
        let r: ValueRef
        if let i = rawIndex[value] {
            r = .value(Int(i))
        } else {
            rawValues.append(value)
            rawIndex[value] = UInt32(rawValues.count - 1)
            r = .value(rawValues.count - 1)
        }
        lastValue = (value, r)
        return r
    }

    // MARK: lines

    mutating func entryLine(_ line: [UInt8], at where_: (String, Int), warnings: inout [DatasetDiagnostic]) {
        func warn(_ m: String) { warnings.append(DatasetDiagnostic(file: where_.0, line: where_.1, message: m)) }
        // A line starting with ':' sets the default value (in ip6trie `::1` is an address).
        if line[0] == UInt8(ascii: ":") && !(line.count > 1 && line[1] == UInt8(ascii: ":") && (type == .ip6trie || type == .ip6tset || type == .acl)) {
            guard type != .generic else { return warn("invalid/unrecognized entry") }
            if type == .acl { return warn("default values are not used in an acl dataset") }
            guard let v = parseValue(line, 0, default: RawValue(address: 0x7F00_0002, text: []), warn) else { return }
            if type == .ip4tset || type == .ip6tset {
                if trivialDefault == nil { trivialDefault = v }
            } else {
                defaultValue = v
            }
            return
        }
        let counts = (ip4Prefixes.count, ip6Prefixes.count)
        switch type {
        case .ip4set: ip4setLine(line, warn)
        case .ip4trie: ip4trieLine(line, warn)
        case .ip4tset: ip4tsetLine(line, warn)
        case .ip6trie: ip6trieLine(line, warn)
        case .ip6tset: ip6tsetLine(line, warn)
        case .dnset: dnsetLine(line, warn)
        case .generic: genericLine(line, warn)
        case .acl: aclLine(line, warn)
        case .combined: warn("entry outside a $DATASET section")
        }
        if ip4Prefixes.count > counts.0 || ip6Prefixes.count > counts.1 {
            if files.last != where_.0 { files.append(where_.0) }
            let origin = UInt64(files.count - 1) << 32 | UInt64(UInt32(truncatingIfNeeded: where_.1))
            if ip4Prefixes.count > counts.0 { ip4Origins.append(origin) }
            if ip6Prefixes.count > counts.1 { ip6Origins.append(origin) }
        }
    }

    /// The rest of an entry line after the key: `:A:TXT`, `:A`, `:A:`, a bare TXT, or nothing.
    /// rbldnsd(8), "Resulting A values and TXT templates".
    func parseValue(_ s: [UInt8], _ from: Int, default def: RawValue, _ warn: (String) -> Void) -> RawValue? {
        var i = from
        while i < s.count, DatasetLoader.isSpace(s[i]) { i += 1 }
        if i >= s.count || DatasetLoader.isComment(s[i]) { return def }
        if s[i] != UInt8(ascii: ":") { return RawValue(address: def.address, text: Array(s[i...])) }
        i += 1
        guard case (var a, let bits)? = AddressSyntax.ipv4Value(s, &i), a != 0, bits > 0 else {
            warn("invalid A RR")
            return nil
        }
        if bits == 8 { a |= 0x7F00_0000 }
        while i < s.count, DatasetLoader.isSpace(s[i]) { i += 1 }
        if i < s.count, s[i] == UInt8(ascii: ":") {
            i += 1
            while i < s.count, DatasetLoader.isSpace(s[i]) { i += 1 }
            return RawValue(address: a, text: Array(s[i...]))
        }
        if i < s.count {
            warn("unrecognized value for an entry")
            return nil
        }
        return RawValue(address: a, text: def.text)
    }

    /// After the key: end of line, white space, a comment or ':' (the value) may follow.
    static func keyEnds(_ s: [UInt8], _ i: Int) -> Bool {
        i >= s.count || DatasetLoader.isSpace(s[i]) || DatasetLoader.isComment(s[i]) || s[i] == UInt8(ascii: ":")
    }

    mutating func exclusion(_ line: [UInt8], _ i: inout Int) -> Bool {
        guard line[i] == UInt8(ascii: "!") else { return false }
        i += 1
        while i < line.count, DatasetLoader.isSpace(line[i]) { i += 1 }
        return true
    }

    mutating func ip4setLine(_ line: [UInt8], _ warn: (String) -> Void) {
        var i = 0
        let not = exclusion(line, &i)
        guard let (first0, last, bits) = AddressSyntax.ipv4Range(line, &i), bits > 0, Self.keyEnds(line, i) else {
            return warn("invalid address")
        }
        var first = first0
        let m = AddressSyntax.mask(bits)
        if first & ~m != 0 {
            guard options.acceptHostBits else { return warn("invalid range (non-zero host part)") }
            first &= m
        }
        if maxRange4 > 0 && maxRange4 <= UInt64(last - first) {
            return warn("too large range (\(UInt64(last - first) + 1)) ignored (\(maxRange4) max)")
        }
        let r: ValueRef
        if not {
            r = .excluded
        } else {
            guard let v = parseValue(line, i, default: defaultValue, warn) else { return }
            r = ref(for: v)
        }
        entryCount += 1
        // Split the range at octet boundaries, as rbldnsd does: each piece lands on the level
        // of the largest aligned blocks it is made of.
        var a = UInt64(first)
        let b = UInt64(last)
        while a <= b {
            var level = 0
            while level < 3 {
                let size = UInt64(1) << (8 * UInt64(level + 1))
                if a % size != 0 || a + size - 1 > b { break }
                level += 1
            }
            let size = UInt64(1) << (8 * UInt64(level))
            // Extend over consecutive blocks of this level while the next level cannot take them.
            var end = a + size - 1
            let upper = UInt64(1) << (8 * UInt64(level + 1))
            while end + size <= b && (level == 3 || (end + 1) % upper != 0) { end += size }
            ip4Levels[level].append(AddressInterval(start: UInt32(a), end: UInt32(end), ref: r))
            a = end + 1
        }
    }

    mutating func ip4trieLine(_ line: [UInt8], _ warn: (String) -> Void) {
        var i = 0
        let not = exclusion(line, &i)
        guard case (var a, let bits)? = AddressSyntax.ipv4CIDR(line, &i), Self.keyEnds(line, i) else { return warn("invalid address") }
        let m = AddressSyntax.mask(bits)
        if a & ~m != 0 {
            guard options.acceptHostBits else { return warn("invalid range (non-zero host part)") }
            a &= m
        }
        if maxRange4 > 0 && maxRange4 <= UInt64(~m) {
            return warn("too large range (\(UInt64(~m) + 1)) ignored (\(maxRange4) max)")
        }
        let r: ValueRef
        if not {
            r = .excluded
        } else {
            guard let v = parseValue(line, i, default: defaultValue, warn) else { return }
            r = ref(for: v)
        }
        entryCount += 1
        ip4Prefixes.append((a, bits, r))
    }

    mutating func ip4tsetLine(_ line: [UInt8], _ warn: (String) -> Void) {
        var i = 0
        guard let (a, bits) = AddressSyntax.prefix(line, &i), bits == 32, Self.keyEnds(line, i) else {
            return warn("invalid address")
        }
        entryCount += 1
        ip4Singles.append(a)
    }

    mutating func ip6trieLine(_ line: [UInt8], _ warn: (String) -> Void) {
        var i = 0
        let not = exclusion(line, &i)
        guard case (var a, let bits)? = AddressSyntax.ipv6CIDR(line, &i), Self.keyEnds(line, i) else { return warn("invalid address") }
        let m = AddressSyntax.mask6(bits)
        if a & ~m != 0 {
            guard options.acceptHostBits else { return warn("invalid range (non-zero host part)") }
            a &= m
        }
        let r: ValueRef
        if not {
            r = .excluded
        } else {
            guard let v = parseValue(line, i, default: defaultValue, warn) else { return }
            r = ref(for: v)
        }
        entryCount += 1
        ip6Prefixes.append((a, bits, r))
    }

    mutating func ip6tsetLine(_ line: [UInt8], _ warn: (String) -> Void) {
        var i = 0
        let not = exclusion(line, &i)
        guard let (a, bits) = AddressSyntax.ipv6Prefix(line, &i), Self.keyEnds(line, i) else { return warn("invalid address") }
        guard bits == (not ? 128 : 64) else {
            return warn("invalid address for \(not ? "exclusion" : "regular entry") (should be \(not ? 128 : 64) bits)")
        }
        entryCount += 1
        if not { ip6Excluded128.append(a) } else { ip6Listed64.append(a) }
    }

    mutating func dnsetLine(_ line: [UInt8], _ warn: (String) -> Void) {
        var i = 0
        let not = exclusion(line, &i)
        var exact = true
        var subtree = false
        if i < line.count, line[i] == UInt8(ascii: ".") {
            subtree = true
            i += 1
        } else if i + 1 < line.count, line[i] == UInt8(ascii: "*"), line[i + 1] == UInt8(ascii: ".") {
            subtree = true
            exact = false
            i += 2
        }
        var j = i
        while j < line.count, !DatasetLoader.isSpace(line[j]) { j += 1 }
        let start = domainBlob.count
        // The key goes straight into the blob; a line that fails later is taken out again.
        guard j > i, Self.appendRelativeKey(line, i, j, to: &domainBlob), domainBlob.count > start else {
            domainBlob.removeLast(domainBlob.count - start)
            return warn("invalid domain name")
        }
        let r: ValueRef
        if not {
            r = .excluded
        } else {
            guard let v = parseValue(line, j, default: defaultValue, warn) else {
                domainBlob.removeLast(domainBlob.count - start)
                return
            }
            r = ref(for: v)
        }
        entryCount += 1
        domainStarts.append(UInt32(start))
        domainLengths.append(UInt8(domainBlob.count - start))
        domainExact.append(exact ? r : .none)
        domainSubtree.append(subtree ? r : .none)
    }

    /// Sizes the name storage from the file size (about 16 octets a line) before a dnset is read.
    mutating func expect(fileSize: Int) {
        guard type == .dnset else { return }
        domainBlob.reserveCapacity(domainBlob.count + fileSize)
        domainStarts.reserveCapacity(domainStarts.count + fileSize / 12)
        domainLengths.reserveCapacity(domainLengths.count + fileSize / 12)
    }

    /// Appends a dataset key as lower-cased wire labels (no root octet), read straight from the
    /// line; false (with `out` possibly extended) when invalid. Escapes (rare in data) take the
    /// general parser.
    static func appendRelativeKey(_ line: [UInt8], _ from: Int, _ to: Int, to out: inout [UInt8]) -> Bool {
        if line[from..<to].contains(UInt8(ascii: "\\")) {
            guard var w = try? DatasetLoader.relativeName(Array(line[from..<to])) else { return false }
            w.removeLast()
            out.append(contentsOf: w)
            return true
        }
        let base = out.count
        var labelStart = out.count
        out.append(0)
        for k in from..<to {
            let c = line[k]
            if c == UInt8(ascii: ".") {
                let n = out.count - labelStart - 1
                if n == 0 {
                    // Only a trailing dot after at least one label is allowed.
                    guard k == to - 1, out.count - base > 1 else { return false }
                    out.removeLast()
                    return true
                }
                guard n <= WireLimits.maxLabelLength else { return false }
                out[labelStart] = UInt8(n)
                labelStart = out.count
                out.append(0)
            } else {
                out.append(DomainName.lower(c))
            }
        }
        let n = out.count - labelStart - 1
        if n == 0 { out.removeLast() } else {
            guard n <= WireLimits.maxLabelLength else { return false }
            out[labelStart] = UInt8(n)
        }
        return out.count - base + 1 <= WireLimits.maxNameLength
    }

    /// `name [ttl] TYPE value` with A, AAAA, TXT and MX (rbldnsd(8), "generic Dataset").
    mutating func genericLine(_ line: [UInt8], _ warn: (String) -> Void) {
        var words = DatasetLoader.split(line)
        guard words.count >= 3 else { return warn("invalid/unrecognized entry") }
        let owner = words.removeFirst()
        var rttl = ttl
        if let t = DatasetLoader.parseTime(words[0]), AddressSyntax.isDigit(words[0][0]) {
            rttl = options.constrain(t)
            words.removeFirst()
        }
        guard words.count >= 2 else { return warn("invalid/unrecognized entry") }
        var name: [UInt8]
        if owner == [UInt8(ascii: "@")] {
            name = []
        } else {
            guard let w = try? DatasetLoader.relativeName(owner), w.count > 1 else { return warn("invalid domain name") }
            name = w
            name.removeLast()
        }
        let typeName = String(decoding: words[0], as: UTF8.self).uppercased()
        var record: RecordTable.Record
        switch typeName {
        case "A":
            var i = 0
            guard let (a, bits) = AddressSyntax.prefix(words[1], &i), bits == 32, i == words[1].count else {
                return warn("invalid A record")
            }
            record = RecordTable.Record(type: RRType.a.rawValue, ttl: rttl, rdata: withUnsafeBytes(of: a.bigEndian) { Array($0) })
        case "AAAA":
            var i = 0
            guard let (a, bits) = AddressSyntax.ipv6Prefix(words[1], &i), bits == 128, i == words[1].count else {
                return warn("invalid AAAA record")
            }
            record = RecordTable.Record(type: RRType.aaaa.rawValue, ttl: rttl, rdata: withUnsafeBytes(of: a.bigEndian) { Array($0) })
        case "TXT":
            // Everything after the type is the text; surrounding quotes are dropped.
            guard let typeAt = findWord(line, typeName) else { return warn("invalid TXT record") }
            var text = DatasetLoader.trim(line[typeAt...])
            if text.count >= 2, text.first == UInt8(ascii: "\""), text.last == UInt8(ascii: "\"") {
                text = Array(text.dropFirst().dropLast())
            }
            record = RecordTable.Record(type: RRType.txt.rawValue, ttl: rttl, rdata: CharacterStrings.wire(text))
        case "MX":
            guard words.count >= 3, let pref = UInt16(String(decoding: words[1], as: UTF8.self)),
                let exchange = try? DatasetLoader.absoluteName(words[2])
            else { return warn("invalid MX record") }
            record = RecordTable.Record(type: RRType.mx.rawValue, ttl: rttl, rdata: [UInt8(pref >> 8), UInt8(pref & 255)] + exchange)
        default:
            return warn("unsupported record type \(typeName)")
        }
        entryCount += 1
        records[name, default: []].append(record)
    }

    /// Index just after the word `word` (the record type) in the line.
    private func findWord(_ line: [UInt8], _ word: String) -> Int? {
        let w = Array(word.utf8)
        var i = 0
        var field = 0
        while i < line.count {
            while i < line.count, DatasetLoader.isSpace(line[i]) { i += 1 }
            let start = i
            while i < line.count, !DatasetLoader.isSpace(line[i]) { i += 1 }
            field += 1
            if field >= 2, i - start == w.count, line[start..<i].map({ $0 & ~0x20 }) == w.map({ $0 & ~0x20 }) {
                return i
            }
        }
        return nil
    }

    /// `cidr [action]`: ignore (default), refuse, empty, pass, or an A+TXT value (rbldnsd(8) "acl Dataset").
    mutating func aclLine(_ line: [UInt8], _ warn: (String) -> Void) {
        var i = 0
        let isV6 = line.contains(UInt8(ascii: ":")) && !(line.firstIndex(of: UInt8(ascii: ":")).map { idx in
            line[..<idx].contains(where: DatasetLoader.isSpace)
        } ?? false)
        let r: ValueRef
        var rest = i
        var v4: (UInt32, Int)? = nil
        var v6: (UInt128, Int)? = nil
        if isV6 {
            guard let p = AddressSyntax.ipv6CIDR(line, &i), Self.keyEnds(line, i) else { return warn("invalid address") }
            v6 = (p.address & AddressSyntax.mask6(p.bits), p.bits)
        } else {
            guard let p = AddressSyntax.ipv4CIDR(line, &i), Self.keyEnds(line, i) else { return warn("invalid address") }
            v4 = (p.address & AddressSyntax.mask(p.bits), p.bits)
        }
        rest = i
        while rest < line.count, DatasetLoader.isSpace(line[rest]) { rest += 1 }
        let word = String(decoding: line[rest...].filter { !DatasetLoader.isSpace($0) }, as: UTF8.self).lowercased()
        let action: AccessAction
        switch word {
        case "", ":ignore", "ignore": action = .ignore
        case ":refuse", "refuse": action = .refuse
        case ":empty", "empty": action = .empty
        case ":pass", "pass": action = .pass
        default:
            guard let v = parseValue(line, rest, default: RawValue(address: 0x7F00_0002, text: []), warn) else { return }
            action = .always(ref(for: v))
        }
        aclActions.append(action)
        r = .value(aclActions.count - 1)
        entryCount += 1
        if let (a, b) = v4 { ip4Prefixes.append((a, b, r)) }
        if let (a, b) = v6 { ip6Prefixes.append((a, b, r)) }
    }

    // MARK: build

    /// Compiles the raw values into a table, returning the ref of each raw value.
    func compileValues(into builder: inout ValueTableBuilder) -> [ValueRef] {
        var compiler = TemplateCompiler()
        compiler.variables = variables
        compiler.baseTemplate = baseTemplate
        return rawValues.map { builder.intern(AnswerValue(address: $0.address, template: compiler.compile($0.text))) }
    }

    /// rbldnsd's warning for a prefix given again in a trie (the first one read stays).
    func duplicated(_ origin: UInt64, _ prefix: String, into warnings: inout [DatasetDiagnostic]) {
        warnings.append(
            DatasetDiagnostic(
                file: files[Int(origin >> 32)], line: Int(origin & 0xFFFF_FFFF), message: "duplicated entry for \(prefix)"))
    }

    func build(warnings: inout [DatasetDiagnostic]) -> ZoneDataset {
        var values = ValueTableBuilder()
        let map = compileValues(into: &values)
        @inline(__always) func remap(_ r: ValueRef) -> ValueRef { r.isListed ? map[r.index] : r }

        var ipv4: IntervalMap<UInt32>? = nil
        var ipv6: IntervalMap<UInt128>? = nil
        var domainSet: DomainSet? = nil
        var recordTable: RecordTable? = nil
        switch type {
        case .ip4set:
            var merged: [AddressInterval<UInt32>] = []
            for level in stride(from: 3, through: 0, by: -1) {
                let mapped = ip4Levels[level].map { AddressInterval(start: $0.start, end: $0.end, ref: remap($0.ref)) }
                merged = IntervalAlgebra.overlay(merged, IntervalAlgebra.flatten(mapped, values: &values))
            }
            ipv4 = IntervalMap(merged)
        case .ip4trie:
            ipv4 = IntervalMap(
                IntervalAlgebra.longestPrefix(ip4Prefixes.map { ($0.address, $0.length, remap($0.ref)) }) { i in
                    duplicated(ip4Origins[i], "\(AddressText.ipv4(ip4Prefixes[i].address))/\(ip4Prefixes[i].length)", into: &warnings)
                })
        case .ip4tset:
            let r = trivialValue(&values)
            let sorted = Array(Set(ip4Singles)).sorted()
            ipv4 = IntervalMap(sorted.map { AddressInterval(start: $0, end: $0, ref: r) })
        case .ip6trie:
            ipv6 = IntervalMap(
                IntervalAlgebra.longestPrefix(ip6Prefixes.map { ($0.address, $0.length, remap($0.ref)) }) { i in
                    duplicated(ip6Origins[i], "\(AddressText.ipv6(ip6Prefixes[i].address))/\(ip6Prefixes[i].length)", into: &warnings)
                })
        case .ip6tset:
            let r = trivialValue(&values)
            let listed = Array(Set(ip6Listed64)).sorted().map {
                AddressInterval(start: $0, end: $0 | (UInt128.max >> 64), ref: r)
            }
            let excluded = Array(Set(ip6Excluded128)).sorted().map { AddressInterval(start: $0, end: $0, ref: ValueRef.excluded) }
            ipv6 = IntervalMap(IntervalAlgebra.overlay(listed, excluded))
        case .dnset:
            let (index, entries) = NameIndexBuilder.bulk(names: domainBlob, starts: domainStarts, lengths: domainLengths)
            var b = DomainSetBuilder(
                index: index, exact: [ValueRef](repeating: .none, count: index.count),
                subtree: [ValueRef](repeating: .none, count: index.count), values: values)
            for i in 0..<entries.count {
                let e = domainExact[i]
                let t = domainSubtree[i]
                b.merge(Int(entries[i]), exact: e == .none ? nil : remap(e), subtree: t == .none ? nil : remap(t))
            }
            domainSet = b.build()
        case .generic:
            recordTable = RecordTable(records)
        case .combined, .acl:
            break
        }
        return ZoneDataset(
            name: name, ttl: ttl, ipValues: values.build(), ipv4: ipv4, ipv6: ipv6, domains: domainSet,
            records: recordTable, answersIPv4InIPv6: true)
    }

    /// ip4tset/ip6tset: every entry answers the first default value of the dataset (the only
    /// value such a table holds).
    func trivialValue(_ values: inout ValueTableBuilder) -> ValueRef {
        var fresh = ValueTableBuilder()
        let v = trivialDefault ?? RawValue(address: 0x7F00_0002, text: [])
        var compiler = TemplateCompiler()
        compiler.variables = variables
        compiler.baseTemplate = baseTemplate
        let r = fresh.intern(AnswerValue(address: v.address, template: compiler.compile(v.text)))
        values = fresh
        return r
    }

    func buildACL(warnings: inout [DatasetDiagnostic]) -> AccessList {
        var values = ValueTableBuilder()
        let map = compileValues(into: &values)
        let actions = aclActions.map { a -> AccessAction in
            if case .always(let r) = a { return .always(map[r.index]) }
            return a
        }
        return AccessList(
            ipv4: IntervalMap(
                IntervalAlgebra.longestPrefix(ip4Prefixes) { i in
                    duplicated(ip4Origins[i], "\(AddressText.ipv4(ip4Prefixes[i].address))/\(ip4Prefixes[i].length)", into: &warnings)
                }),
            ipv6: IntervalMap(
                IntervalAlgebra.longestPrefix(ip6Prefixes) { i in
                    duplicated(ip6Origins[i], "\(AddressText.ipv6(ip6Prefixes[i].address))/\(ip6Prefixes[i].length)", into: &warnings)
                }), actions: actions,
            alwaysValues: values.build())
    }
}
