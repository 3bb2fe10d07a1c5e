import Foundation
import HTTPAPI
import Hummingbird
import ListingKeys
import Publishing
import Store
import ZoneConfig

extension Portal {
    /// The period of a report from the query (`since`, `until`: days, both included; default
    /// the 30 days up to today), or a problem to show.
    func reportPeriod(_ request: Request, _ v: View) -> (since: Int, until: Int, sinceText: String, untilText: String, problem: String?) {
        let q = request.uri.queryParameters
        let now = clock()
        let today = now - now % 86400
        let sinceText = q.get("since").map { String($0) } ?? Self.dayText(today - 29 * 86400)
        let untilText = q.get("until").map { String($0) } ?? Self.dayText(today)
        guard let since = Self.day(sinceText), let until = Self.day(untilText) else {
            return (0, 0, sinceText, untilText, v.t["console_bad_day"])
        }
        guard since <= until else { return (since, until, sinceText, untilText, v.t["console_period_backwards"]) }
        return (since, min(until + 86399, max(now, since)), sinceText, untilText, nil)
    }

    /// `YYYY-MM-DD` of an instant (UTC).
    static func dayText(_ t: Int) -> String {
        let iso: String = ISOTime.format(t)
        return String(iso.prefix(10))
    }

    /// `/operator/report`: the periodic report of directive item 4h for a chosen period, as a
    /// page that prints (the menu and forms are not printed) and as CSV: the figures of
    /// `thurac report` and the charts of the period.
    func periodicReport(_ request: Request) async throws -> Response {
        try await consolePage(request, "console-report", title: "console_report_title") { _, v in
            let p = reportPeriod(request, v)
            var values: [String: Any] = ["since": p.sinceText, "until": p.untilText]
            if let problem = p.problem {
                values["problem"] = problem
                return values
            }
            let (store, zones) = (self.store, config.zones)
            let days = min(92, (p.until - p.since) / 86400 + 1)
            let (stats, series) = try await offLoop {
                (try store.statistics(since: p.since, now: p.until), try store.series(now: p.until, weeks: max(1, (days + 6) / 7), days: days))
            }
            let report = StatisticsReport(stats, zones: zones)
            for (k, value) in seriesValues(series, v) { values[k] = value }
            values["csvLink"] = Self.link("/operator/report.csv", v, [("since", p.sinceText), ("until", p.untilText)])
            values["periodText"] = v.t.format("console_report_period", p.sinceText, p.untilText)
            values["reports"] = report.reports.map { ["source": $0.source, "kind": v.t["kind_\($0.kind)"], "category": v.t["category_\($0.category)"], "reports": $0.reports] }
            values["listings"] = report.listings.map {
                ["family": v.t["family_\($0.family)"], "category": v.t["category_\($0.category)"], "added": $0.added, "expired": $0.expired,
                 "delisted": $0.delisted, "current": $0.current, "zones": $0.zones.joined(separator: ", ")]
            }
            values["hasQueries"] = !report.queries.isEmpty
            values["queries"] = report.queries.map { ["zone": $0.zone, "queries": $0.queries, "listed": $0.listed, "nxdomain": $0.nxdomain] }
            values["totalReports"] = report.reports.reduce(0) { $0 + $1.reports }
            values["totalQueries"] = report.queries.reduce(0) { $0 + $1.queries }
            return values
        }
    }

    /// `/operator/report.csv`: `thurac report --format csv` for the same period.
    func periodicReportCSV(_ request: Request) async throws -> Response {
        try await consoleDownload(request, title: "console_report_title", problem: { reportPeriod(request, $0).problem }) { v in
            let (p, store, zones) = (reportPeriod(request, v), self.store, config.zones)
            let stats = try await offLoop { try store.statistics(since: p.since, now: p.until) }
            return (StatisticsReport(stats, zones: zones).csv(spreadsheet: true), "thurac-report-\(p.sinceText)-\(p.untilText).csv")
        }
    }
}
