import DNSWire
import Dispatch
import ListingKeys
import Listings
import Store

/// Serves the store: a snapshot of the published listings, updated when a change is committed
/// (by any process: the CLI, the API) or when a listing's expiry time comes.
///
/// A full build compiles every listing (seconds for a million). After it, the change journal
/// says which keys changed; their listings are read again and laid over the compiled datasets
/// as a delta (`ZoneDelta`), so a change is served within the polling interval whatever the
/// store's size. When the changes since the last full build pass `rebuildAfter` keys, or the
/// allowlist changes, or the journal says "everything", the next update is a full build again.
public final class StoreSnapshotSource: SnapshotSource {
    let store: ListingStore
    let zones: [ZoneDefinition]
    let ttl: UInt32
    let negativeTTL: UInt32
    let rebuildAfter: Int
    private var lastChange = -1
    private var nextExpiry: Int? = nil
    private var lastSerial: UInt32 = 0
    /// Each zone's serial: it moves only when the zone's listings may have changed, so an
    /// unchanged zone is neither re-announced (NOTIFY) nor re-transferred.
    private var zoneSerials: [UInt32] = []
    private var generation: UInt64 = 0
    /// Where the journal was read up to, and the instant the snapshot describes.
    private var journalPosition = 0
    private var lastNow = 0
    /// The last full build, and every key changed since, with its listings as they are now.
    private var bases: [ZoneBase?] = []
    private var fixed: [Zone] = []
    private var pending: [String: [PublishedEntry]] = [:]
    private var allowlist = KeyCover([])
    private var baseCount = 0
    public private(set) var entryCount = 0
    /// Updates served as deltas since the last full build (for tests and logs).
    public private(set) var incrementalUpdates = 0
    /// The keys whose listings differ between the last two snapshots made (what IXFR sends
    /// the records of); nil when unknown (the first snapshot, a forced or allowlist rebuild).
    public private(set) var changedKeys: [ListingKey]? = nil
    /// Serials are written to the store off the update path: a long ingest holding the store's
    /// write lock must not hold up the next snapshot.
    private let serialWriter = DispatchQueue(label: "thurac.serials")
    private var serialRestored = false

    public init(
        store: ListingStore, zones: [ZoneDefinition] = ZoneDefinition.defaults, ttl: UInt32 = 2100, negativeTTL: UInt32 = 300,
        rebuildAfter: Int = 20_000
    ) {
        self.store = store
        self.zones = zones
        self.ttl = ttl
        self.negativeTTL = negativeTTL
        self.rebuildAfter = rebuildAfter
    }

    public func initialSnapshot(now: Int) throws -> (snapshot: ServingSnapshot, diagnostics: [String]) {
        (try fullBuild(now: now, changing: nil), [])
    }

    public func refreshedSnapshot(now: Int, force: Bool) throws -> (snapshot: ServingSnapshot?, diagnostics: [String]) {
        let change = try store.changeCounter()
        let expiryDue = nextExpiry.map { now >= $0 } ?? false
        guard force || change != lastChange || expiryDue else { return (nil, []) }
        if force {
            let snapshot = try fullBuild(now: now, changing: nil)
            changedKeys = nil
            return (snapshot, [])
        }
        // Everything is read before anything is kept: a failed read leaves the state as it was,
        // and the next check tries again.
        let (keys, position) = try store.changes(after: journalPosition)
        guard var touched = keys else {
            let snapshot = try fullBuild(now: now, changing: nil)
            changedKeys = nil
            return (snapshot, [])
        }
        touched.formUnion(try store.expiring(after: lastNow, upTo: now))
        let upcoming = try store.nextExpiry(after: now)
        if touched.isEmpty {
            (lastChange, lastNow, nextExpiry) = (change, now, upcoming)
            return (nil, [])
        }
        let changed = touched.compactMap { k -> ListingKey? in
            var t = k
            return t.withUTF8 { try? KeySpec(canonicalBytes: $0) }?.key
        }
        let roles = Set(changed.map(PublishedZones.role(of:)))
        if pending.count + 2 * touched.count > rebuildAfter {
            let snapshot = try fullBuild(now: now, changing: roles)
            changedKeys = changed
            return (snapshot, [])
        }
        var read: [String: [PublishedEntry]] = [:]
        for key in touched {
            // A key and its exclusion share a name's slot: the delta needs both as they are now.
            let counterpart = key.hasPrefix("!") ? String(key.dropFirst()) : "!" + key
            for k in [key, counterpart] { read[k] = try currentEntries(k, now: now) }
        }
        pending.merge(read) { _, new in new }
        (lastChange, journalPosition, lastNow, nextExpiry) = (change, position, now, upcoming)
        incrementalUpdates += 1
        changedKeys = changed
        return (assemble(changing: roles), [])
    }

    /// A key's published listings at `now`, as the full build would see them.
    func currentEntries(_ key: String, now: Int) throws -> [PublishedEntry] {
        var text = key
        guard let spec = text.withUTF8({ try? KeySpec(canonicalBytes: $0) }) else { return [] }
        return try store.publishedRows(key: key, now: now).compactMap { row in
            Category(rawValue: row.category).map { PublishedEntry(key: spec, category: $0, reason: row.reason, source: nil) }
        }
    }

