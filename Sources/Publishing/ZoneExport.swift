import DNSWire
import ListingKeys
import Listings

/// A zone's listings as plain DNS records that any authoritative server answers exactly like
/// thurac (SPEC §3 "zone consistency"; docs/zone-export.md): what `dump --format bind` writes
/// and what AXFR and IXFR send.
///
/// Addresses are written from the answers the server gives (the compiled intervals with any
/// delta laid over them, neighbours with equal answers merged, so the records depend on the
/// answers only, never on how a snapshot happens to be layered). Each interval is cut into
/// blocks on octet (IPv4) or nibble (IPv6) boundaries; a whole block becomes a wildcard, what
/// does not fill a block is written name by name. As no two intervals overlap, no name of one
/// interval sits below another's wildcard, so no wildcard is hidden (RFC 4592).
///
/// IPv4 and IPv6 names share one zone, and single-digit labels are both octets and nibbles, so
/// where every label of a wildcard's owner is a digit the two families meet:
/// - an IPv4 wildcard (`*.2`, 2.0.0.0/8) would catch IPv6 names below it and be hidden by IPv6
///   names that exist there: its digit children are written out down to single addresses
///   (`*.0.2`, ..., `0.0.0.2`) and its hex-letter children (`a.2`, ..., `f.2`) are made to exist
///   with a HINFO record, so IPv6 names below it never reach it;
/// - an IPv6 wildcard less than four labels deep (`*.2`, 2000::/4) would catch IPv4 names: it is
///   split into its sixteen children until it is four labels deep, where no IPv4 name reaches.
///
/// Domain subtrees are wildcards; a name that exists below a subtree (it is listed itself,
/// excluded, or an ancestor of such a name) would hide the wildcard from itself and its
/// descendants, so it gets the subtree's records at itself and at `*.name`. An excluded name
/// answers NODATA (a HINFO record makes it exist): "not listed", as SPEC §3 allows. `$` in a TXT
/// is the key; a wildcard's TXT names its block.
public enum ZoneExport {
    public struct Record: Sendable, Hashable {
        /// Owner below the zone origin: wire labels without the root octet (`*` first for a
        /// wildcard); empty for the origin itself.
        public var owner: [UInt8]
        public var type: UInt16
        public var rdata: [UInt8]

        public init(owner: [UInt8], type: UInt16, rdata: [UInt8]) {
            self.owner = owner
            self.type = type
            self.rdata = rdata
        }

        /// The owner relative to the origin in presentation form (`*.2.0.192`).
        public var ownerText: String { ZoneExport.relativeText(owner) }
    }

    static let wildcard: [UInt8] = [1, UInt8(ascii: "*")]
    static let hinfo = RRType.hinfo.rawValue

    /// Calls `body` with every record of the dataset's listings.
    public static func records(_ ds: ZoneDataset, _ body: (Record) -> Void) {
        // Blocks never cross a /8 (IPv4) or /4 (IPv6) boundary, so cutting the space there
        // changes no record and bounds what is held at once.
        for top in UInt32(0)..<256 where ds.hasIPv4 || ds.delta != nil {
            ipv4Records(ipv4Spans(ds, from: top << 24, through: top << 24 | 0xFF_FFFF), body)
        }
        for top in UInt128(0)..<16 where ds.hasIPv6 || ds.delta != nil {
            ipv6Records(ipv6Spans(ds, from: top << 124, through: top << 124 | (UInt128.max >> 4)), body)
        }
        if ds.domains != nil { domainRecords(names(ds, under: nil), under: nil, body) }
    }

    // MARK: - addresses

    /// A run of addresses with one answer, and the table its values live in (the dataset's or
    /// its delta's).
    struct Span<A: FixedWidthInteger & UnsignedInteger & Sendable> {
        var start: A
        var end: A
        var table: ValueTable
        var ref: ValueRef
    }

    static func ipv4Spans(_ ds: ZoneDataset, from lo: UInt32, through hi: UInt32) -> [Span<UInt32>] {
        spans(ds.ipv4, ds.ipValues, over: ds.delta?.ipv4, ds.delta?.ipValues, from: lo, through: hi)
    }

