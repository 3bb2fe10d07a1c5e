import ArgumentParser
import Foundation
import Ingestion
import ListingKeys
import Publishing
import Store
import ZoneConfig

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
        let report = StatisticsReport(stats, zones: try store.settings().zones)
        switch format {
        case "csv":
            print(report.csv(), terminator: "")
        case "json":
            // The same document as `GET /v1/stats`.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        default:
            print("Period \(report.since) to \(report.until)")
            print("\nReports received (distinct keys)\nsource\tkind\tcategory\treports")
            for r in report.reports { print("\(r.source)\t\(r.kind)\t\(r.category)\t\(r.reports)") }
            print("\nListings\nfamily\tcategory\tadded\texpired\tdelisted\tcurrent\tzones")
            for l in report.listings {
                print("\(l.family)\t\(l.category)\t\(l.added)\t\(l.expired)\t\(l.delisted)\t\(l.current)\t\(l.zones.joined(separator: " "))")
            }
            print("\nQueries\nzone\tqueries\tlisted\tnxdomain")
            for z in report.queries { print("\(z.zone)\t\(z.queries)\t\(z.listed)\t\(z.nxdomain)") }
        }
    }
}
