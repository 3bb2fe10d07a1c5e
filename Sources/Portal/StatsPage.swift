import Foundation
import HTTPAPI
import Hummingbird
import ListingKeys
import Store

extension Portal {
    /// `/stats`: listings published per day by category (30 days), reports received per week by
    /// kind of source (12 weeks), and how delisting requests were answered; charts drawn as SVG.
    func stats(_ request: Request) async throws -> Response {
        let v = View(request, self)
        let s = try await series.current(store, now: clock(), weeks: 12, days: 30)
        var values = seriesValues(s, v)
        values["listingsNow"] = s.listingsPerDay.last?.total ?? 0
        values["reportsWeeks"] = s.reportsPerWeek.reduce(0) { $0 + $1.total }
        values["requests"] = s.delistingRequests
        values["answered"] = s.delistingAnswered
        values["median"] = s.delistingMedianAnswer.map { String(format: "%.1f", Double($0) / 3600) } ?? "—"
        return try page("stats", title: v.t["stats_title"], view: v, values)
    }

    /// The two charts of a series (listings per day by category, reports per week by kind of
    /// source) and the tables beside them, for the `series-charts` partial.
    func seriesValues(_ s: StatisticsSeries, _ v: View) -> [String: Any] {
        let categories = Category.allCases.map { ($0.rawValue, v.t["category_\($0.rawValue)"]) }
        let kinds = ["agency", "isp", "public", "operator"].map { ($0, v.t["kind_\($0)"]) }
        func bars(_ periods: [StatisticsSeries.Period]) -> [BarChart.Bar] {
            periods.map { BarChart.Bar(label: Self.dayMonth($0.start), period: ISOTime.format($0.start), values: $0.counts) }
        }
        let listingsTitle = v.t.format("stats_listings_chart", String(s.listingsPerDay.count))
        let reportsTitle = v.t.format("stats_reports_chart", String(s.reportsPerWeek.count))
        let listings = BarChart(
            title: listingsTitle, bars: bars(s.listingsPerDay), parts: categories, labelEvery: max(1, s.listingsPerDay.count / 6))
        let reports = BarChart(
            title: reportsTitle, bars: bars(s.reportsPerWeek), parts: kinds, labelEvery: max(1, s.reportsPerWeek.count / 6))
        func rows(_ periods: [StatisticsSeries.Period], _ parts: [(String, String)]) -> [[String: Any]] {
            periods.reversed().map { p in
                ["label": Self.dayMonth(p.start), "cells": parts.map { ["value": p.counts[$0.0] ?? 0] }, "total": p.total]
            }
        }
        return [
            "listingsChart": listings.svg(), "reportsChart": reports.svg(), "listingsTitle": listingsTitle, "reportsTitle": reportsTitle,
            "categoryNames": categories.map { ["name": $0.1] }, "kindNames": kinds.map { ["name": $0.1] },
            "listingRows": rows(s.listingsPerDay, categories), "reportRows": rows(s.reportsPerWeek, kinds),
        ]
    }

    /// "03/12" for 3 December (UTC).
    static func dayMonth(_ t: Int) -> String {
        let iso = ISOTime.format(t)
        return String(iso.dropFirst(8).prefix(2)) + "/" + String(iso.dropFirst(5).prefix(2))
    }
}
