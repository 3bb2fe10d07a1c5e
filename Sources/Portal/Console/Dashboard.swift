import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import ListingKeys
import Publishing
import Store
import ZoneConfig

extension Portal {
    /// `/operator`: what needs a decision now (pending public reports, open delisting requests
    /// with the key's state), today's counts, and listings and reports over the last 30 days.
    func dashboard(_ request: Request) async throws -> Response {
        try await consolePage(request, "operator-dashboard", title: "operator_title") { _, v in
            let (store, zones, now) = (self.store, config.zones, clock())
            let (open, pending) = try await offLoop { () -> ([(ListingStore.DelistingRequest, Bool)], (keys: [ListingStore.PendingKey], total: Int)) in
                let open = try store.delistingRequests(status: "open").map { r in
                    let listed = (try? KeySpec(parsing: r.key)).flatMap { try? KeyExplanation.explain($0, store: store, zones: zones, at: now).listed } ?? false
                    return (r, listed)
                }
                return (open, try store.pendingKeys(limit: 5))
            }
            // The series of /stats (one computation for both), its reports cut to five weeks.
            var series = try await self.series.current(store, now: now, weeks: 12, days: 30)
            series.reportsPerWeek = Array(series.reportsPerWeek.suffix(5))
            var values = seriesValues(series, v)
            values["requestCount"] = open.count
            values["pendingCount"] = pending.total
            values["listingsNow"] = series.listingsPerDay.last?.total ?? 0
            values["reportsMonth"] = series.reportsPerWeek.reduce(0) { $0 + $1.total }
            values["hasPending"] = !pending.keys.isEmpty
            values["pending"] = pending.keys.map { ["key": $0.key, "reporters": $0.reporters, "lastSeen": Self.when(ISOTime.format($0.lastSeen))] }
            values["requests"] = open.map { r, listed -> [String: Any] in
                var row: [String: Any] = [
                    "id": String(r.id), "key": r.key, "reason": r.reason, "created": Self.when(ISOTime.format(r.createdAt)),
                    "state": listed ? v.t["operator_key_listed"] : v.t["operator_key_not_listed"],
                    "lookupLink": Self.link("/operator/listings", v, [("q", r.key)]),
                ]
                if let c = r.contact { row["contact"] = c }
                return row
            }
            return values
        }
    }

    /// Accepts (`decision=accept`: the key is delisted with the configured grace) or rejects
    /// (`decision=reject`) a request, as the signed-in operator.
    func decide(_ request: Request, id text: String) async throws -> Response {
        try await consoleAction(request) { account, fields, v in
            let answer = Self.field(fields, "answer")
            let accept = fields["decision"] == "accept"
            guard let id = Int64(text), !answer.isEmpty, accept || fields["decision"] == "reject" else {
                return try await refusal(request, v, account: account, .badRequest, v.t["operator_answer_required"])
            }
            let (store, now, grace) = (self.store, clock(), config.delistingGrace)
            _ = try await offLoop { try store.decide(request: id, accept: accept, answer: answer, grace: grace, now: now, actor: "operator:\(account)") }
            return Self.redirect(to: Self.link("/operator", v, [("done", accept ? "accepted" : "rejected")]))
        }
    }
}
