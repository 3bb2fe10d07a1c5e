import Foundation
import HTTPAPI
import Hummingbird
import ListingKeys
import Store
import ZoneConfig

extension Portal {
    /// `/operator/reports`: pending public reports grouped by key, the most reported first, with
    /// who many reporters, when, and the evidence they gave; confirm publishes the key as the
    /// operator, dismiss holds it back like a delisting.
    func reviewQueue(_ request: Request) async throws -> Response {
        try await consolePage(request, "console-reports", title: "console_reports_title") { _, v in
            let store = self.store
            let (keys, total) = try await offLoop { try store.pendingKeys(limit: 200) }
            return [
                "total": total, "shown": keys.count, "more": total > keys.count,
                "keys": keys.enumerated().map { i, k -> [String: Any] in
                    var row: [String: Any] = [
                        "n": i, "key": k.key, "reporters": k.reporters, "categories": k.categories.map { v.t["category_\($0)"] }.joined(separator: ", "),
                        "firstSeen": Self.when(ISOTime.format(k.firstSeen)), "lastSeen": Self.when(ISOTime.format(k.lastSeen)),
                        "listingsLink": Self.link("/operator/listings", v, [("q", k.key)]),
                    ]
                    if let e = k.evidence { row["evidence"] = e }
                    if let r = k.reason { row["reason"] = r }
                    return row
                },
            ]
        }
    }

    /// `POST /operator/reports` (`key`, `decision=confirm|dismiss`, optional `note`).
    func review(_ request: Request) async throws -> Response {
        try await consoleAction(request) { account, fields, v in
            let text = Self.field(fields, "key")
            guard let key = try? KeySpec(parsing: text) else {
                return try await refusal(request, v, account: account, .badRequest, v.t.format("lookup_not_a_key", quoted(text)))
            }
            let note = Self.field(fields, "note")
            let (store, now, grace) = (self.store, clock(), config.delistingGrace)
            switch fields["decision"] {
            case "confirm":
                _ = try await offLoop { try store.confirm(key, note: note.isEmpty ? nil : note, now: now, account: account) }
                return Self.redirect(to: Self.link("/operator/reports", v, [("done", "confirmed")]))
            case "dismiss":
                let reason = note.isEmpty ? "dismissed in review" : note
                try await offLoop { try store.dismiss(key, reason: reason, grace: grace, now: now, account: account) }
                return Self.redirect(to: Self.link("/operator/reports", v, [("done", "dismissed")]))
            default:
                return try await refusal(request, v, account: account, .badRequest, v.t["console_choose_decision"])
            }
        }
    }
}
