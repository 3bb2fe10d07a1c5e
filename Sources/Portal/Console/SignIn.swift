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

    /// Behind a TLS proxy that says so (docs/portal.md): cookies get Secure, links https.
    static func secure(_ request: Request) -> Bool { request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https" }

    /// A path of this site as a full URL, as the visitor reached it (for links to copy).
    static func absolute(_ path: String, _ request: Request) -> String {
        guard let host = request.head.authority else { return path }
        return "\(secure(request) ? "https" : "http")://\(host)\(path)"
    }

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

}