    static func ipv6Spans(_ ds: ZoneDataset, from lo: UInt128, through hi: UInt128) -> [Span<UInt128>] {
        spans(ds.ipv6, ds.ipValues, over: ds.delta?.ipv6, ds.delta?.ipValues, from: lo, through: hi)
    }

    /// The listed runs in [lo, hi] as the responder answers them: where the delta holds a ref it
    /// decides, elsewhere the dataset; neighbours with the same answer are one run.
    static func spans<A>(
        _ base: IntervalMap<A>, _ baseTable: ValueTable, over delta: IntervalMap<A>?, _ deltaTable: ValueTable?,
        from lo: A, through hi: A
    ) -> [Span<A>] {
        var decided: [(start: A, end: A, ref: ValueRef)] = []
        delta?.forEachInterval(from: lo, through: hi) { s, e, r in if r != .none { decided.append((s, e, r)) } }
        var pieces: [Span<A>] = []
        var d = 0
        base.forEachInterval(from: lo, through: hi) { s, e, r in
            guard r.isListed else { return }
            while d < decided.count, decided[d].end < s { d += 1 }
            var cursor = s
            var k = d
            while k < decided.count, decided[k].start <= e {
                if decided[k].start > cursor {
                    pieces.append(Span(start: cursor, end: decided[k].start - 1, table: baseTable, ref: r))
                }
                if decided[k].end >= e { return }
                cursor = decided[k].end + 1
                k += 1
            }
            pieces.append(Span(start: cursor, end: e, table: baseTable, ref: r))
        }
        if let deltaTable, !decided.isEmpty {
            for x in decided where x.ref.isListed { pieces.append(Span(start: x.start, end: x.end, table: deltaTable, ref: x.ref)) }
            pieces.sort { $0.start < $1.start }
        }
        var out: [Span<A>] = []
        out.reserveCapacity(pieces.count)
        for p in pieces {
            if let last = out.last, last.end != A.max, last.end + 1 == p.start, sameAnswer(last, p) {
                out[out.count - 1].end = p.end
            } else {
                out.append(p)
            }
        }
        return out
    }

    static func sameAnswer<A>(_ x: Span<A>, _ y: Span<A>) -> Bool {
        // Within one table values and groups are interned: equal answers have equal refs.
        if x.table === y.table { return x.ref == y.ref }
        return Set(x.table.values(x.ref)) == Set(y.table.values(y.ref))
    }

    static func ipv4Records(_ spans: [Span<UInt32>], _ body: (Record) -> Void) {
        for s in spans {
            var a = UInt64(s.start)
            let end = UInt64(s.end)
            while a <= end {
                // The largest octet-aligned block at `a` inside the run, a /8 at most.
                var octets = 3
                while octets > 0 {
                    let size = UInt64(1) << (8 * octets)
                    if a % size == 0 && a + size - 1 <= end { break }
                    octets -= 1
                }
                ipv4Block(UInt32(a), octets: octets, s.table, s.ref, body)
                a += UInt64(1) << (8 * octets)
            }
        }
    }

    /// Octets as decimal text (labels and keys are made by the million: no formatting per octet).
    static let decimal: [[UInt8]] = (0..<256).map { Array(String($0).utf8) }

    /// A single address (`octets` 0) or the wildcard of a whole /24, /16 or /8.
    static func ipv4Block(_ a: UInt32, octets: Int, _ table: ValueTable, _ ref: ValueRef, _ body: (Record) -> Void) {
        var owner: [UInt8] = []
        owner.reserveCapacity(18)
        var digitsOnly = true
        for i in octets..<4 {
            let label = decimal[Int((a >> (8 * UInt32(i))) & 255)]
            if label.count > 1 { digitsOnly = false }
            owner.append(UInt8(label.count))
            owner += label
        }
        // The key for `$`: the address, or the block in CIDR notation.
        var key: [UInt8] = []
        key.reserveCapacity(18)
        for i in 0..<4 {
            if i > 0 { key.append(UInt8(ascii: ".")) }
            key += decimal[Int(a >> (24 - 8 * UInt32(i)) & 255)]
        }
        if octets == 0 {
            values(owner, table, ref, key: key, body)
            return
        }
        values(wildcard + owner, table, ref, key: key + [UInt8(ascii: "/")] + decimal[32 - 8 * octets], body)
        guard digitsOnly else { return }
        // Where IPv6 names can meet this wildcard (see the type's comment).
        for x in UInt8(ascii: "a")...UInt8(ascii: "f") {
            body(Record(owner: [1, x] + owner, type: hinfo, rdata: separatorData))
        }
        for x in UInt32(0)...9 { ipv4Block(a | x << (8 * UInt32(octets - 1)), octets: octets - 1, table, ref, body) }
    }

