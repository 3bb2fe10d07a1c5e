/// A set of keys that answers "is this key entirely inside it?": the allowlist's question
/// (SPEC §2: keys and ranges that must never be published). Address ranges are merged, so a
/// feed's /32 inside an allowlisted /24 or a range spanning two adjacent allowlisted ones is
/// covered; domains are covered by the same name or by a subtree above them.
public struct KeyCover: Sendable {
    var v4: [(first: UInt32, last: UInt32)] = []
    var v6: [(first: UInt128, last: UInt128)] = []
    public private(set) var exactNames: Set<String> = []
    public private(set) var subtrees: Set<String> = []
    var emails: Set<String> = []

    public init(_ keys: [ListingKey]) {
        var v4: [(UInt32, UInt32)] = []
        var v6: [(UInt128, UInt128)] = []
        for k in keys {
            switch k {
            case .ipv4(let first, let last): v4.append((first, last))
            case .ipv6(let a, let n): v6.append((a, n == 0 ? UInt128.max : a | (UInt128.max >> n)))
            case .domain(let name, let subtree):
                if subtree { subtrees.insert(name) } else { exactNames.insert(name) }
            case .email(let address): emails.insert(address)
            }
        }
        self.v4 = Self.merged(v4)
        self.v6 = Self.merged(v6)
    }

    public var isEmpty: Bool { v4.isEmpty && v6.isEmpty && exactNames.isEmpty && subtrees.isEmpty && emails.isEmpty }

    public func covers(_ key: ListingKey) -> Bool {
        switch key {
        case .ipv4(let first, let last): return Self.contains(v4, first, last)
        case .ipv6(let a, let n): return Self.contains(v6, a, n == 0 ? UInt128.max : a | (UInt128.max >> n))
        case .domain(let name, let subtree):
            if !subtree && exactNames.contains(name) { return true }
            if subtree && subtrees.contains(name) { return true }
            return isBelowSubtree(name)
        case .email(let address):
            return emails.contains(address)
        }
    }

    /// Merged allowlisted address ranges, for carving holes in published ranges.
    public var ipv4Ranges: [(first: UInt32, last: UInt32)] { v4 }
    public var ipv6Ranges: [(first: UInt128, last: UInt128)] { v6 }

    /// Strictly below an allowlisted subtree.
    func isBelowSubtree(_ name: String) -> Bool {
        guard !subtrees.isEmpty else { return false }
        var rest = Substring(name)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[rest.index(after: dot)...]
            if subtrees.contains(String(rest)) { return true }
        }
        return false
    }

    static func merged<A: FixedWidthInteger>(_ ranges: [(A, A)]) -> [(first: A, last: A)] {
        var out: [(first: A, last: A)] = []
        for (f, l) in ranges.sorted(by: { $0.0 < $1.0 }) {
            if let prev = out.last, prev.last == A.max || f <= prev.last + 1 {
                out[out.count - 1].last = max(prev.last, l)
            } else {
                out.append((f, l))
            }
        }
        return out
    }

    static func contains<A: FixedWidthInteger>(_ ranges: [(first: A, last: A)], _ first: A, _ last: A) -> Bool {
        // The last merged range starting at or before `first` must reach `last`.
        var lo = 0
        var hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].first <= first { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 && ranges[lo - 1].last >= last
    }
}
