import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import ListingKeys
import NIOCore
import Publishing
import Store

extension Portal {
    /// The audit log's filter, from the query: `key` (a key or its prefix), `operator` (an
    /// account, or any actor as written: `source:vnpt`, `root`), `action` (`delist`, or a group
    /// such as `source`), `since` and `until` (days, `YYYY-MM-DD`, both included).
    struct AuditFilter {
        var key = "", actor = "", action = "", since = "", until = ""
        var problem: String?

        init(_ request: Request, _ v: View) {
            let q = request.uri.queryParameters
            func get(_ name: String) -> String { (q.get(name).map { String($0) } ?? "").trimmingCharacters(in: .whitespaces) }
            (key, actor, action, since, until) = (get("key"), get("operator"), get("action"), get("since"), get("until"))
            if (!since.isEmpty && Portal.day(since) == nil) || (!until.isEmpty && Portal.day(until) == nil) {
                problem = v.t["console_bad_day"]
            }
        }

        var fields: [(String, String)] { [("key", key), ("operator", actor), ("action", action), ("since", since), ("until", until)] }

        func entries(_ store: ListingStore, limit: Int) throws -> [ListingStore.AuditEntry] {
            try store.auditLog(
                subject: key.isEmpty ? nil : key, actor: actor.isEmpty ? nil : actor, action: action.isEmpty ? nil : action,
                since: Portal.day(since), until: Portal.day(until).map { $0 + 86399 }, newestFirst: true, limit: limit)
        }
    }

    /// `/operator/audit`: who did what, when and why, newest first (the last 500 that match).
    func auditPage(_ request: Request) async throws -> Response {
        try await consolePage(request, "console-audit", title: "console_audit_title") { _, v in
            let filter = AuditFilter(request, v)
            let store = self.store
            var values: [String: Any] = [
                "key": filter.key, "actor": filter.actor, "action": filter.action, "since": filter.since, "until": filter.until,
                "csvLink": Self.link("/operator/audit.csv", v, filter.fields),
            ]
            if let p = filter.problem {
                values["problem"] = p
                return values
            }
            let entries = try await offLoop { try filter.entries(store, limit: 500) }
            values["count"] = entries.count
            values["entries"] = entries.map { e -> [String: Any] in
                var row: [String: Any] = ["at": Self.when(ISOTime.format(e.at)), "actor": e.actor, "action": e.action]
                if let s = e.subject { row["subject"] = s }
                if let d = e.detail { row["detail"] = d }
                return row
            }
            return values
        }
    }

    /// `/operator/audit.csv`: the same filter as a spreadsheet file (every match, newest first).
    func auditCSV(_ request: Request) async throws -> Response {
        try await consoleDownload(request, title: "console_audit_title", problem: { AuditFilter(request, $0).problem }) { v in
            let (filter, store) = (AuditFilter(request, v), self.store)
            let entries = try await offLoop { try filter.entries(store, limit: 1_000_000) }
            var out = "at,actor,action,subject,detail\n"
            for e in entries { out += CSV.line([ISOTime.format(e.at), e.actor, e.action, e.subject ?? "", e.detail ?? ""], spreadsheet: true) }
            return (out, "thurac-audit.csv")
        }
    }

    /// A console file for the signed-in operator (anyone else goes to the sign-in page): the
    /// query's problem as a 400 page, else the file `make` writes.
    func consoleDownload(
        _ request: Request, title key: String, problem: (View) -> String?, _ make: (View) async throws -> (csv: String, name: String)
    ) async throws -> Response {
        let v = View(request, self)
        guard try await signedIn(request) != nil else { return Self.redirect(to: "/operator/login\(v.query)") }
        if let p = problem(v) { return try page("message", status: .badRequest, title: v.t[key], view: v, ["problem": p]) }
        let file = try await make(v)
        return Self.download(file.csv, name: file.name)
    }

    /// A CSV file to save (UTF-8 with a byte-order mark, which spreadsheets need to read
    /// Vietnamese right), never cached.
    static func download(_ csv: String, name: String) -> Response {
        var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]
        bytes.append(contentsOf: csv.utf8)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(name)\"", .cacheControl: "no-store",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
