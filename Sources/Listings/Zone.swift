import DNSWire
/// One dataset as served: whatever mix of IPv4, IPv6, domain and plain-record data it holds.
public final class ZoneDataset: Sendable {
    public let name: String
    public let ttl: UInt32
    public let ipValues: ValueTable
    public let ipv4: IntervalMap<UInt32>
    public let ipv6: IntervalMap<UInt128>
    public let hasIPv4: Bool
    public let hasIPv6: Bool
    public let domains: DomainSet?
    public let records: RecordTable?
    /// Changes since the dataset was compiled, laid over it (see `ZoneDelta`).
    public let delta: ZoneDelta?
    /// rbldnsd's habit: IPv4-mapped (::ffff:0:0/96) and 6to4 (2002::/16) names are answered from
    /// the IPv4 data. Only rbldnsd datasets do it; the store's zones answer each family from its
    /// own data, so a secondary loaded with the exported zone answers the same (docs/zone-export.md).
    public let answersIPv4InIPv6: Bool

    public init(
        name: String, ttl: UInt32, ipValues: ValueTable, ipv4: IntervalMap<UInt32>?, ipv6: IntervalMap<UInt128>?,
        domains: DomainSet?, records: RecordTable?, delta: ZoneDelta? = nil, answersIPv4InIPv6: Bool = false
    ) {
        self.name = name
        self.ttl = ttl
        self.ipValues = ipValues
        self.hasIPv4 = ipv4 != nil
        self.hasIPv6 = ipv6 != nil
        self.ipv4 = ipv4 ?? .empty
        self.ipv6 = ipv6 ?? .empty
        self.domains = domains
        self.records = records
        self.delta = delta
        self.answersIPv4InIPv6 = answersIPv4InIPv6
    }

    /// The same dataset with `delta` laid over it (the compiled structures are shared).
    public func with(delta: ZoneDelta?) -> ZoneDataset {
        ZoneDataset(
            name: name, ttl: ttl, ipValues: ipValues, ipv4: hasIPv4 ? ipv4 : nil, ipv6: hasIPv6 ? ipv6 : nil,
            domains: domains, records: records, delta: delta, answersIPv4InIPv6: answersIPv4InIPv6)
    }

    public var byteCount: Int {
        ipv4.byteCount + ipv6.byteCount + (domains?.byteCount ?? 0)
    }
}

/// Changes laid over a compiled dataset, so a few changed listings are served at once
/// without recompiling a million unchanged ones. Where the delta's maps hold a ref it decides
/// (`.excluded`: not listed); `.none` sends the lookup to the dataset. Its names replace the
/// dataset's per name and slot (`DomainSet.lookup(_:from:count:over:)`).
public final class ZoneDelta: Sendable {
    public let ipValues: ValueTable
    public let ipv4: IntervalMap<UInt32>
    public let ipv6: IntervalMap<UInt128>
    public let domains: DomainSet?

    public init(ipValues: ValueTable, ipv4: IntervalMap<UInt32>, ipv6: IntervalMap<UInt128>, domains: DomainSet?) {
        self.ipValues = ipValues
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.domains = domains
    }
}

/// rbldnsd ACL actions, per client address.
public enum AccessAction: Sendable, Equatable {
    case ignore
    case refuse
    case empty
    case pass
    /// Answer every query as listed with this value of `alwaysValues` (`$` in its TXT is the
    /// client's address).
    case always(ValueRef)
}

public final class AccessList: Sendable {
    public let ipv4: IntervalMap<UInt32>
    public let ipv6: IntervalMap<UInt128>
    /// ValueRef.value(i) in the maps means actions[i].
    public let actions: [AccessAction]
    public let alwaysValues: ValueTable

    public init(ipv4: IntervalMap<UInt32>, ipv6: IntervalMap<UInt128>, actions: [AccessAction], alwaysValues: ValueTable) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.actions = actions
        self.alwaysValues = alwaysValues
    }

    /// nil when the client is not in the list (which means: pass).
    @inlinable
    public func action(for client: ClientAddress) -> Int? {
        let ref: ValueRef
        switch client {
        case .v4(let a): ref = ipv4.lookup(a)
        case .v6(let a): ref = ipv6.lookup(a)
        case .unknown: return nil
        }
        return ref.isListed ? ref.index : nil
    }
}

public enum ClientAddress: Sendable, Equatable {
    case v4(UInt32)
    case v6(UInt128)
    case unknown

    /// As the query and transfer logs write it (RFC 5952 for IPv6).
    public var text: String {
        switch self {
        case .v4(let a): return AddressText.ipv4(a)
        case .v6(let a): return AddressText.ipv6(a)
        case .unknown: return "?"
        }
    }
}

/// Start of authority, kept in wire pieces ready to copy into answers.
public struct SOAData: Sendable {
    public var ttl: UInt32
    public var mname: [UInt8]
    public var rname: [UInt8]
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(
        ttl: UInt32, mname: [UInt8], rname: [UInt8], serial: UInt32, refresh: UInt32, retry: UInt32,
        expire: UInt32, minimum: UInt32
    ) {
        self.ttl = ttl
        self.mname = mname
        self.rname = rname
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }

    /// RFC 2308 §5: the negative-caching TTL is the smaller of the SOA's TTL and its MINIMUM.
    public var negativeTTL: UInt32 { min(ttl, minimum) }
}

/// Datasets attached below a zone's origin (`combined` datasets attach to subzones).
public struct Subzone: Sendable {
    /// Relative labels of the subzone below the zone origin, lower-cased, no root; empty = origin.
    public var labels: [UInt8]
    public var labelCount: Int
    public var datasets: [ZoneDataset]

    public init(labels: [UInt8], labelCount: Int, datasets: [ZoneDataset]) {
        self.labels = labels
        self.labelCount = labelCount
        self.datasets = datasets
    }
}

public final class Zone: Sendable {
    public let id: Int
    /// Lower-cased wire form with the root octet.
    public let origin: [UInt8]
    public let originLabelCount: Int
    public let originText: String
    public let soa: SOAData
    public let nameservers: [[UInt8]]
    public let nsTTL: UInt32
    /// Address records for in-zone name servers (glue), by absolute wire name.
    public let glue: [(name: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8])]
    /// Longest first, so the first suffix match is the most specific subzone.
    public let subzones: [Subzone]
    public let acl: AccessList?

    public init(
        id: Int, origin: [UInt8], originText: String, soa: SOAData, nameservers: [[UInt8]], nsTTL: UInt32,
        glue: [(name: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8])], subzones: [Subzone], acl: AccessList?
    ) {
        self.id = id
        self.origin = origin
        var labels = 0
        var o = 0
        while o < origin.count, origin[o] != 0 {
            labels += 1
            o += 1 + Int(origin[o])
        }
        self.originLabelCount = labels
        self.originText = originText
        self.soa = soa
        self.nameservers = nameservers
        self.nsTTL = nsTTL
        self.glue = glue
        self.subzones = subzones.sorted { $0.labelCount > $1.labelCount }
        self.acl = acl
    }
}

/// Everything the responder answers from. Immutable: an update builds a new snapshot and
/// swaps it in whole, so queries never see half an update and never wait for one.
public final class ServingSnapshot: Sendable {
    /// Longest origin first, so the first match is the most specific zone.
    public let zones: [Zone]
    public let globalACL: AccessList?
    public let generation: UInt64

    public init(zones: [Zone], globalACL: AccessList?, generation: UInt64) {
        self.zones = zones.sorted { $0.origin.count > $1.origin.count }
        self.globalACL = globalACL
        self.generation = generation
    }
}
