import Foundation
import HTTPAPI
import Hummingbird
import ListingKeys
import Store
import ZoneConfig

extension Portal {
    /// `/operator/listings?q=`: listings whose key is `q` or starts with it, every state, with
    /// provenance (the sources by name: operators may see them), delist and restore forms, and
    /// how long a delisted or expired listing stays restorable (directive item 4c: at least 7
    /// days). Above them, the form to list a key by hand.
    func listingsPage(_ request: Request) async throws -> Response {
        try await consolePage(request, "console-listings", title: "console_listings_title") { _, v in
            let q = (request.uri.queryParameters.get("q").map { String($0) } ?? "").trimmingCharacters(in: .whitespaces)
            let (store, keep) = (self.store, max(config.retention, ListingStore.minimumRetention))
            var values: [String: Any] = ["q": q, "categories": Self.categoryOptions(v), "keepDays": keep / 86400]
            if (try? KeySpec(parsing: q)) != nil { values["listKey"] = q }
            guard !q.isEmpty else { return values }
            let limit = 100
            let (rows, delistings) = try await offLoop { () -> ([ListingStore.ListingRow], [String: ListingStore.Delisting]) in
                let rows = try store.searchListings(q, limit: limit + 1)
                var d: [String: ListingStore.Delisting] = [:]
                for key in Set(rows.filter { $0.state == "delisted" }.map(\.key)) { d[key] = try store.delisting(key: key) }
                return (rows, d)
            }
            var keys: [[String: Any]] = []
            var order: [String] = []
            var byKey: [String: [ListingStore.ListingRow]] = [:]
            for r in rows.prefix(limit) {
                if byKey[r.key] == nil { order.append(r.key) }
                byKey[r.key, default: []].append(r)
            }
            for (n, key) in order.enumerated() {
                let rows = byKey[key]!
                var entry: [String: Any] = [
                    "n": n, "key": key,
                    "rows": rows.map { r -> [String: Any] in
                        var row: [String: Any] = [
                            "category": v.t["category_\(r.category)"], "state": v.t["state_\(r.state)"], "stateClass": r.state,
                            "firstSeen": Self.when(ISOTime.format(r.firstSeen)), "lastSeen": Self.when(ISOTime.format(r.lastSeen)),
                            "expires": r.expiresAt.map { Self.when(ISOTime.format($0)) } ?? v.t["console_never"],
                            "reports": r.reportCount, "sources": r.sources.joined(separator: ", "),
                        ]
                        if let reason = r.reason { row["reason"] = reason }
                        // How long history keeps it restorable: from its end, the retention.
                        let ended: Int? = r.state == "delisted" ? delistings[key]?.at : r.state == "expired" ? (r.expiresAt ?? r.lastSeen) : nil
                        if let ended { row["restorableUntil"] = Self.when(ISOTime.format(ended + keep)) }
                        return row
                    },
                ]
                if rows.contains(where: { $0.state == "published" || $0.state == "pending" }) { entry["delistable"] = true }
                if rows.contains(where: { $0.state == "delisted" || $0.state == "expired" }) { entry["restorable"] = true }
                if let d = delistings[key] { entry["delisting"] = "\(d.reason) (\(d.by), \(Self.when(ISOTime.format(d.at))))" }
                keys.append(entry)
            }
            values["keys"] = keys
            values["searched"] = true
            if rows.count > limit { values["more"] = limit }
            return values
        }
    }

    static func categoryOptions(_ v: View, selected: String = Category.manual.rawValue) -> [[String: Any]] {
        Category.allCases.map { c in
            var o: [String: Any] = ["value": c.rawValue, "name": v.t["category_\(c.rawValue)"]]
            if c.rawValue == selected { o["selected"] = true }
            return o
        }
    }

    /// `POST /operator/listings` (`key`, `category`, `reason`, `ttl`): lists a key by hand.
    func listByHand(_ request: Request) async throws -> Response {
        try await consoleAction(request) { account, fields, v in
            let (text, reason, ttlText) = (Self.field(fields, "key"), Self.field(fields, "reason"), Self.field(fields, "ttl"))
            guard let key = try? KeySpec(parsing: text) else {
                return try await refusal(request, v, account: account, .badRequest, v.t.format("lookup_not_a_key", quoted(text)))
            }
            guard let category = Category(rawValue: Self.field(fields, "category")) else {
                return try await refusal(request, v, account: account, .badRequest, v.t["console_choose_category"])
            }
            guard !reason.isEmpty else { return try await refusal(request, v, account: account, .badRequest, v.t["console_reason_required"]) }
            let ttl: Int?
            do { ttl = ttlText.isEmpty ? nil : try DurationText.seconds(ttlText) } catch {
                return try await refusal(request, v, account: account, .badRequest, "\(error)")
            }
            let (store, now) = (self.store, clock())
            _ = try await offLoop { try store.listManually(key, category: category, reason: reason, ttl: ttl, now: now, account: account) }
            return Self.redirect(to: Self.link("/operator/listings", v, [("q", key.description), ("done", "listed")]))
        }
    }

    /// `POST /operator/listings/delist` (`key`, `reason`): out of DNS, with the configured grace.
    func delistByHand(_ request: Request) async throws -> Response {
        try await consoleAction(request) { account, fields, v in
            let (text, reason) = (Self.field(fields, "key"), Self.field(fields, "reason"))
            guard let key = try? KeySpec(parsing: text) else {
                return try await refusal(request, v, account: account, .badRequest, v.t.format("lookup_not_a_key", quoted(text)))
            }
            guard !reason.isEmpty else { return try await refusal(request, v, account: account, .badRequest, v.t["console_reason_required"]) }
            let (store, now, grace) = (self.store, clock(), config.delistingGrace)
            try await offLoop { try store.delist(key, reason: reason, grace: grace, now: now, actor: "operator:\(account)") }
            return Self.redirect(to: Self.link("/operator/listings", v, [("q", key.description), ("done", "delisted")]))
        }
    }

    /// `POST /operator/listings/restore` (`key`): back from history, within the retention.
    func restoreByHand(_ request: Request) async throws -> Response {
        try await consoleAction(request) { account, fields, v in
            let text = Self.field(fields, "key")
            guard let key = try? KeySpec(parsing: text) else {
                return try await refusal(request, v, account: account, .badRequest, v.t.format("lookup_not_a_key", quoted(text)))
            }
            let (store, now, retention) = (self.store, clock(), config.retention)
            try await offLoop { try store.restore(key, retention: retention, now: now, actor: "operator:\(account)") }
            return Self.redirect(to: Self.link("/operator/listings", v, [("q", key.description), ("done", "restored")]))
        }
    }
}
