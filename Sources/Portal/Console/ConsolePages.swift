import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import ListingKeys
import Store

/// What every console page and action shares: the session check, the CSRF check, the page
/// frame (the console's menu, the signed-in account) and how a store refusal is shown.
extension Portal {
    /// The console's sections, in the menu's order: (path, locale key of its name).
    static let consoleSections = [
        ("/operator", "console_nav_dashboard"), ("/operator/reports", "console_nav_reports"),
        ("/operator/listings", "console_nav_listings"), ("/operator/allowlist", "console_nav_allowlist"),
        ("/operator/sources", "console_nav_sources"), ("/operator/audit", "console_nav_audit"),
        ("/operator/report", "console_nav_report"),
    ]

    /// A console page for the signed-in operator (anyone else goes to the sign-in page); never
    /// cached, since it shows what only operators may see.
    func consolePage(
        _ request: Request, _ template: String, title key: String, status: HTTPResponse.Status = .ok,
        _ values: (_ account: String, _ v: View) async throws -> [String: Any]
    ) async throws -> Response {
        let v = View(request, self)
        guard let account = try await signedIn(request) else { return Self.redirect(to: "/operator/login\(v.query)") }
        return try await consoleFrame(request, v, template, title: v.t[key], status: status, account: account, try await values(account, v))
    }

    func consoleFrame(
        _ request: Request, _ v: View, _ template: String, title: String, status: HTTPResponse.Status = .ok, account: String,
        _ values: [String: Any]
    ) async throws -> Response {
        let token = FormToken.current(request, secure: Self.secure(request))
        var all: [String: Any] = [
            "operator": account, "csrf": token.value,
            "sections": Self.consoleSections.map { path, name -> [String: Any] in
                var s: [String: Any] = ["link": path + v.query, "name": v.t[name]]
                if path == v.path { s["current"] = true }
                return s
            },
        ]
        if let done = request.uri.queryParameters.get("done"), let text = v.t.table["done_\(done)"] { all["done"] = text }
        for (k, value) in values { all[k] = value }
        var r = try page(template, status: status, title: title, view: v, all)
        if let cookie = token.setCookie { r.setCookie(cookie) }
        r.headers[.cacheControl] = "no-store"
        return r
    }

    /// A console form's POST: signed in, with the page's CSRF token (403 and nothing done
    /// otherwise). A store refusal (not listed, exists already) is a 409 page that says it.
    func consoleAction(
        _ request: Request, _ body: (_ account: String, _ fields: FormFields, _ v: View) async throws -> Response
    ) async throws -> Response {
        let v = View(request, self)
        guard let account = try await signedIn(request) else { return Self.redirect(to: "/operator/login\(v.query)") }
        guard let fields = await Self.form(request), FormToken.matches(request, fields) else {
            return try page("message", status: .forbidden, title: v.t["operator_title"], view: v, ["problem": v.t["form_expired"]])
        }
        do {
            return try await body(account, fields, v)
        } catch let e as StoreError {
            return try await refusal(request, v, account: account, .conflict, e.description)
        }
    }

    /// The console's answer to a form it cannot apply: what is wrong, and the way back.
    func refusal(_ request: Request, _ v: View, account: String, _ status: HTTPResponse.Status, _ problem: String) async throws -> Response {
        try await consoleFrame(request, v, "console-message", title: v.t["console_refused"], status: status, account: account, [
            "problem": problem, "back": v.path + v.query,
        ])
    }

    /// A link on the site with query fields (the chosen language kept), percent-encoded.
    static func link(_ path: String, _ v: View, _ fields: [(String, String)]) -> String {
        var all = fields.filter { !$0.1.isEmpty }
        if v.explicit { all.insert(("lang", v.language.rawValue), at: 0) }
        guard !all.isEmpty else { return path }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return path + "?" + all.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    /// `YYYY-MM-DD` (an `<input type=date>`) as the start of that day, UTC; nil when malformed.
    static func day(_ text: String) -> Int? {
        // Read back to refuse what the parser would carry over (2026-13-01, 2026-02-30).
        guard text.utf8.count == 10, let t = ISOTime.parse(text + "T00:00:00Z"), dayText(t) == text else { return nil }
        return t
    }
}
