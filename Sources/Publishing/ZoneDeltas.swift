import DNSWire
import ListingKeys
import Listings

/// What a zone's last full build leaves behind so later changes can be laid over it
/// (`ZoneDelta`) instead of recompiling every listing: the dataset, and its address entries
/// before layering, grouped by size so the ones overlapping a changed range are found by
/// binary search.
struct ZoneBase {
    let zone: ZoneDefinition
    let dataset: ZoneDataset
    let v4: SizeClasses<UInt32>
    let v6: SizeClasses<UInt128>
}

/// Intervals grouped by size class (span + 1 in [2^b, 2^(b+1))), each group sorted by start:
/// an interval overlapping [lo, hi] in group b starts in [lo - 2^(b+1) + 2, hi].
struct SizeClasses<A: FixedWidthInteger & UnsignedInteger & Sendable> {
    var groups: [[AddressInterval<A>]]

    init(_ entries: [AddressInterval<A>]) {
        var g = [[AddressInterval<A>]](repeating: [], count: A.bitWidth + 1)
        for e in entries { g[Self.sizeClass(e)].append(e) }
        groups = g.map { $0.sorted { $0.start < $1.start } }
    }

    static func sizeClass(_ e: AddressInterval<A>) -> Int {
        let span = e.end - e.start
        return span == A.max ? A.bitWidth : A.bitWidth - (span &+ 1).leadingZeroBitCount - 1
    }

    func overlapping(_ lo: A, _ hi: A, _ body: (AddressInterval<A>) -> Void) {
        for (b, group) in groups.enumerated() where !group.isEmpty {
            let reach: A = b >= A.bitWidth - 1 ? A.max : (A(1) << (b + 1)) - 2
            let from = lo > reach ? lo - reach : 0
            var l = 0
            var h = group.count
            while l < h {
                let m = (l + h) / 2
                if group[m].start < from { l = m + 1 } else { h = m }
            }
            var i = l
            while i < group.count, group[i].start <= hi {
                if group[i].end >= lo { body(group[i]) }
                i += 1
            }
        }
    }
}

enum ZoneDeltas {
    /// The delta for `changes` (each changed key with its listings as they are now; none when
    /// it is no longer published): the answers of every address range a changed key covers,
    /// recomputed from the unchanged entries there and the changed ones, and the changed names.
    static func delta(_ base: ZoneBase, changes: [String: [PublishedEntry]], allowlist: KeyCover) -> ZoneDelta? {
        var keys: [(spec: KeySpec, entries: [PublishedEntry])] = []
        for (text, entries) in changes {
            var t = text
            guard let spec = t.withUTF8({ try? KeySpec(canonicalBytes: $0) }), PublishedZones.role(of: spec.key) == base.zone.role
            else { continue }
            keys.append((spec, entries.filter { $0.key.excluded || !allowlist.covers($0.key.key) }))
        }
        guard !keys.isEmpty else { return nil }
        var values = ValueTableBuilder()
        var interner = ValueInterner(zone: base.zone)
        switch base.zone.role {
        case .addresses:
            var changed = AddressEntries()
            var now = AddressEntries()
            for (spec, entries) in keys {
                // The ref only marks which of the dataset's entries this key was.
                changed.append(spec, ref: spec.excluded ? .excluded : .none)
                for e in entries { now.append(e.key, ref: interner.ref(e, &values)) }
            }
            var reinterned: [ValueRef: ValueRef] = [:]
            let baseValues = base.dataset.ipValues
            let v4 = recompute(
                changed.v4, now: now.v4, base: base.v4, allow: allowlist.ipv4Ranges, values: &values, baseValues: baseValues,
                reinterned: &reinterned)
            let v6 = recompute(
                changed.v6, now: now.v6, base: base.v6, allow: allowlist.ipv6Ranges, values: &values, baseValues: baseValues,
                reinterned: &reinterned)
            return ZoneDelta(
                ipValues: values.build(), ipv4: IntervalMap(v4), ipv6: IntervalMap(v6), domains: nil)
        case .domains, .hashedAddresses:
            // One slot per name and kind (exact, subtree), shared by a key and its exclusion.
            var slots: [[UInt8]: (subtree: Bool, spec: KeySpec, entries: [PublishedEntry])] = [:]
            for (spec, entries) in keys {
                let slot = PublishedZones.nameSlot(spec.key)
                let id = slot.wire + [slot.subtree ? 1 : 0]
                slots[id, default: (slot.subtree, KeySpec(key: spec.key, excluded: false), [])].entries += entries
            }
            var names = DomainSetBuilder()
            for (id, slot) in slots {
                let wire = Array(id.dropLast())
                var refs: [ValueRef] = []
                for e in slot.entries { refs.append(interner.ref(e, &names.values)) }
                var ref = refs.isEmpty ? ValueRef.removed : names.values.combine(refs)
                // An allowlisted name keeps its hole.
                if ref == .removed, case .domain(let name, let subtree) = slot.spec.key,
                    subtree ? allowlist.subtrees.contains(name) : allowlist.exactNames.contains(name)
                {
                    ref = .excluded
                }
                names.add(wire, exact: slot.subtree ? nil : ref, subtree: slot.subtree ? ref : nil)
            }
            return ZoneDelta(
                ipValues: values.build(), ipv4: .empty, ipv6: .empty, domains: names.build())
        case .allowlist:
            return nil
        }
    }

