import Foundation
import HTTPAPI
import Hummingbird
import ListingKeys
import Store

extension Portal {
    /// `/operator/sources`: the feeds' sources (ISPs, agencies; public reporters are counted,
    /// not listed one by one), with add, token rotation and removal. A new token is shown once,
    /// on the answer to the POST that made it: never in a URL, a log or a later page.
    func sourcesPage(_ request: Request) async throws -> Response {
        try await consolePage(request, "console-sources", title: "console_sources_title") { _, v in
            let store = self.store
            let all = try await offLoop { try store.sources() }
            return sourcesValues(all, v)
        }
    }

    func sourcesValues(_ all: [Source], _ v: View) -> [String: Any] {
        let named = all.filter { $0.kind != .public }
        return [
            "publicCount": all.count - named.count,
            "kinds": SourceKind.allCases.filter { $0 != .public }.map { ["value": $0.rawValue, "name": v.t["kind_\($0.rawValue)"]] },
            "sources": named.enumerated().map { n, s -> [String: Any] in
                [
                    "n": n, "name": s.name, "kind": v.t["kind_\(s.kind.rawValue)"], "created": Self.when(ISOTime.format(s.createdAt)),
                    "ttl": s.effectiveTTL.map { DurationText.text($0) } ?? v.t["console_never"],
                ]
            },
        ]
    }

    /// `POST /operator/sources` (`name`, `kind`, `ttl`): a new source and its token, shown once.
    func addSource(_ request: Request) async throws -> Response {
        try await consoleAction(request) { account, fields, v in
            let (name, ttlText) = (Self.field(fields, "name"), Self.field(fields, "ttl"))
            guard let kind = SourceKind(rawValue: Self.field(fields, "kind")), kind != .public else {
                return try await refusal(request, v, account: account, .badRequest, v.t["console_choose_kind"])
            }
            let ttl: Int?
            do { ttl = ttlText.isEmpty ? nil : try DurationText.seconds(ttlText) } catch {
                return try await refusal(request, v, account: account, .badRequest, "\(error)")
            }
            let (store, now) = (self.store, clock())
            let token = try await offLoop { try store.addSource(name: name, kind: kind, ttl: ttl, now: now, actor: "operator:\(account)") }
            return try await tokenPage(request, v, account: account, name: name, token: token, status: .created)
        }
    }

    /// `POST /operator/sources/token` (`name`): a new token; the old one stops working now.
    func rotateSourceToken(_ request: Request) async throws -> Response {
        try await consoleAction(request) { account, fields, v in
            let name = Self.field(fields, "name")
            let (store, now) = (self.store, clock())
            let token = try await offLoop { try store.rotateToken(name: name, now: now, actor: "operator:\(account)") }
            return try await tokenPage(request, v, account: account, name: name, token: token, status: .ok)
        }
    }

    /// `POST /operator/sources/remove` (`name`): its listings stay; it can no longer report.
    func removeSource(_ request: Request) async throws -> Response {
        try await consoleAction(request) { account, fields, v in
            let name = Self.field(fields, "name")
            let (store, now) = (self.store, clock())
            try await offLoop { try store.removeSource(name: name, now: now, actor: "operator:\(account)") }
            return Self.redirect(to: Self.link("/operator/sources", v, [("done", "source_removed")]))
        }
    }

    func tokenPage(_ request: Request, _ v: View, account: String, name: String, token: String, status: HTTPResponse.Status) async throws -> Response {
        try await consoleFrame(request, v, "console-token", title: v.t["console_token_title"], status: status, account: account, [
            "name": name, "token": token, "back": Self.link("/operator/sources", v, []),
            "feedURL": Self.absolute("/v1/feeds/\(name)", request),
        ])
    }
}
