import ListingKeys
import Listings
import RBLDatasets

/// rbldnsd data files as feeds (SPEC §4): read with the same parser `thurac serve --zone` uses,
/// so every syntax rbldnsd accepts (ip4set shorthands, ranges, `!` exclusions, `:code:text`
/// defaults, `$` directives) means here what it means there. The compiled result is turned
/// back into keys: IPv4 ranges, IPv6 prefixes, domains; the 127.0.0.x code names the category
/// (a code that is not one of ours takes the feed's category). A data file is a dataset, not a
/// stream: it is read whole.
enum RbldnsdFeed {
    /// The dataset type a file's entries are written for: names → dnset, IPv6 → ip6trie,
    /// otherwise ip4set (which also reads ip4trie's CIDR lines).
    static func type(of head: ArraySlice<UInt8>) -> DatasetType {
        for raw in String(decoding: head, as: UTF8.self).split(separator: "\n") {
            var line = raw.drop { $0 == " " || $0 == "\t" || $0 == "!" }
            guard let c = line.first, c != "#", c != "$", c != ":", c != ";" else { continue }
            line = line.prefix { $0 != " " && $0 != "\t" }
            if line.contains(":") { return .ip6trie }
            if line.contains(where: { $0.isLetter }) { return .dnset }
            return .ip4set
        }
        return .ip4set
    }

    static func entries(
        path: String, type: DatasetType, defaultCategory: Category
    ) throws(FeedError) -> (entries: [FeedEntry], errors: [FeedLineError]) {
        let loaded: LoadedDataset
        do {
            loaded = try DatasetLoader.load(type: type, files: [path], options: LoadOptions())
        } catch {
            throw FeedError("\(error)")
        }
        var errors = loaded.warnings.map { FeedLineError(line: $0.line, message: $0.message) }
        var out: [FeedEntry] = []
        for (_, ds) in loaded.parts {
            func add(_ key: ListingKey, excluded: Bool, _ table: ValueTable, _ ref: ValueRef) {
                if excluded {
                    out.append(FeedEntry(line: 0, key: KeySpec(key: key, excluded: true), category: defaultCategory, reason: nil))
                    return
                }
                table.forEachValue(ref) { i in
                    let code = table.addresses[i]
                    let category = Category.allCases.first { $0.defaultReturnCode == code } ?? defaultCategory
                    let start = Int(table.templateStarts[i])
                    let end = Int(table.templateStarts[i + 1])
                    let text = table.templates[start..<end].map { $0 == AnswerValue.keyMarker ? UInt8(ascii: "$") : $0 }
                    out.append(
                        FeedEntry(
                            line: 0, key: KeySpec(key: key, excluded: false), category: category,
                            reason: text.isEmpty ? nil : String(decoding: text, as: UTF8.self)))
                }
            }
            if ds.hasIPv4 {
                for iv in ds.ipv4.listedIntervals() { add(.ipv4(first: iv.start, last: iv.end), excluded: false, ds.ipValues, iv.ref) }
            }
            if ds.hasIPv6 {
                for iv in ds.ipv6.listedIntervals() {
                    for (a, n) in ListingKey.ipv6Prefixes(from: iv.start, through: iv.end) {
                        add(.ipv6(address: a, prefixLength: n), excluded: false, ds.ipValues, iv.ref)
                    }
                }
            }
            if let names = ds.domains {
                for i in 0..<names.index.count {
                    let wire = names.index.name(i)
                    var labels: [String] = []
                    var o = 0
                    while o < wire.count {
                        labels.append(String(decoding: wire[(o + 1)..<(o + 1 + Int(wire[o]))], as: UTF8.self))
                        o += 1 + Int(wire[o])
                    }
                    let name = labels.joined(separator: ".")
                    for (ref, subtree) in [(names.exact[i], false), (names.subtree[i], true)] where ref != .none {
                        // Through the key parser: rbldnsd takes names a listing key does not.
                        guard let spec = try? KeySpec(parsing: (subtree ? "*." : "") + name) else {
                            errors.append(FeedLineError(line: 0, message: "\(quoted(name)) is not a domain name a listing can hold"))
                            continue
                        }
                        add(spec.key, excluded: ref == .excluded, names.values, ref)
                    }
                }
            }
        }
        return (out, errors)
    }
}