    static let separatorData = CharacterStrings.wire(Array("thurac".utf8)) + CharacterStrings.wire(Array("not an IPv4 name".utf8))

    static func ipv6Records(_ spans: [Span<UInt128>], _ body: (Record) -> Void) {
        for s in spans {
            var a = s.start
            while true {
                // The largest nibble-aligned block at `a` inside the run (one nibble kept).
                var nibbles = 31
                while nibbles > 0 {
                    let span = (UInt128(1) << (4 * nibbles)) - 1
                    if a & span == 0 && s.end - a >= span { break }
                    nibbles -= 1
                }
                ipv6Block(a, nibbles: nibbles, s.table, s.ref, body)
                let span = (UInt128(1) << (4 * nibbles)) - 1
                if s.end - a <= span { break }
                a += span + 1
            }
        }
    }

    /// A single address (`nibbles` 0) or the wildcard of a nibble-aligned block.
    static func ipv6Block(_ a: UInt128, nibbles: Int, _ table: ValueTable, _ ref: ValueRef, _ body: (Record) -> Void) {
        var owner: [UInt8] = []
        owner.reserveCapacity(2 * (32 - nibbles))
        var digitsOnly = true
        for i in nibbles..<32 {
            let n = UInt8(truncatingIfNeeded: a >> (4 * UInt128(i))) & 15
            if n > 9 { digitsOnly = false }
            owner += [1, n < 10 ? 0x30 + n : 0x57 + n]
        }
        if nibbles == 0 {
            values(owner, table, ref, key: Array(ListingKey.ipv6(address: a, prefixLength: 128).description.utf8), body)
            return
        }
        if digitsOnly && 32 - nibbles < 4 {
            // IPv4 names (four labels) would reach this wildcard: split it (see the type's comment).
            for x in UInt128(0)..<16 { ipv6Block(a | x << (4 * UInt128(nibbles - 1)), nibbles: nibbles - 1, table, ref, body) }
            return
        }
        values(wildcard + owner, table, ref, key: Array(ListingKey.ipv6(address: a, prefixLength: 128 - 4 * nibbles).description.utf8), body)
    }

    /// One A and one TXT per value; an exclusion is a name without them.
    static func values(_ owner: [UInt8], _ table: ValueTable, _ ref: ValueRef, key: [UInt8], _ body: (Record) -> Void) {
        if ref == .excluded {
            body(Record(owner: owner, type: hinfo, rdata: excludedData))
            return
        }
        table.forEachValue(ref) { i in
            let a = table.addresses[i]
            body(Record(owner: owner, type: RRType.a.rawValue, rdata: [UInt8(a >> 24), UInt8(a >> 16 & 255), UInt8(a >> 8 & 255), UInt8(a & 255)]))
            let start = Int(table.templateStarts[i])
            let end = Int(table.templateStarts[i + 1])
            guard end > start else { return }
            var txt: [UInt8] = []
            txt.reserveCapacity(end - start + key.count + 2)
            for c in table.templates[start..<end] { if c == AnswerValue.keyMarker { txt += key } else { txt.append(c) } }
            body(Record(owner: owner, type: RRType.txt.rawValue, rdata: CharacterStrings.wire(txt)))
        }
    }

    static let excludedData = CharacterStrings.wire(Array("excluded".utf8)) + CharacterStrings.wire(Array("not listed".utf8))

    // MARK: - names

    /// A name's entries as answered: its exact and subtree slots, each with the table its values
    /// live in.
    struct NameEntry {
        var exact: (table: ValueTable, ref: ValueRef)?
        var subtree: (table: ValueTable, ref: ValueRef)?
    }

