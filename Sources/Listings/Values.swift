/// What a listing answers: one A address (127.0.0.x) and an optional TXT template.
///
/// Templates are compiled when data is loaded: `$n` variables, `$$` and the rbldnsd `$=` base
/// template are resolved then, and the only thing left for query time is the key itself, marked
/// by a `keyMarker` octet. Expanding a template at query time is then a copy loop.
public struct AnswerValue: Hashable, Sendable {
    /// The A record's address, host byte order (127.0.0.2 is 0x7F000002).
    public var address: UInt32
    /// Compiled TXT template; empty means "no TXT record".
    public var template: [UInt8]

    public init(address: UInt32, template: [UInt8]) {
        self.address = address
        self.template = template
    }

    /// Marks where the queried key goes in a compiled template. NUL never occurs in dataset text.
    public static let keyMarker: UInt8 = 0
}

/// Reference from a listing structure to its answer: a single value, a group of values (a key
/// with several entries answers one record per entry), an exclusion, or nothing.
public struct ValueRef: Hashable, Sendable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let none = ValueRef(rawValue: 0xFFFF_FFFF)
    public static let excluded = ValueRef(rawValue: 0xFFFF_FFFE)
    /// In a delta laid over a dataset (`ZoneDelta`): the dataset's entry here is gone; look
    /// further as if it had never been there.
    public static let removed = ValueRef(rawValue: 0xFFFF_FFFD)
    @usableFromInline static let groupBit: UInt32 = 0x8000_0000

    @inlinable public static func value(_ index: Int) -> ValueRef { ValueRef(rawValue: UInt32(index)) }
    @inlinable public static func group(_ index: Int) -> ValueRef { ValueRef(rawValue: UInt32(index) | groupBit) }

    /// Listed: a value or a group (not nothing, not excluded, not removed).
    @inlinable public var isListed: Bool { rawValue < 0xFFFF_FFFD }
    @inlinable public var isGroup: Bool { isListed && rawValue & Self.groupBit != 0 }
    @inlinable public var index: Int { Int(rawValue & ~Self.groupBit) }
}

/// The answers of one dataset: interned values and value groups.
public final class ValueTable: Sendable {
    public let addresses: [UInt32]
    /// Template of value i is `templates[templateStarts[i]..<templateStarts[i+1]]`.
    public let templateStarts: [UInt32]
    public let templates: [UInt8]
    /// Members of group g are `groupMembers[groupStarts[g]..<groupStarts[g+1]]` (value indexes).
    public let groupStarts: [UInt32]
    public let groupMembers: [UInt32]

    init(builder: ValueTableBuilder) {
        addresses = builder.addresses
        var starts: [UInt32] = [0]
        var blob: [UInt8] = []
        for t in builder.templates {
            blob.append(contentsOf: t)
            starts.append(UInt32(blob.count))
        }
        templateStarts = starts
        templates = blob
        var gs: [UInt32] = [0]
        var gm: [UInt32] = []
        for g in builder.groups {
            gm.append(contentsOf: g)
            gs.append(UInt32(gm.count))
        }
        groupStarts = gs
        groupMembers = gm
    }

    public var count: Int { addresses.count }

    public func value(_ i: Int) -> AnswerValue {
        AnswerValue(
            address: addresses[i],
            template: Array(templates[Int(templateStarts[i])..<Int(templateStarts[i + 1])]))
    }

    /// Calls `body` with each value index of `ref` (nothing for none or excluded).
    @inlinable
    public func forEachValue(_ ref: ValueRef, _ body: (Int) -> Void) {
        guard ref.isListed else { return }
        if !ref.isGroup {
            body(ref.index)
            return
        }
        let g = ref.index
        groupMembers.withUnsafeBufferPointer { members in
            for k in Int(groupStarts[g])..<Int(groupStarts[g + 1]) { body(Int(members[k])) }
        }
    }

    /// Every value of a ref, for tools and tests.
    public func values(_ ref: ValueRef) -> [AnswerValue] {
        var out: [AnswerValue] = []
        forEachValue(ref) { out.append(value($0)) }
        return out
    }
}

