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
        let (store, now) = (self.store, clock())
        let s = try await offLoop { try store.series(now: now) }
        let categories = Category.allCases.map { ($0.rawValue, v.t["category_\($0.rawValue)"]) }
        let kinds = ["agency", "isp", "public", "operator"].map { ($0, v.t["kind_\($0)"]) }
        func bars(_ periods: [StatisticsSeries.Period]) -> [BarChart.Bar] {
            periods.map { BarChart.Bar(label: Self.dayMonth($0.start), period: ISOTime.format($0.start), values: $0.counts) }
        }
        let listings = BarChart(title: v.t["stats_listings_chart"], bars: bars(s.listingsPerDay), parts: categories, labelEvery: 5)
        let reports = BarChart(title: v.t["stats_reports_chart"], bars: bars(s.reportsPerWeek), parts: kinds, labelEvery: 2)
        func rows(_ periods: [StatisticsSeries.Period], _ parts: [(String, String)]) -> [[String: Any]] {
            periods.reversed().map { p in
                ["label": Self.dayMonth(p.start), "cells": parts.map { ["value": p.counts[$0.0] ?? 0] }, "total": p.total]
            }
        }
        var values: [String: Any] = [
            "listingsNow": s.listingsPerDay.last?.total ?? 0,
            "reportsWeeks": s.reportsPerWeek.reduce(0) { $0 + $1.total },
            "requests": s.delistingRequests, "answered": s.delistingAnswered,
            "listingsChart": listings.svg(), "reportsChart": reports.svg(),
            "categoryNames": categories.map { ["name": $0.1] }, "kindNames": kinds.map { ["name": $0.1] },
            "listingRows": rows(s.listingsPerDay, categories), "reportRows": rows(s.reportsPerWeek, kinds),
        ]
        values["median"] = s.delistingMedianAnswer.map { String(format: "%.1f", Double($0) / 3600) } ?? "—"
        return try page("stats", title: v.t["stats_title"], view: v, values)
    }

    /// "03/12" for 3 December (UTC).
    static func dayMonth(_ t: Int) -> String {
        let iso = ISOTime.format(t)
        return String(iso.dropFirst(8).prefix(2)) + "/" + String(iso.dropFirst(5).prefix(2))
    }
}
