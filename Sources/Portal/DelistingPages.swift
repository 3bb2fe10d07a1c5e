import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import ListingKeys
import NIOCore
import Store

extension Portal {
    /// `GET /delisting`: the form (key, reason, contact), with its CSRF token; `?key=` fills the key.
    func delistingForm(_ request: Request) throws -> Response {
        let v = View(request, self)
        let prefill = FormFields(request.uri.query ?? "")
        return try delistingPage(request, v, status: .ok, key: prefill["key"] ?? "", reason: "", contact: "", problem: nil)
    }

    /// `POST /delisting`: stored through the API's path (its own rate limit per client, the
    /// audit log); the answer gives the request's number and its private status link.
    func submitDelisting(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let v = View(request, self)
        let fields: FormFields
        switch try await publicForm(request, v, title: v.t["delisting_title"]) {
        case .refused(let answer): return answer
        case .fields(let f): fields = f
        }
        let key = Self.field(fields, "key")
        let reason = Self.field(fields, "reason")
        let contact = Self.field(fields, "contact")
        func again(_ status: HTTPResponse.Status, _ problem: String) throws -> Response {
            try delistingPage(request, v, status: status, key: key, reason: reason, contact: contact, problem: problem)
        }
        guard (try? KeySpec(parsing: key)) != nil else { return try again(.badRequest, v.t.format("lookup_not_a_key", quoted(key))) }
        guard !reason.isEmpty else { return try again(.badRequest, v.t["delisting_reason_required"]) }
        switch await api.delistingRequest(key: key, reason: reason, contact: contact.isEmpty ? nil : contact, client: context.client) {
        case .tooMany(let wait):
            var r = try again(.tooManyRequests, v.t.format("report_too_many", String(max(1, wait / 60))))
            r.headers[.retryAfter] = String(wait)
            return r
        case .refused(let why):
            return try again(.badRequest, why)
        case .unavailable:
            return try again(.serviceUnavailable, v.t["report_unavailable"])
        case .created(let id, let link):
            let path = "/delisting/\(id)/\(link)\(v.query)"
            return try page(
                "message", status: .created, title: v.t.format("delisting_created_heading", String(id)), view: v,
                ["heading": v.t.format("delisting_created_heading", String(id)), "text": v.t["delisting_created_text"], "link": path,
                 "linkText": Self.absolute(path, request)])
        }
    }

    /// `GET /delisting/{id}/{secret}`: the request's state and the Department's answer, for
    /// whoever holds the link; any other id or secret is a 404 that says nothing of it.
    func delistingStatus(_ request: Request, id text: String, link: String) async throws -> Response {
        let v = View(request, self)
        let store = self.store
        guard let id = Int64(text), FormToken.valid(link),
            let r = try await offLoop({ try store.delistingRequest(id: id, link: link) })
        else {
            return try page("message", status: .notFound, title: v.t["delisting_not_found"], view: v, ["heading": v.t["delisting_not_found"], "text": v.t["delisting_not_found_help"]])
        }
        var values: [String: Any] = [
            "id": String(r.id), "key": r.key, "reason": r.reason, "state": v.t["delisting_state_\(r.status)"],
            "created": Self.when(ISOTime.format(r.createdAt)), "lookupLink": "/lookup/\(Self.pathSegment(r.key))\(v.query)",
        ]
        if r.status == "open" { values["open"] = true }
        if let d = r.decidedAt { values["decided"] = Self.when(ISOTime.format(d)) }
        if let a = r.answer { values["answer"] = a }
        return try page("delisting-status", title: v.t.format("delisting_status_title", String(r.id)), view: v, values)
    }

    func delistingPage(
        _ request: Request, _ v: View, status: HTTPResponse.Status, key: String, reason: String, contact: String, problem: String?
    ) throws -> Response {
        let token = FormToken.current(request, secure: Self.secure(request))
        var values: [String: Any] = ["csrf": token.value, "key": key, "reason": reason, "contact": contact]
        if let problem { values["problem"] = problem }
        var r = try page("delisting", status: status, title: v.t["delisting_title"], view: v, values)
        if let cookie = token.setCookie { r.setCookie(cookie) }
        return r
    }
}
