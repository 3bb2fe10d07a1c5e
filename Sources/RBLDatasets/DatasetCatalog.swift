import DNSWire
import Glibc
import Listings

/// One `zone:type:file,file` argument (rbldnsd's command line, `thurac serve --zone`).
public struct ZoneSpec: Sendable, Equatable {
    /// Zone name; empty for a global ACL.
    public var zone: String
    public var type: DatasetType
    public var files: [String]

    public init(zone: String, type: DatasetType, files: [String]) {
        self.zone = zone
        self.type = type
        self.files = files
    }

    /// Parses `zone:type:file,file`.
    public init(parsing text: String) throws(DatasetError) {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[2].isEmpty else {
            throw DatasetError(file: text, "expected zone:type:file[,file...]")
        }
        guard let t = DatasetType(rawValue: parts[1].lowercased()) else {
            throw DatasetError(file: text, "unknown dataset type '\(parts[1])'")
        }
        if parts[0].isEmpty && t != .acl {
            throw DatasetError(file: text, "missing zone name (only an acl dataset may be global)")
        }
        zone = String(parts[0]).lowercased()
        type = t
        files = parts[2].split(separator: ",").map(String.init)
    }
}

/// The datasets behind a set of zone specs: loads them, notices changed files, reloads what
/// changed and keeps the last good load of a dataset whose new version fails.
public final class DatasetCatalog {
    struct Key: Hashable {
        var type: DatasetType
        var files: [String]
    }
    struct Entry {
        var loaded: LoadedDataset
        var stamps: [String: FileStamp]
    }
    struct FileStamp: Equatable {
        var mtime: Int
        var mtimeNanos: Int
        var size: Int
        var inode: UInt
    }

    public let specs: [ZoneSpec]
    public var options: LoadOptions
    private var entries: [Key: Entry] = [:]
    private var generation: UInt64 = 0

    public init(specs: [ZoneSpec], options: LoadOptions) {
        self.specs = specs
        self.options = options
    }

    /// Loads every dataset whose files changed since the last call (all of them the first time).
    /// Returns whether anything changed, and what went wrong (file, line, reason). A dataset that
    /// fails keeps its last good data; on the first load a failure throws.
    public func refresh(now: Int) throws(DatasetError) -> (changed: Bool, diagnostics: [DatasetDiagnostic]) {
        var changed = false
        var diagnostics: [DatasetDiagnostic] = []
        var opts = options
        opts.now = now
        var seen = Set<Key>()
        for spec in specs {
            let key = Key(type: spec.type, files: spec.files)
            guard seen.insert(key).inserted else { continue }
            let stamps = Dictionary(uniqueKeysWithValues: spec.files.map { ($0, Self.stamp($0)) })
            if let old = entries[key], old.stamps == stamps.compactMapValues({ $0 }) { continue }
            do {
                let loaded = try DatasetLoader.load(type: spec.type, files: spec.files, options: opts)
                entries[key] = Entry(loaded: loaded, stamps: stamps.compactMapValues { $0 })
                diagnostics += loaded.warnings
                changed = true
            } catch {
                if entries[key] == nil { throw error }
                // Keep serving the last good data; remember the stamps so we do not retry every second.
                entries[key]!.stamps = stamps.compactMapValues { $0 }
                diagnostics.append(
                    DatasetDiagnostic(
                        file: error.diagnostic.file, line: error.diagnostic.line,
                        message: error.diagnostic.message + " (keeping the previous data)"))
            }
        }
        return (changed, diagnostics)
    }

