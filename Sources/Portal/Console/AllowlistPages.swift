import Foundation
import HTTPAPI
import Hummingbird
import ListingKeys
import Store

extension Portal {
    /// `/operator/allowlist`: trusted partners' keys and ranges (directive item 4c), never
    /// published whatever is reported; add and remove.
    func allowlistPage(_ request: Request) async throws -> Response {
        try await consolePage(request, "console-allowlist", title: "console_allowlist_title") { _, v in
            let store = self.store
            let entries = try await offLoop { try store.allowlist() }
            return [
                "hasEntries": !entries.isEmpty,
                "entries": entries.enumerated().map { n, e -> [String: Any] in
                    var row: [String: Any] = ["n": n, "key": e.key, "by": e.addedBy, "at": Self.when(ISOTime.format(e.addedAt))]
                    if let r = e.reason { row["reason"] = r }
                    return row
                }
            ]
        }
    }

    /// `POST /operator/allowlist` (`key`, `reason`).
    func allowKey(_ request: Request) async throws -> Response {
        try await consoleAction(request) { account, fields, v in
            let (text, reason) = (Self.field(fields, "key"), Self.field(fields, "reason"))
            guard let key = try? KeySpec(parsing: text), !key.excluded else {
                return try await refusal(request, v, account: account, .badRequest, v.t.format("lookup_not_a_key", quoted(text)))
            }
            guard !reason.isEmpty else { return try await refusal(request, v, account: account, .badRequest, v.t["console_reason_required"]) }
            let (store, now) = (self.store, clock())
            try await offLoop { try store.allow(key, reason: reason, now: now, actor: "operator:\(account)") }
            return Self.redirect(to: Self.link("/operator/allowlist", v, [("done", "allowed")]))
        }
    }

    /// `POST /operator/allowlist/remove` (`key`).
    func disallowKey(_ request: Request) async throws -> Response {
        try await consoleAction(request) { account, fields, v in
            let text = Self.field(fields, "key")
            guard let key = try? KeySpec(parsing: text) else {
                return try await refusal(request, v, account: account, .badRequest, v.t.format("lookup_not_a_key", quoted(text)))
            }
            let (store, now) = (self.store, clock())
            try await offLoop { try store.disallow(key, now: now, actor: "operator:\(account)") }
            return Self.redirect(to: Self.link("/operator/allowlist", v, [("done", "disallowed")]))
        }
    }
}
