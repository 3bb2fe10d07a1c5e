import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import ListingKeys
import NIOCore
import Publishing
import Store
import ZoneConfig

/// `/operator`: the Department's console, behind a sign-in. Sessions live in the store (they
/// survive a restart) and end after 30 idle minutes; the cookie is HttpOnly, SameSite=Strict
/// and scoped to /operator; every form carries the CSRF token; every decision is in the audit
/// log under the operator's account.
extension Portal {
    static let sessionCookie = "thurac_session"
    static let sessionIdle = 1800

    /// The signed-in operator, or nil.
    func signedIn(_ request: Request) async throws -> String? {
        guard let id = request.cookies[Self.sessionCookie]?.value, FormToken.valid(id) else { return nil }
        let (store, now) = (self.store, clock())
        return try await offLoop { try store.operatorSession(id, now: now, idle: Self.sessionIdle) }
    }

    static func secure(_ request: Request) -> Bool { request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https" }

    func loginPage(_ request: Request, status: HTTPResponse.Status = .ok, name: String = "", problem: String? = nil) throws -> Response {
        let v = View(request, self)
        let token = FormToken.current(request, secure: Self.secure(request))
        var values: [String: Any] = ["csrf": token.value, "username": name]
        if let problem { values["problem"] = problem }
        var r = try page("operator-login", status: status, title: v.t["operator_login_title"], view: v, values)
        if let cookie = token.setCookie { r.setCookie(cookie) }
        return r
    }

    func login(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let v = View(request, self)
        guard let fields = await Self.form(request), FormToken.matches(request, fields) else {
            return try page("message", status: .forbidden, title: v.t["operator_login_title"], view: v, ["problem": v.t["form_expired"]])
        }
        let name = (fields["username"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = fields["password"] ?? ""
        let (client, now) = (context.client, clock())
        if let wait = loginLimiter.blocked(name: name, client: client, now: now) {
            var r = try loginPage(request, status: .tooManyRequests, name: name, problem: v.t.format("operator_login_blocked", String(max(1, wait / 60))))
            r.headers[.retryAfter] = String(wait)
            return r
        }
        let store = self.store
        guard try await offLoop({ try store.verifyOperator(name: name, password: password) }) else {
            loginLimiter.failed(name: name, client: client, now: now)
            return try loginPage(request, status: .unauthorized, name: name, problem: v.t["operator_login_wrong"])
        }
        loginLimiter.succeeded(name: name, client: client)
        // A new session id at every sign-in.
        let id = try await offLoop { try store.newOperatorSession(name: name, now: now) }
        var r = Self.redirect(to: "/operator\(v.query)")
        r.setCookie(Cookie(name: Self.sessionCookie, value: id, path: "/operator", secure: Self.secure(request), httpOnly: true, sameSite: .strict))
        return r
    }

    func logout(_ request: Request) async throws -> Response {
        let v = View(request, self)
        guard let fields = await Self.form(request), FormToken.matches(request, fields) else {
            return try page("message", status: .forbidden, title: v.t["operator_title"], view: v, ["problem": v.t["form_expired"]])
        }
        if let id = request.cookies[Self.sessionCookie]?.value, FormToken.valid(id) {
            let (store, now) = (self.store, clock())
            try await offLoop { try store.endOperatorSession(id, now: now) }
        }
        var r = Self.redirect(to: "/operator/login\(v.query)")
        r.setCookie(Cookie(name: Self.sessionCookie, value: "", maxAge: 0, path: "/operator", secure: Self.secure(request), httpOnly: true, sameSite: .strict))
        return r
    }

    /// The dashboard: what needs a decision now (open delisting requests, with the key's state).
    func dashboard(_ request: Request) async throws -> Response {
        let v = View(request, self)
        guard let name = try await signedIn(request) else { return Self.redirect(to: "/operator/login\(v.query)") }
        let (store, zones, now) = (self.store, config.zones, clock())
        let open = try await offLoop { () -> [(ListingStore.DelistingRequest, Bool)] in
            try store.delistingRequests(status: "open").map { r in
                let listed = (try? KeySpec(parsing: r.key)).flatMap { try? KeyExplanation.explain($0, store: store, zones: zones, at: now).listed } ?? false
                return (r, listed)
            }
        }
        let token = FormToken.current(request, secure: Self.secure(request))
        let values: [String: Any] = [
            "operator": name, "csrf": token.value,
            "requests": open.map { r, listed -> [String: Any] in
                var row: [String: Any] = [
                    "id": String(r.id), "key": r.key, "reason": r.reason, "created": Self.when(ISOTime.format(r.createdAt)),
                    "state": listed ? v.t["operator_key_listed"] : v.t["operator_key_not_listed"],
                    "lookupLink": "/lookup/\(Self.pathSegment(r.key))\(v.query)",
                ]
                if let c = r.contact { row["contact"] = c }
                return row
            },
        ]
        var r = try page("operator-dashboard", title: v.t["operator_title"], view: v, values)
        if let cookie = token.setCookie { r.setCookie(cookie) }
        r.headers[.cacheControl] = "no-store"
        return r
    }

    /// Accepts (`decision=accept`: the key is delisted with the configured grace) or rejects
    /// (`decision=reject`) a request, as the signed-in operator.
    func decide(_ request: Request, id text: String) async throws -> Response {
        let v = View(request, self)
        guard let name = try await signedIn(request) else { return Self.redirect(to: "/operator/login\(v.query)") }
        guard let fields = await Self.form(request), FormToken.matches(request, fields) else {
            return try page("message", status: .forbidden, title: v.t["operator_title"], view: v, ["problem": v.t["form_expired"]])
        }
        let answer = (fields["answer"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let accept = fields["decision"] == "accept"
        guard let id = Int64(text), !answer.isEmpty, accept || fields["decision"] == "reject" else {
            return try page("message", status: .badRequest, title: v.t["operator_title"], view: v, ["problem": v.t["operator_answer_required"]])
        }
        let (store, now, grace) = (self.store, clock(), config.delistingGrace)
        do {
            _ = try await offLoop { try store.decide(request: id, accept: accept, answer: answer, grace: grace, now: now, actor: "operator:\(name)") }
        } catch let e as StoreError {
            return try page("message", status: .conflict, title: v.t["operator_title"], view: v, ["problem": e.description])
        }
        return Self.redirect(to: "/operator\(v.query)")
    }

    /// A posted form's fields (at most 64 KiB of UTF-8), or nil.
    static func form(_ request: Request) async -> FormFields? {
        guard let body = try? await request.body.collect(upTo: 64 << 10), let text = String(validating: body.readableBytesView, as: UTF8.self) else {
            return nil
        }
        return FormFields(text)
    }
}