    /// Waits until the serials of the snapshots made so far are in the store (tests, shutdown).
    public func flushSerials() { serialWriter.sync {} }

    /// `changing`: the roles whose zones may have changed (nil: all of them).
    func fullBuild(now: Int, changing roles: Set<ZoneRole>?) throws -> ServingSnapshot {
        // Everything is read and built first, then kept: a failure leaves the last state whole.
        // The journal position and change counter are read before the listings, so what
        // commits meanwhile is read again by the next update.
        let restored = serialRestored ? lastSerial : max(lastSerial, try store.lastSerial())
        let position = try store.journalPosition()
        let change = try store.changeCounter()
        let upcoming = try store.nextExpiry(after: now)
        let cover = try PublishedZones.allowlist(store)
        let (built, count) = try PublishedZones.buildAll(zones, store: store, now: now, ttl: ttl, allowlist: cover)
        var newFixed: [Zone] = []
        var newBases: [ZoneBase?] = []
        for (i, z) in zones.enumerated() {
            let (dataset, raw) = built[i]
            newFixed.append(try zone(i, z, dataset: dataset))
            // The allowlist zone changes only with the allowlist, which rebuilds everything.
            newBases.append(
                z.role == .allowlist ? nil : ZoneBase(zone: z, dataset: dataset, v4: SizeClasses(raw.v4), v6: SizeClasses(raw.v6)))
        }
        (lastSerial, serialRestored) = (restored, true)
        (journalPosition, lastChange, lastNow, nextExpiry) = (position, change, now, upcoming)
        (allowlist, fixed, bases, baseCount, pending, incrementalUpdates) = (cover, newFixed, newBases, count, [:], 0)
        return assemble(changing: roles)
    }

    /// The snapshot: each zone's compiled dataset with the pending changes laid over it.
    func assemble(changing roles: Set<ZoneRole>?) -> ServingSnapshot {
        generation += 1
        // Unix-time serials, but never the same twice: two updates in one second still differ.
        lastSerial = max(lastSerial &+ 1, UInt32(truncatingIfNeeded: lastNow))
        if zoneSerials.count != zones.count { zoneSerials = Array(repeating: 0, count: zones.count) }
        for (i, z) in zones.enumerated() where zoneSerials[i] == 0 || roles.map({ $0.contains(z.role) }) ?? true {
            zoneSerials[i] = lastSerial
        }
        var built: [Zone] = []
        for (i, z) in fixed.enumerated() {
            var datasets = z.subzones[0].datasets
            if let base = bases[i], !pending.isEmpty {
                datasets[0] = base.dataset.with(delta: ZoneDeltas.delta(base, changes: pending, allowlist: allowlist))
            }
            var soa = z.soa
            soa.serial = zoneSerials[i]
            built.append(
                Zone(
                    id: z.id, origin: z.origin, originText: z.originText, soa: soa, nameservers: z.nameservers, nsTTL: z.nsTTL,
                    glue: z.glue, subzones: [Subzone(labels: [], labelCount: 0, datasets: datasets)], acl: z.acl))
        }
        entryCount = baseCount + pending.count
        let (serial, position, at, names) = (lastSerial, journalPosition, lastNow, zones.map(\.name))
        let store = self.store
        serialWriter.async {
            // Lost on a busy store only; the next snapshot writes a newer serial.
            try? store.recordSerial(serial, zones: names, journalPosition: position, at: at)
        }
        return ServingSnapshot(zones: built, globalACL: nil, generation: generation)
    }

    /// A zone around its listings: the skeleton's SOA, NS, glue and records, or synthesised ones.
    func zone(_ i: Int, _ z: ZoneDefinition, dataset: ZoneDataset) throws -> Zone {
        let origin = try DomainName.wire(fromText: z.name, lowercase: true)
        let ttl = z.ttl ?? self.ttl
        let acl = AccessList.firstMatch(z.acl)
        var datasets = [dataset]
        if let apex = z.apex {
            if !apex.records.isEmpty {
                datasets.append(
                    ZoneDataset(
                        name: "skeleton", ttl: ttl, ipValues: ValueTableBuilder().build(), ipv4: nil, ipv6: nil, domains: nil,
                        records: RecordTable(apex.records)))
            }
            return Zone(
                id: i, origin: origin, originText: z.name, soa: apex.soa, nameservers: apex.nameservers, nsTTL: apex.nsTTL,
                glue: apex.glue, subzones: [Subzone(labels: [], labelCount: 0, datasets: datasets)], acl: acl)
        }
        let ns = [[3] + Array("ns1".utf8) + origin]
        let soa = SOAData(
            ttl: ttl, mname: ns[0], rname: [10] + Array("hostmaster".utf8) + origin, serial: 0, refresh: 3600, retry: 600,
            expire: 604_800, minimum: negativeTTL)
        return Zone(
            id: i, origin: origin, originText: z.name, soa: soa, nameservers: ns, nsTTL: ttl, glue: [],
            subzones: [Subzone(labels: [], labelCount: 0, datasets: datasets)], acl: acl)
    }
}
