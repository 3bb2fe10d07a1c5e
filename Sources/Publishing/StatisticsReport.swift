import ListingKeys
import Store

/// The statistics of a period as `thurac report --format json` prints them and `GET /v1/stats`
/// answers (SPEC §5, §6): reports per source and category, listings added, expired, delisted and
/// current per family and category with the zones that publish them, queries and hits per zone.
public struct StatisticsReport: Encodable, Sendable {
    public struct Reports: Encodable, Sendable {
        public var source, kind, category: String
        public var reports: Int
    }

    public struct Listings: Encodable, Sendable {
        public var family, category: String
        /// The zones that publish this family.
        public var zones: [String]
        public var added, expired, delisted, current: Int
    }

    public struct Queries: Encodable, Sendable {
        public var zone: String
        public var queries, listed, nxdomain: Int
    }

    public var since, until: String
    public var reports: [Reports]
    public var listings: [Listings]
    public var queries: [Queries]

    public init(_ s: Statistics, zones: [ZoneDefinition]) {
        since = ISOTime.format(s.since)
        until = ISOTime.format(s.until)
        reports = s.reports.map { Reports(source: $0.source, kind: $0.kind, category: $0.category, reports: $0.reports) }
        listings = s.listings.map { l in
            Listings(
                family: l.family.rawValue, category: l.category, zones: zones.filter { Self.publishes($0.role, l.family) }.map(\.name),
                added: l.added, expired: l.expired, delisted: l.delisted, current: l.current)
        }
        queries = s.queries.map { Queries(zone: $0.zone, queries: $0.queries, listed: $0.listed, nxdomain: $0.nxdomain) }
    }

    /// `thurac report --format csv`: one header, then a line per source and category, per
    /// family and category, per zone (the console's download is the same file).
    public func csv(spreadsheet: Bool = false) -> String {
        var out = "section,name,kind_or_family,category,reports_or_added,expired,delisted,current,zones\n"
        for r in reports { out += CSV.line(["reports", r.source, r.kind, r.category, "\(r.reports)", "", "", "", ""], spreadsheet: spreadsheet) }
        for l in listings {
            out += CSV.line(
                ["listings", "", l.family, l.category, "\(l.added)", "\(l.expired)", "\(l.delisted)", "\(l.current)", l.zones.joined(separator: " ")],
                spreadsheet: spreadsheet)
        }
        for z in queries { out += CSV.line(["queries", z.zone, "", "", "\(z.queries)", "\(z.listed)", "\(z.nxdomain)", "", ""], spreadsheet: spreadsheet) }
        return out
    }

    /// The zones of a role publish the keys of one family.
    public static func publishes(_ role: ZoneRole, _ family: ListingKey.Family) -> Bool {
        switch (role, family) {
        case (.addresses, .address), (.domains, .domain), (.hashedAddresses, .hashedAddress): return true
        default: return false
        }
    }
}