    /// For each range a changed key covers: the layered answer from the dataset's other entries
    /// there and the changed keys' entries as they are now, with the allowlist's holes, filling
    /// the range entirely (`.excluded` where nothing is listed, so the dataset is not asked).
    static func recompute<A: FixedWidthInteger & UnsignedInteger & Sendable>(
        _ changed: [AddressInterval<A>], now: [AddressInterval<A>], base: SizeClasses<A>, allow: [(first: A, last: A)],
        values: inout ValueTableBuilder, baseValues: ValueTable, reinterned: inout [ValueRef: ValueRef]
    ) -> [AddressInterval<A>] {
        // The dataset's values, copied into the delta's table as they are met.
        func fromBase(_ r: ValueRef) -> ValueRef {
            guard r.isListed else { return r }
            if let known = reinterned[r] { return known }
            var refs: [ValueRef] = []
            for v in baseValues.values(r) { refs.append(values.intern(v)) }
            let mapped = values.combine(refs)
            reinterned[r] = mapped
            return mapped
        }
        guard !changed.isEmpty else { return [] }
        // The changed keys' own (old) entries in the dataset are replaced by `now`.
        var replaced = Set<RangeIdentity<A>>()
        for c in changed { replaced.insert(RangeIdentity(start: c.start, end: c.end, excluded: c.ref == .excluded)) }
        var ranges: [(lo: A, hi: A)] = []
        for c in changed.sorted(by: { $0.start < $1.start }) {
            if let last = ranges.last, last.hi == A.max || c.start <= last.hi + 1 {
                ranges[ranges.count - 1].hi = max(last.hi, c.end)
            } else {
                ranges.append((c.start, c.end))
            }
        }
        var out: [AddressInterval<A>] = []
        for r in ranges {
            var here: [AddressInterval<A>] = []
            base.overlapping(r.lo, r.hi) { e in
                if !replaced.contains(RangeIdentity(start: e.start, end: e.end, excluded: e.ref == .excluded)) {
                    here.append(AddressInterval(start: e.start, end: e.end, ref: fromBase(e.ref)))
                }
            }
            for e in now where e.end >= r.lo && e.start <= r.hi { here.append(e) }
            var laid = PublishedZones.layered(here, values: &values)
            let holes = allow.filter { $0.last >= r.lo && $0.first <= r.hi }.map { AddressInterval(start: $0.first, end: $0.last, ref: ValueRef.excluded) }
            laid = IntervalAlgebra.overlay(laid, holes)
            // Clip to the range and fill it.
            var cursor = r.lo
            var done = false
            for iv in laid where iv.end >= r.lo && iv.start <= r.hi && !done {
                let s = max(iv.start, r.lo)
                if s > cursor { out.append(AddressInterval(start: cursor, end: s - 1, ref: .excluded)) }
                let e = min(iv.end, r.hi)
                out.append(AddressInterval(start: s, end: e, ref: iv.ref.isListed ? iv.ref : .excluded))
                if e == r.hi { done = true } else { cursor = e + 1 }
            }
            if !done { out.append(AddressInterval(start: cursor, end: r.hi, ref: .excluded)) }
        }
        return out
    }
}

/// One key's entries in a dataset: its range, and whether it is an exclusion.
struct RangeIdentity<A: Hashable>: Hashable {
    var start: A
    var end: A
    var excluded: Bool
}