    static func stamp(_ path: String) -> FileStamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return FileStamp(
            mtime: Int(st.st_mtim.tv_sec), mtimeNanos: Int(st.st_mtim.tv_nsec), size: Int(st.st_size),
            inode: UInt(st.st_ino))
    }

    /// Assembles the zones from the loaded datasets. Zones with no SOA get a synthesised one
    /// (negative answers must carry a SOA, RFC 2308), reported in the diagnostics.
    public func snapshot(now: Int) -> (ServingSnapshot, [DatasetDiagnostic]) {
        generation += 1
        var diagnostics: [DatasetDiagnostic] = []
        var order: [String] = []
        var byZone: [String: [LoadedDataset]] = [:]
        var globalACL: AccessList? = nil
        for spec in specs {
            guard let e = entries[Key(type: spec.type, files: spec.files)] else { continue }
            if spec.zone.isEmpty {
                if globalACL == nil { globalACL = e.loaded.acl }
                continue
            }
            if byZone[spec.zone] == nil { order.append(spec.zone) }
            byZone[spec.zone, default: []].append(e.loaded)
        }
        var zones: [Zone] = []
        for (id, name) in order.enumerated() {
            guard let origin = try? DomainName.wire(fromText: name, lowercase: true) else {
                diagnostics.append(DatasetDiagnostic(file: name, line: 0, message: "invalid zone name"))
                continue
            }
            let list = byZone[name]!
            var soa = list.first(where: { $0.soa != nil })?.soa
            let nsSource = list.first(where: { $0.nameservers != nil })
            let newest = list.map(\.newestModification).max() ?? now
            if soa == nil {
                diagnostics.append(
                    DatasetDiagnostic(
                        file: name, line: 0, message: "no $SOA in any dataset; serving a synthesised SOA"))
                let mname = nsSource?.nameservers?.first ?? origin
                soa = SOAData(
                    ttl: options.defaultTTL, mname: mname, rname: [10] + Array("hostmaster".utf8) + origin,
                    serial: UInt32(truncatingIfNeeded: newest), refresh: 3600, retry: 600, expire: 604_800,
                    minimum: options.defaultTTL)
            } else if soa!.serial == 0 {
                soa!.serial = UInt32(truncatingIfNeeded: newest)
            }
            var subzones: [[UInt8]: [ZoneDataset]] = [:]
            var acl: AccessList? = nil
            var testPoints = false
            for loaded in list {
                if loaded.type == .acl {
                    if acl == nil { acl = loaded.acl }
                    continue
                }
                if let x = loaded.expires, now > x {
                    diagnostics.append(
                        DatasetDiagnostic(file: name, line: 0, message: "dataset \(loaded.type.rawValue) expired ($TIMESTAMP); not served"))
                    continue
                }
                for part in loaded.parts {
                    subzones[part.subzone, default: []].append(part.dataset)
                    if part.dataset.hasIPv4 && part.dataset.ipv4.lookup(0x7F00_0002).isListed { testPoints = true }
                    if let d = part.dataset.domains, d.index.find(Array("\u{4}test".utf8)) != nil { testPoints = true }
                }
            }
            if !testPoints {
                diagnostics.append(
                    DatasetDiagnostic(
                        file: name, line: 0, message: "zone lacks the RFC 5782 test point (127.0.0.2 or 'test') listed"))
            }
            let nameservers = nsSource?.nameservers ?? []
            let glue = Self.glue(for: nameservers, origin: origin, datasets: subzones[[]] ?? [])
            let subs = subzones.map { labels, datasets in
                Subzone(labels: labels, labelCount: Self.labelCount(labels), datasets: datasets)
            }
            zones.append(
                Zone(
                    id: id, origin: origin, originText: name, soa: soa!, nameservers: nameservers,
                    nsTTL: nsSource?.nsTTL ?? options.defaultTTL, glue: glue,
                    subzones: subs.isEmpty ? [Subzone(labels: [], labelCount: 0, datasets: [])] : subs, acl: acl))
        }
        return (ServingSnapshot(zones: zones, globalACL: globalACL, generation: generation), diagnostics)
    }

    static func labelCount(_ labels: [UInt8]) -> Int {
        var n = 0
        var o = 0
        while o < labels.count {
            n += 1
            o += 1 + Int(labels[o])
        }
        return n
    }

    /// In-zone name servers get their A/AAAA records from `generic` data as glue.
    static func glue(for nameservers: [[UInt8]], origin: [UInt8], datasets: [ZoneDataset])
        -> [(name: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8])]
    {
        var out: [(name: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8])] = []
        for ns in nameservers {
            let lower = ns.map { DomainName.lower($0) }
            guard lower.count > origin.count, Array(lower.suffix(origin.count)) == origin else { continue }
            let relative = Array(lower.prefix(lower.count - origin.count))
            for ds in datasets {
                guard let table = ds.records, let e = table.index.find(relative) else { continue }
                for k in table.recordStarts[e]..<table.recordStarts[e + 1] where [1, 28].contains(table.records[k].type) {
                    out.append((ns, table.records[k].type, table.records[k].ttl, table.records[k].rdata))
                }
            }
        }
        return out
    }

    public var entryCount: Int { entries.values.reduce(0) { $0 + $1.loaded.entryCount } }
}

/// rbldnsd dataset files as a snapshot source.
extension DatasetCatalog: SnapshotSource {
    public func initialSnapshot(now: Int) throws -> (snapshot: ServingSnapshot, diagnostics: [String]) {
        let (_, loadNotes) = try refresh(now: now)
        let (snapshot, notes) = snapshot(now: now)
        return (snapshot, (loadNotes + notes).map(\.description))
    }

    public func refreshedSnapshot(now: Int, force: Bool) throws -> (snapshot: ServingSnapshot?, diagnostics: [String]) {
        let (changed, loadNotes) = try refresh(now: now)
        guard changed || force else { return (nil, loadNotes.map(\.description)) }
        let (snapshot, notes) = snapshot(now: now)
        return (snapshot, (loadNotes + notes).map(\.description))
    }
}