    /// The dataset's names with the delta laid over them (what `DomainSet.lookup(over:)` answers
    /// from); with `roots`, only the names at or below one of them.
    static func names(_ ds: ZoneDataset, under roots: Set<[UInt8]>?) -> [[UInt8]: NameEntry] {
        var out: [[UInt8]: NameEntry] = [:]
        if let base = ds.domains {
            for i in 0..<base.index.count where base.exact[i] != .none || base.subtree[i] != .none {
                let name = base.index.name(i)
                guard isBelow(name, roots) else { continue }
                out[name] = NameEntry(
                    exact: base.exact[i] != .none ? (base.values, base.exact[i]) : nil,
                    subtree: base.subtree[i] != .none ? (base.values, base.subtree[i]) : nil)
            }
        }
        if let delta = ds.delta?.domains {
            for i in 0..<delta.index.count where delta.exact[i] != .none || delta.subtree[i] != .none {
                let name = delta.index.name(i)
                guard isBelow(name, roots) else { continue }
                var entry = out[name] ?? NameEntry()
                if delta.exact[i] != .none { entry.exact = delta.exact[i] == .removed ? nil : (delta.values, delta.exact[i]) }
                if delta.subtree[i] != .none { entry.subtree = delta.subtree[i] == .removed ? nil : (delta.values, delta.subtree[i]) }
                out[name] = entry.exact == nil && entry.subtree == nil ? nil : entry
            }
        }
        return out
    }

    /// The name is one of `roots` or below one (always, without roots).
    static func isBelow(_ name: [UInt8], _ roots: Set<[UInt8]>?) -> Bool {
        guard let roots else { return true }
        var o = 0
        while o < name.count {
            if roots.contains(Array(name[o...])) { return true }
            o += 1 + Int(name[o])
        }
        return false
    }

