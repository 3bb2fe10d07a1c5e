import Foundation
import HTTPAPI
import Hummingbird
import ListingKeys
import Publishing
import Store
import ZoneConfig

extension Portal {
    /// `/lookup?q=KEY` (the search form): a redirect to the key's stable page `/lookup/KEY`.
    func lookupForm(_ request: Request) throws -> Response {
        let v = View(request, self)
        let q = (FormFields(request.uri.query ?? "")["q"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !q.isEmpty else {
            return try page("home", status: .badRequest, title: v.t["home_title"], view: v, ["problem": v.t["lookup_empty"]])
        }
        return Self.redirect(to: "/lookup/\(Self.pathSegment(q))\(v.query)")
    }

    /// `/lookup/KEY`: `thurac lookup`'s explanation, for people. Which kinds of sources reported
    /// the key, never which sources (a public reporter's source is named after its address).
    func lookup(_ request: Request, key raw: String) async throws -> Response {
        let v = View(request, self)
        let text = raw.removingPercentEncoding ?? raw
        guard let spec = try? KeySpec(parsing: text) else {
            return try page(
                "lookup", status: .badRequest, title: v.t["lookup_title_bad"], view: v,
                ["query": text, "problem": v.t.format("lookup_not_a_key", quoted(text))])
        }
        let (store, zones, now) = (self.store, config.zones, clock())
        let e = try await offLoop { try KeyExplanation.explain(spec, store: store, zones: zones, at: now) }
        var values: [String: Any] = ["query": e.key, "key": e.key, "listed": e.listed]
        let published = (e.listings + e.coveredBy).filter { $0.state == "published" && !$0.key.hasPrefix("!") }
        values["places"] = published.flatMap { l in
            l.publishedIn.map { p -> [String: Any] in
                var row: [String: Any] = [
                    "zone": p.zone, "answer": p.answer, "category": v.t["category_\(l.category)"],
                    "since": Self.when(l.firstSeen), "until": l.expires.map(Self.when) ?? v.t["until_delisted"],
                ]
                // (An empty string is not false to Mustache: a value that is absent is.)
                if l.key != e.key { row["through"] = l.key }
                return row
            }
        }
        if e.listings.contains(where: { $0.state == "pending" }) { values["pending"] = true }
        if let a = e.allowlisted { values["allowlisted"] = ["entry": a.entry, "since": Self.when(a.since)] }
        if let d = e.delisting {
            var delisted = ["at": Self.when(d.at)]
            if let g = d.graceUntil { delisted["graceUntil"] = Self.when(g) }
            values["delisted"] = delisted
        }
        let kinds = Set(e.reporters.map(\.kind)).sorted()
        values["kinds"] = kinds.map { ["kind": v.t["kind_\($0)"]] }
        values["history"] = e.listings.filter { $0.state != "published" && $0.state != "pending" }.map {
            ["category": v.t["category_\($0.category)"], "state": v.t["state_\($0.state)"], "lastSeen": Self.when($0.lastSeen)]
        }
        values["delistingLink"] = "/delisting?key=\(Self.pathSegment(e.key))\(v.explicit ? "&lang=\(v.language.rawValue)" : "")"
        values["reportLink"] = "/report?key=\(Self.pathSegment(e.key))\(v.explicit ? "&lang=\(v.language.rawValue)" : "")"
        values["verdict"] = e.listed ? v.t.format("lookup_listed", e.key) : v.t.format("lookup_not_listed", e.key)
        return try page("lookup", title: e.key, view: v, values)
    }

    /// "2026-12-03T10:10:10Z" as "2026-12-03 10:10 UTC".
    static func when(_ iso: String) -> String {
        guard iso.count >= 16 else { return iso }
        return iso.prefix(10) + " " + iso.dropFirst(11).prefix(5) + " UTC"
    }
}