/// Interns values and groups while a dataset is loaded.
public struct ValueTableBuilder {
    var addresses: [UInt32] = []
    var templates: [[UInt8]] = []
    var valueIndex: [AnswerValue: Int] = [:]
    var groups: [[UInt32]] = []
    var groupIndex: [[UInt32]: Int] = [:]
    var scratch: [UInt32] = []

    public init() {}

    public mutating func intern(_ value: AnswerValue) -> ValueRef {
        if let i = valueIndex[value] { return .value(i) }
        let i = addresses.count
        addresses.append(value.address)
        templates.append(value.template)
        valueIndex[value] = i
        return .value(i)
    }

    /// The ref for a set of refs found on one key: excluded wins (rbldnsd: an exclusion entry for
    /// a key hides every other entry of that key), a single value stays a value.
    public mutating func combine<Refs: Collection<ValueRef>>(_ refs: Refs) -> ValueRef {
        // Most overlaps are one value over itself (a listed address inside a listed network,
        // both with the dataset's default value): answered without building a group.
        var only: ValueRef? = nil
        var single = true
        for r in refs {
            if r == .excluded { return .excluded }
            guard r.isListed else { continue }
            if only == nil, !r.isGroup { only = r } else if r != only { single = false }
        }
        if single { return only ?? .none }
        // The members sorted and unique, in a buffer kept from call to call: a sweep over
        // nested networks with values of their own combines once per segment, and allocating
        // twice each time was most of an exported list's build.
        var members: [UInt32] = []
        swap(&members, &scratch)
        defer { swap(&members, &scratch) }
        members.removeAll(keepingCapacity: true)
        for r in refs where r.isListed {
            if r.isGroup { members.append(contentsOf: groups[r.index]) } else { members.append(UInt32(r.index)) }
        }
        members.sort()
        var kept = 0
        for j in members.indices where kept == 0 || members[kept - 1] != members[j] {
            members[kept] = members[j]
            kept += 1
        }
        members.removeLast(members.count - kept)
        if kept == 1 { return .value(Int(members[0])) }
        if let g = groupIndex[members] { return .group(g) }
        groups.append(members)
        groupIndex[members] = groups.count - 1
        return .group(groups.count - 1)
    }

    public func build() -> ValueTable { ValueTable(builder: self) }
}

/// Compiles rbldnsd TXT templates (rbldnsd(8), "Resulting A values and TXT templates").
public struct TemplateCompiler: Sendable {
    /// `$0`..`$9` of the dataset, in scope when the template was read.
    public var variables: [[UInt8]?] = Array(repeating: nil, count: 10)
    /// `$=` base template, if set.
    public var baseTemplate: [UInt8]? = nil

    public init() {}

    public func compile(_ text: [UInt8]) -> [UInt8] {
        let dollar = UInt8(ascii: "$")
        var template = text
        // What `$=` stands for: the entry's own text, raw, or the key when the entry has none.
        var entryText: [UInt8]? = text
        if text.first == UInt8(ascii: "=") {
            template = Array(text.dropFirst())
            entryText = template
        } else if let base = baseTemplate, !base.isEmpty {
            entryText = text.isEmpty ? nil : text
            template = base
        }
        var out: [UInt8] = []
        out.reserveCapacity(template.count + 16)
        var i = 0
        while i < template.count {
            let c = template[i]
            i += 1
            if c != dollar {
                out.append(c)
                continue
            }
            guard i < template.count else {
                out.append(AnswerValue.keyMarker)
                break
            }
            let n = template[i]
            if n == dollar {
                out.append(dollar)
                i += 1
            } else if n >= UInt8(ascii: "0"), n <= UInt8(ascii: "9") {
                if let v = variables[Int(n - UInt8(ascii: "0"))] {
                    out.append(contentsOf: v)
                } else {
                    out.append(dollar)
                    out.append(n)
                }
                i += 1
            } else if n == UInt8(ascii: "=") {
                if let e = entryText { out.append(contentsOf: e) } else { out.append(AnswerValue.keyMarker) }
                i += 1
            } else {
                out.append(AnswerValue.keyMarker)
            }
        }
        return out
    }
}