    static func domainRecords(_ entries: [[UInt8]: NameEntry], under roots: Set<[UInt8]>?, _ body: (Record) -> Void) {
        // Every listed name and its ancestors (within the roots): the ancestors exist too, and
        // below a subtree they need its records.
        var visit = Set<[UInt8]>()
        for name in entries.keys {
            var o = 0
            while o < name.count {
                let n = Array(name[o...])
                guard isBelow(n, roots), visit.insert(n).inserted else { break }
                o += 1 + Int(name[o])
            }
        }
        for wire in visit.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let text = relativeText(wire)
            // The nearest subtree strictly above: it covers this name and what is below it,
            // unless this name says otherwise.
            var covering: (table: ValueTable, ref: ValueRef)? = nil
            var o = 1 + Int(wire[0])
            while o < wire.count {
                if let s = entries[Array(wire[o...])]?.subtree {
                    covering = s
                    break
                }
                o += 1 + Int(wire[o])
            }
            let entry = entries[wire]
            if let e = entry?.exact ?? covering { values(wire, e.table, e.ref, key: Array(text.utf8), body) }
            if let s = entry?.subtree ?? covering { values(wildcard + wire, s.table, s.ref, key: Array(("*." + text).utf8), body) }
        }
    }

    // MARK: - changes

    /// The records that differ between two versions of a zone whose listings differ only in
    /// `keys` (the IXFR difference): only the affected part of the zone is exported, both ways.
    /// Address ranges are widened to whole runs of either version until both versions are
    /// unlisted just outside them; names to the highest subtree above them.
    public static func changes(from old: ZoneDataset, to new: ZoneDataset, keys: [ListingKey]) -> (deleted: [Record], added: [Record]) {
        var v4: [(lo: UInt32, hi: UInt32)] = []
        var v6: [(lo: UInt128, hi: UInt128)] = []
        var roots = Set<[UInt8]>()
        for key in keys {
            switch key {
            case .ipv4(let first, let last): v4.append((first, last))
            case .ipv6(let address, let length):
                v6.append((address, length == 0 ? .max : address | ((UInt128(1) << (128 - length)) - 1)))
            case .domain, .email:
                let name = PublishedZones.nameSlot(key).wire
                var root = name
                var o = 0
                while o < name.count {
                    let ancestor = Array(name[o...])
                    if hasSubtree(old, ancestor) || hasSubtree(new, ancestor) { root = ancestor }
                    o += 1 + Int(name[o])
                }
                roots.insert(root)
            }
        }
        var before: [Record] = []
        var after: [Record] = []
        for r in regions(v4, { extent($0, old.ipv4, old.delta?.ipv4, new.ipv4, new.delta?.ipv4) }) {
            ipv4Records(ipv4Spans(old, from: r.lo, through: r.hi)) { before.append($0) }
            ipv4Records(ipv4Spans(new, from: r.lo, through: r.hi)) { after.append($0) }
        }
        for r in regions(v6, { extent($0, old.ipv6, old.delta?.ipv6, new.ipv6, new.delta?.ipv6) }) {
            ipv6Records(ipv6Spans(old, from: r.lo, through: r.hi)) { before.append($0) }
            ipv6Records(ipv6Spans(new, from: r.lo, through: r.hi)) { after.append($0) }
        }
        if !roots.isEmpty {
            domainRecords(names(old, under: roots), under: roots) { before.append($0) }
            domainRecords(names(new, under: roots), under: roots) { after.append($0) }
        }
        let was = Set(before)
        let now = Set(after)
        return (was.subtracting(now).sorted(by: recordOrder), now.subtracting(was).sorted(by: recordOrder))
    }

    static func recordOrder(_ x: Record, _ y: Record) -> Bool {
        if x.owner != y.owner { return x.owner.lexicographicallyPrecedes(y.owner) }
        if x.type != y.type { return x.type < y.type }
        return x.rdata.lexicographicallyPrecedes(y.rdata)
    }

    static func hasSubtree(_ ds: ZoneDataset, _ name: [UInt8]) -> Bool {
        if let delta = ds.delta?.domains, let d = delta.index.find(name), delta.subtree[d] != .none {
            return delta.subtree[d] != .removed
        }
        if let base = ds.domains, let e = base.index.find(name) { return base.subtree[e] != .none }
        return false
    }

    /// The run holding `x` in either version (a superset is fine), nil where both leave it unlisted.
    static func extent<A>(
        _ x: A, _ oldBase: IntervalMap<A>, _ oldDelta: IntervalMap<A>?, _ newBase: IntervalMap<A>, _ newDelta: IntervalMap<A>?
    ) -> (A, A)? {
        func one(_ base: IntervalMap<A>, _ delta: IntervalMap<A>?) -> (A, A)? {
            if let delta {
                let d = delta.interval(at: x)
                if d.ref != .none { return d.ref.isListed ? (d.start, d.end) : nil }
            }
            let b = base.interval(at: x)
            return b.ref.isListed ? (b.start, b.end) : nil
        }
        switch (one(oldBase, oldDelta), one(newBase, newDelta)) {
        case (nil, nil): return nil
        case (let a?, nil): return a
        case (nil, let b?): return b
        case (let a?, let b?): return (min(a.0, b.0), max(a.1, b.1))
        }
    }

    /// The changed ranges, widened until the address just outside each is unlisted in both
    /// versions: there the old and new records part from the unchanged ones.
    static func regions<A: FixedWidthInteger & UnsignedInteger>(_ ranges: [(lo: A, hi: A)], _ extent: (A) -> (A, A)?) -> [(lo: A, hi: A)] {
        var out: [(lo: A, hi: A)] = []
        for var r in ranges.sorted(by: { $0.lo < $1.lo }) {
            while r.lo > 0, let e = extent(r.lo - 1) { r.lo = min(r.lo, e.0) }
            while r.hi < A.max, let e = extent(r.hi + 1) { r.hi = max(r.hi, e.1) }
            if let last = out.last, last.hi == A.max || r.lo <= last.hi + 1 {
                out[out.count - 1].hi = max(last.hi, r.hi)
            } else {
                out.append(r)
            }
        }
        // Widening can reach below an earlier range's start: merge once more in order.
        var merged: [(lo: A, hi: A)] = []
        for r in out.sorted(by: { $0.lo < $1.lo }) {
            if let last = merged.last, last.hi == A.max || r.lo <= last.hi + 1 {
                merged[merged.count - 1].hi = max(last.hi, r.hi)
            } else {
                merged.append(r)
            }
        }
        return merged
    }

    // MARK: - text

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
