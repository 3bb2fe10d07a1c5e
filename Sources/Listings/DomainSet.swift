/// A set of domain names with exact entries, subtree (wildcard) entries and exclusions
/// (rbldnsd `dnset` semantics): an exact entry for the name decides first, an exact exclusion
/// stops the search; otherwise the nearest enclosing subtree entry decides.
public final class DomainSet: Sendable {
    public let index: NameIndex
    public let exact: [ValueRef]
    public let subtree: [ValueRef]
    /// Entry has listed names below it (or is the owner of a listed subtree): an empty
    /// non-terminal when it is not listed itself.
    public let hasDescendants: [Bool]
    public let values: ValueTable

    public struct Match {
        public var ref: ValueRef
        /// Offset and length of the entry's name inside the looked-up bytes.
        public var nameOffset: Int
        public var nameLength: Int
        /// The entry came from the delta laid over this set (its values are the delta's).
        public var fromDelta: Bool
        @inlinable public init(ref: ValueRef, nameOffset: Int, nameLength: Int, fromDelta: Bool = false) {
            self.ref = ref
            self.nameOffset = nameOffset
            self.nameLength = nameLength
            self.fromDelta = fromDelta
        }
    }

    public init(builder: DomainSetBuilder) {
        let b = builder
        var index = b.index
        var exact = b.exact
        var subtree = b.subtree
        var descendants = [Bool](repeating: false, count: exact.count)
        let listedCount = exact.count
        // In the order the names lie in the blob, not the order of their entries (which follow
        // the hash table): reading each name's first label was a cache miss per name otherwise.
        var order = (0..<listedCount).map { UInt64(index.starts[$0]) << 32 | UInt64($0) }
        RadixSort.sort(&order, lowestBit: 32)
        for key in order {
            let i = Int(key & 0xFFFF_FFFF)
            if subtree[i].isListed { descendants[i] = true }
            guard exact[i].isListed || subtree[i].isListed else { continue }
            // Ancestors are suffixes of the name already in the blob: no copy.
            let start = Int(index.starts[i])
            let end = start + Int(index.lengths[i])
            var o = start
            while true {
                o += 1 + Int(index.names[o])
                if o >= end { break }
                let (k, inserted) = index.insertSuffix(start: o, length: end - o)
                if inserted {
                    exact.append(.none)
                    subtree.append(.none)
                    descendants.append(true)
                } else {
                    if descendants[k] { break }
                    descendants[k] = true
                }
            }
        }
        self.index = index.build()
        self.exact = exact
        self.subtree = subtree
        hasDescendants = descendants
        values = b.values.build()
    }

    /// Looks up the relative name at p[from..<from+count] (labels only).
    @inlinable
    public func lookup(_ p: UnsafeRawBufferPointer, from: Int, count: Int) -> Match? {
        if let e = index.find(p, from: from, count: count), exact[e] != .none {
            return Match(ref: exact[e], nameOffset: from, nameLength: count)
        }
        var o = from
        let end = from + count
        while o < end {
            o += 1 + Int(p[o])
            if o >= end { break }
            if let e = index.find(p, from: o, count: end - o), subtree[e] != .none {
                return Match(ref: subtree[e], nameOffset: o, nameLength: end - o)
            }
        }
        return nil
    }

    /// The lookup with `delta` laid over this set: for every name and slot (exact, subtree) the
    /// delta's entry, where it has one, replaces this set's; `.removed` there means this set's
    /// entry is gone. The rules are otherwise `lookup`'s.
    @inlinable
    public func lookup(_ p: UnsafeRawBufferPointer, from: Int, count: Int, over delta: DomainSet) -> Match? {
        if let d = delta.index.find(p, from: from, count: count), delta.exact[d] != .none {
            if delta.exact[d] != .removed { return Match(ref: delta.exact[d], nameOffset: from, nameLength: count, fromDelta: true) }
        } else if let e = index.find(p, from: from, count: count), exact[e] != .none {
            return Match(ref: exact[e], nameOffset: from, nameLength: count)
        }
        var o = from
        let end = from + count
        while o < end {
            o += 1 + Int(p[o])
            if o >= end { break }
            if let d = delta.index.find(p, from: o, count: end - o), delta.subtree[d] != .none {
                if delta.subtree[d] != .removed {
                    return Match(ref: delta.subtree[d], nameOffset: o, nameLength: end - o, fromDelta: true)
                }
                continue
            }
            if let e = index.find(p, from: o, count: end - o), subtree[e] != .none {
                return Match(ref: subtree[e], nameOffset: o, nameLength: end - o)
            }
        }
        return nil
    }

