import ArgumentParser
import Foundation
import Ingestion
import ListingKeys
import Store

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Statistics for a period: reports received per source, listings added, expired and delisted, current listings, queries and hits per zone.",
        discussion: "Query counts are written to the store by `thurac serve` every --stats-interval (60 s).")

    @Option(help: "Start of the period (ISO 8601); default: 30 days before --now.") var since: String?
    @Option(help: "End of the period, evaluated at this ISO 8601 instant.") var now: String?
    @Option(help: "table, csv or json.") var format: String = "table"
    @OptionGroup var store: StoreOptions

    func run() throws {
        let end = try instant(now)
        let start: Int
        if let since {
            guard let t = ISOTime.parse(since) else { throw CommandFailure("--since: '\(since)' is not an ISO 8601 time") }
            start = t
        } else {
            start = end - 30 * 86400
        }
        guard ["table", "csv", "json"].contains(format) else { throw CommandFailure("--format must be table, csv or json") }
        let s = try store.open()
        let stats = try storeCall { try s.statistics(since: start, now: end) }
        switch format {
        case "csv":
            print("section,name,kind_or_family,category,reports_or_added,expired,delisted,current")
            for r in stats.reports { print("reports,\(r.source),\(r.kind),\(r.category),\(r.reports),,,") }
            for l in stats.listings {
                print("listings,,\(l.family.rawValue),\(l.category),\(l.added),\(l.expired),\(l.delisted),\(l.current)")
            }
            for z in stats.queries { print("queries,\(z.zone),,,\(z.queries),\(z.listed),\(z.nxdomain),") }
        case "json":
            let object: [String: Any] = [
                "since": isoTime(stats.since), "until": isoTime(stats.until),
                "reports": stats.reports.map { ["source": $0.source, "kind": $0.kind, "category": $0.category, "reports": $0.reports] },
                "queries": stats.queries.map { ["zone": $0.zone, "queries": $0.queries, "listed": $0.listed, "nxdomain": $0.nxdomain] },
                "listings": stats.listings.map {
                    ["family": $0.family.rawValue, "category": $0.category, "added": $0.added, "expired": $0.expired,
                     "delisted": $0.delisted, "current": $0.current] as [String: Any]
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        default:
            print("Period \(isoTime(stats.since)) to \(isoTime(stats.until))")
            print("\nReports received (distinct keys)\nsource\tkind\tcategory\treports")
            for r in stats.reports { print("\(r.source)\t\(r.kind)\t\(r.category)\t\(r.reports)") }
            print("\nListings\nfamily\tcategory\tadded\texpired\tdelisted\tcurrent")
            for l in stats.listings {
                print("\(l.family.rawValue)\t\(l.category)\t\(l.added)\t\(l.expired)\t\(l.delisted)\t\(l.current)")
            }
            print("\nQueries\nzone\tqueries\tlisted\tnxdomain")
            for z in stats.queries { print("\(z.zone)\t\(z.queries)\t\(z.listed)\t\(z.nxdomain)") }
        }
    }
}
