import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import ListingKeys
import NIOCore
import Store

extension Portal {
    /// The categories a person may report (`manual` is the Department's own).
    static let reportable = ["spam", "fraud", "malware", "advertising", "harmful"]

    /// `GET /report`: the form (key, category, reason, evidence), with its CSRF token.
    func reportForm(_ request: Request) throws -> Response {
        let v = View(request, self)
        let prefill = FormFields(request.uri.query ?? "")
        return try reportPage(request, v, status: .ok, key: prefill["key"] ?? "", category: "spam", reason: "", evidence: "", problem: nil)
    }

    /// `POST /report`: the same policy as an anonymous `POST /v1/reports` (the client's rate
    /// limit, distinct reporters before publication). A post without its form's token is 403
    /// and nothing of it is read further.
    func submitReport(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let v = View(request, self)
        let fields: FormFields
        switch try await publicForm(request, v, title: v.t["report_title"]) {
        case .refused(let answer): return answer
        case .fields(let f): fields = f
        }
        let key = Self.field(fields, "key")
        let category = fields["category"] ?? "spam"
        let reason = Self.field(fields, "reason")
        let evidence = Self.field(fields, "evidence")
        func again(_ status: HTTPResponse.Status, _ problem: String) throws -> Response {
            try reportPage(request, v, status: status, key: key, category: category, reason: reason, evidence: evidence, problem: problem)
        }
        guard (try? KeySpec(parsing: key)) != nil else { return try again(.badRequest, v.t.format("lookup_not_a_key", quoted(key))) }
        guard Self.reportable.contains(category) else { return try again(.badRequest, v.t["report_bad_category"]) }
        switch await api.publicReport(
            key: key, category: category, reason: reason.isEmpty ? nil : reason, evidence: evidence.isEmpty ? nil : evidence,
            client: context.client)
        {
        case .tooMany(let wait):
            var r = try again(.tooManyRequests, v.t.format("report_too_many", String(max(1, wait / 60))))
            r.headers[.retryAfter] = String(wait)
            return r
        case .refused(let why):
            return try again(.badRequest, why)
        case .unavailable:
            return try again(.serviceUnavailable, v.t["report_unavailable"])
        case .recorded(let counts):
            let outcome =
                counts.allowlisted > 0 ? "report_done_allowlisted"
                : counts.pending > 0 ? "report_done_pending"
                : counts.added > 0 ? "report_done_published" : "report_done_counted"
            return try page(
                "message", title: v.t["report_thanks"], view: v,
                ["heading": v.t["report_thanks"], "text": v.t[outcome], "link": "/lookup/\(Self.pathSegment(key))\(v.query)",
                 "linkText": v.t.format("report_see_lookup", key)])
        }
    }

    func reportPage(
        _ request: Request, _ v: View, status: HTTPResponse.Status, key: String, category: String, reason: String, evidence: String, problem: String?
    ) throws -> Response {
        let token = FormToken.current(request, secure: Self.secure(request))
        var values: [String: Any] = [
            "csrf": token.value, "key": key, "reason": reason, "evidence": evidence,
            "categories": Self.reportable.map { c -> [String: Any] in
                var option: [String: Any] = ["value": c, "name": v.t["category_\(c)"]]
                if c == category { option["selected"] = true }
                return option
            },
        ]
        if let problem { values["problem"] = problem }
        var r = try page("report", status: status, title: v.t["report_title"], view: v, values)
        if let cookie = token.setCookie { r.setCookie(cookie) }
        return r
    }
}