    /// The name exists without being listed itself: it has listed names below it.
    @inlinable
    public func isEmptyNonTerminal(_ p: UnsafeRawBufferPointer, from: Int, count: Int) -> Bool {
        guard let e = index.find(p, from: from, count: count) else { return false }
        return hasDescendants[e]
    }

    public var entryCount: Int { index.count }
    public var byteCount: Int { index.byteCount + exact.count * 9 }
}

public struct DomainSetBuilder {
    public var values = ValueTableBuilder()
    var index: NameIndexBuilder
    var exact: [ValueRef] = []
    var subtree: [ValueRef] = []

    public init(expectedCount: Int = 0) {
        index = NameIndexBuilder(expectedCount: expectedCount)
        exact.reserveCapacity(expectedCount)
        subtree.reserveCapacity(expectedCount)
    }

    /// Takes names already indexed (entry i of `index` has refs exact[i] and subtree[i]).
    public init(index: NameIndexBuilder, exact: [ValueRef], subtree: [ValueRef], values: ValueTableBuilder) {
        precondition(index.count == exact.count && exact.count == subtree.count)
        self.index = index
        self.exact = exact
        self.subtree = subtree
        self.values = values
    }

    /// `name` is a lower-cased relative wire name (labels only). Several entries for one name
    /// combine (an exclusion among them wins).
    public mutating func add(_ name: [UInt8], exact e: ValueRef?, subtree s: ValueRef?) {
        let (i, inserted) = index.insert(name)
        if inserted {
            exact.append(.none)
            subtree.append(.none)
        }
        merge(i, exact: e, subtree: s)
    }

    /// Adds refs to entry i.
    public mutating func merge(_ i: Int, exact e: ValueRef?, subtree s: ValueRef?) {
        if let r = e { exact[i] = exact[i] == .none ? r : values.combine([exact[i], r]) }
        if let r = s { subtree[i] = subtree[i] == .none ? r : values.combine([subtree[i], r]) }
    }

    public var isEmpty: Bool { exact.isEmpty }
    public func build() -> DomainSet { DomainSet(builder: self) }
}

/// Plain resource records at exact names (rbldnsd `generic` datasets, zone skeletons).
public final class RecordTable: Sendable {
    public struct Record: Sendable, Equatable {
        public var type: UInt16
        public var ttl: UInt32
        /// RDATA in wire form; domain names in it are absolute and uncompressed.
        public var rdata: [UInt8]
        public init(type: UInt16, ttl: UInt32, rdata: [UInt8]) {
            self.type = type
            self.ttl = ttl
            self.rdata = rdata
        }
    }

    public let index: NameIndex
    /// Records of entry i are records[recordStarts[i]..<recordStarts[i+1]].
    public let recordStarts: [Int]
    public let records: [Record]

    public init(_ byName: [[UInt8]: [Record]]) {
        var names: [[UInt8]] = []
        var starts: [Int] = [0]
        var recs: [Record] = []
        var seen = Set<[UInt8]>()
        for (name, list) in byName.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            names.append(name)
            seen.insert(name)
            recs.append(contentsOf: list)
            starts.append(recs.count)
        }
        // Ancestors exist as empty non-terminals.
        for name in byName.keys {
            for a in RelativeName.ancestors(name) where seen.insert(a).inserted {
                names.append(a)
                starts.append(recs.count)
            }
        }
        index = NameIndex(names: names)
        recordStarts = starts
        records = recs
    }

    @inlinable
    public func entry(_ p: UnsafeRawBufferPointer, from: Int, count: Int) -> Range<Int>? {
        guard let e = index.find(p, from: from, count: count) else { return nil }
        return recordStarts[e]..<recordStarts[e + 1]
    }
}
