import DNSWire
import Listings
import Responder
import Synchronization

/// Per-zone counters in the style of rbldnsd's `-s` statistics: queries, positive answers,
/// NXDOMAIN, errors, octets in and out. Each worker owns one block and is its only writer, so
/// counting takes no lock and no atomic read-modify-write; readers sum the blocks.
public final class QueryCounters: @unchecked Sendable {
    public static let maxZones = 256
    public enum Field: Int, CaseIterable {
        case queries = 0, positive, nxdomain, errors, bytesIn, bytesOut, listed
        /// Queries by type: what DNSBL clients ask (A, TXT), AAAA, anything else.
        case typeA, typeTXT, typeAAAA, typeOther
    }

    /// Upper bounds of the answer-time buckets, in nanoseconds (the last bucket is unbounded).
    public static let durationBounds: [UInt64] = [
        5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 10_000_000, 100_000_000,
    ]
    static let fields = Field.allCases.count

    // Slot maxZones counts queries that matched no zone.
    private let blocks: [UnsafeMutablePointer<Atomic<UInt64>>]
    /// Per worker: a count per duration bucket, then the sum of the durations (nanoseconds).
    private let durations: [UnsafeMutablePointer<Atomic<UInt64>>]
    private let workers: Int

    public init(workers: Int) {
        self.workers = workers
        func block(_ count: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
            let p = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: count)
            for i in 0..<count { (p + i).initialize(to: Atomic(0)) }
            return p
        }
        blocks = (0..<workers).map { _ in block((Self.maxZones + 1) * Self.fields) }
        durations = (0..<workers).map { _ in block(Self.durationBounds.count + 2) }
    }

    deinit {
        for b in blocks { b.deallocate() }
        for d in durations { d.deallocate() }
    }

    /// How long answers took (parse, lookup, write): `count` answers of `nanoseconds` each
    /// (a UDP batch records its average: two clock reads per batch, not per query). Single
    /// writer per worker.
    @inline(__always)
    public func recordDuration(worker: Int, nanoseconds: UInt64, count: Int = 1) {
        let d = durations[worker]
        var bucket = 0
        while bucket < Self.durationBounds.count, nanoseconds > Self.durationBounds[bucket] { bucket += 1 }
        (d + bucket).pointee.store((d + bucket).pointee.load(ordering: .relaxed) &+ UInt64(count), ordering: .relaxed)
        let sum = d + Self.durationBounds.count + 1
        sum.pointee.store(sum.pointee.load(ordering: .relaxed) &+ nanoseconds &* UInt64(count), ordering: .relaxed)
    }

    /// Counts per duration bucket (not cumulative) and the sum in nanoseconds, over some workers.
    public func durations(workers range: Range<Int>) -> (buckets: [UInt64], sum: UInt64) {
        var buckets = [UInt64](repeating: 0, count: Self.durationBounds.count + 1)
        var sum: UInt64 = 0
        for w in range.clamped(to: 0..<durations.count) {
            for i in buckets.indices { buckets[i] &+= (durations[w] + i).pointee.load(ordering: .relaxed) }
            sum &+= (durations[w] + Self.durationBounds.count + 1).pointee.load(ordering: .relaxed)
        }
        return (buckets, sum)
    }

    /// Records one query answered by `worker`. Single writer per block: load + store is enough.
    @inline(__always)
    public func record(worker: Int, summary: ResponseSummary, bytesIn: Int) {
        let zone = summary.zoneIndex >= 0 && summary.zoneIndex < Self.maxZones ? summary.zoneIndex : Self.maxZones
        let base = blocks[worker] + zone * Self.fields
        func bump(_ f: Field, _ n: Int) {
            let a = base + f.rawValue
            a.pointee.store(a.pointee.load(ordering: .relaxed) &+ UInt64(n), ordering: .relaxed)
        }
        bump(.queries, 1)
        bump(.bytesIn, bytesIn)
        bump(.bytesOut, summary.length)
        if summary.listed { bump(.listed, 1) }
        switch summary.rcode {
        case .noError: if summary.zoneIndex >= 0 { bump(.positive, 1) }
        case .nxDomain: bump(.nxdomain, 1)
        default: bump(.errors, 1)
        }
        switch summary.qtype {
        case RRType.a.rawValue: bump(.typeA, 1)
        case RRType.txt.rawValue: bump(.typeTXT, 1)
        case RRType.aaaa.rawValue: bump(.typeAAAA, 1)
        default: bump(.typeOther, 1)
        }
    }

    /// Sum over workers for one zone (`maxZones` for "no zone").
    public func total(zone: Int, _ field: Field) -> UInt64 {
        total(zone: zone, field, workers: 0..<blocks.count)
    }

    /// Sum over some workers (the UDP ones, the TCP ones) for one zone.
    public func total(zone: Int, _ field: Field, workers range: Range<Int>) -> UInt64 {
        var sum: UInt64 = 0
        for w in range.clamped(to: 0..<blocks.count) {
            sum &+= (blocks[w] + zone * Self.fields + field.rawValue).pointee.load(ordering: .relaxed)
        }
        return sum
    }

    /// Per zone of the snapshot: queries, listed answers (hits), NXDOMAIN answers, so far.
    public func zoneTotals(zones: [Zone]) -> [(zone: String, queries: Int, listed: Int, nxdomain: Int)] {
        zones.indices.prefix(Self.maxZones).map { i in
            (zones[i].originText, Int(total(zone: i, .queries)), Int(total(zone: i, .listed)), Int(total(zone: i, .nxdomain)))
        }
    }

    /// rbldnsd `-s` line: `timestamp zone:qtot:qok:qnxd:bin:bout ... *:...`.
    public func statsLine(zones: [Zone], now: Int) -> String {
        var parts = ["\(now)"]
        var all = [UInt64](repeating: 0, count: Self.fields)
        for zone in 0...Self.maxZones {
            let values = Field.allCases.map { total(zone: zone, $0) }
            for (i, v) in values.enumerated() { all[i] &+= v }
            if zone < zones.count {
                parts.append(
                    "\(zones[zone].originText):\(values[0]):\(values[1]):\(values[2]):\(values[4]):\(values[5])")
            }
        }
        parts.append("*:\(all[0]):\(all[1]):\(all[2]):\(all[4]):\(all[5])")
        return parts.joined(separator: " ")
    }
}
