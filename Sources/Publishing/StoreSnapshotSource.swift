import DNSWire
import Listings
import Store

/// Serves the store: a snapshot of the published listings, rebuilt when a change is committed
/// (by any process: the CLI, the API) or when a listing's expiry time comes.
public final class StoreSnapshotSource: SnapshotSource {
    let store: ListingStore
    let zones: [ZoneDefinition]
    let ttl: UInt32
    let negativeTTL: UInt32
    private var lastChange = -1
    private var nextExpiry: Int? = nil
    private var lastSerial: UInt32 = 0
    private var generation: UInt64 = 0
    public private(set) var entryCount = 0

    public init(store: ListingStore, zones: [ZoneDefinition] = ZoneDefinition.defaults, ttl: UInt32 = 2100, negativeTTL: UInt32 = 300) {
        self.store = store
        self.zones = zones
        self.ttl = ttl
        self.negativeTTL = negativeTTL
    }

    public func initialSnapshot(now: Int) throws -> (snapshot: ServingSnapshot, diagnostics: [String]) {
        (try build(now: now), [])
    }

    public func refreshedSnapshot(now: Int, force: Bool) throws -> (snapshot: ServingSnapshot?, diagnostics: [String]) {
        let change = try store.changeCounter()
        let expiryDue = nextExpiry.map { now >= $0 } ?? false
        guard force || change != lastChange || expiryDue else { return (nil, []) }
        return (try build(now: now), [])
    }

    func build(now: Int) throws -> ServingSnapshot {
        lastChange = try store.changeCounter()
        nextExpiry = try store.nextExpiry(after: now)
        generation += 1
        // Unix-time serials, but never the same twice: two rebuilds in one second still differ.
        lastSerial = max(lastSerial &+ 1, UInt32(truncatingIfNeeded: now))
        var built: [Zone] = []
        var count = 0
        let published = try PublishedZones.entries(zones.map(\.role), store: store, now: now)
        let allowlist = try PublishedZones.allowlist(store)
        for (i, z) in zones.enumerated() {
            guard let origin = try? DomainName.wire(fromText: z.name, lowercase: true) else { continue }
            let entries = published[z.role] ?? []
            count += entries.count
            let ttl = z.ttl ?? self.ttl
            var datasets = [PublishedZones.dataset(z, entries: entries, ttl: ttl, allowlist: allowlist)]
            let zone: Zone
            if let apex = z.apex {
                var soa = apex.soa
                soa.serial = lastSerial
                if !apex.records.isEmpty {
                    datasets.append(
                        ZoneDataset(
                            name: "skeleton", ttl: ttl, ipValues: ValueTableBuilder().build(), ipv4: nil, ipv6: nil,
                            domains: nil, records: RecordTable(apex.records)))
                }
                zone = Zone(
                    id: i, origin: origin, originText: z.name, soa: soa, nameservers: apex.nameservers, nsTTL: apex.nsTTL,
                    glue: apex.glue, subzones: [Subzone(labels: [], labelCount: 0, datasets: datasets)], acl: nil)
            } else {
                let ns = [[3] + Array("ns1".utf8) + origin]
                let soa = SOAData(
                    ttl: ttl, mname: ns[0], rname: [10] + Array("hostmaster".utf8) + origin, serial: lastSerial,
                    refresh: 3600, retry: 600, expire: 604_800, minimum: negativeTTL)
                zone = Zone(
                    id: i, origin: origin, originText: z.name, soa: soa, nameservers: ns, nsTTL: ttl, glue: [],
                    subzones: [Subzone(labels: [], labelCount: 0, datasets: datasets)], acl: nil)
            }
            built.append(zone)
        }
        entryCount = count
        return ServingSnapshot(zones: built, globalACL: nil, generation: generation)
    }
}
