import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import Store
import ZoneConfig

/// The web portal (issue 11), served by `thurac serve` on the JSON API's listener: pages for
/// people, in Vietnamese and English, rendered on the server from the Mustache templates in
/// `Resources/templates`, with no script. Every HTML answer carries a Content-Security-Policy
/// that allows no script at all, and Mustache escapes every value it writes.
public struct Portal: WebPages {
    let store: ListingStore
    let config: ThuracConfig
    /// The API beside it: reports from the portal take its path (policy, rate limits, metrics).
    let api: APIServer
    let clock: @Sendable () -> Int
    let templates: MustacheLibrary
    let strings: [Language: Strings]
    let stylesheet: [UInt8]
    let loginLimiter = LoginLimiter()
    let series = SeriesCache()

    public init(
        store: ListingStore, config: ThuracConfig, api: APIServer, clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }
    ) throws {
        self.store = store
        self.config = config
        self.api = api
        self.clock = clock
        guard let resources = InstalledResources.directory("thurac_Portal") else {
            throw PortalError("its templates are not installed beside the binary (thurac_Portal.resources)")
        }
        let dir = resources.appendingPathComponent("templates")
        let css = resources.appendingPathComponent("static/portal.css")
        var library = MustacheLibrary()
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.hasSuffix(".mustache") {
            let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
            try library.register(text, named: String(file.dropLast(".mustache".count)))
        }
        templates = library
        var s: [Language: Strings] = [:]
        for l in Language.allCases { s[l] = try Strings.load(l, from: resources.appendingPathComponent("locales")) }
        strings = s
        stylesheet = Array(try Data(contentsOf: css))
    }

    public func register(on router: Router<APIRequestContext>) {
        // The charts' series read every listing (seconds on a big store): made once at the
        // start, at background priority, so that the first visitor of /stats or the
        // dashboard does not wait for it.
        let (series, store, clock) = (self.series, self.store, self.clock)
        Task(priority: .background) { _ = try? await series.current(store, now: clock(), weeks: 12, days: 30) }
        router.get("/") { request, context in try self.home(request, context) }
        router.get("/lookup") { request, _ in try self.lookupForm(request) }
        router.get("/lookup/:key") { request, context in try await self.lookup(request, key: context.parameters.get("key") ?? "") }
        router.get("/report") { request, _ in try self.reportForm(request) }
        router.get("/stats") { request, _ in try await self.stats(request) }
        router.post("/report") { request, context in try await self.submitReport(request, context) }
        router.get("/delisting") { request, _ in try self.delistingForm(request) }
        router.post("/delisting") { request, context in try await self.submitDelisting(request, context) }
        router.get("/delisting/:id/:link") { request, context in
            try await self.delistingStatus(request, id: context.parameters.get("id") ?? "", link: context.parameters.get("link") ?? "")
        }
        router.get("/operator/login") { request, _ in try self.loginPage(request) }
        router.post("/operator/login") { request, context in try await self.login(request, context) }
        router.post("/operator/logout") { request, _ in try await self.logout(request) }
        router.get("/operator") { request, _ in try await self.dashboard(request) }
        router.post("/operator/requests/:id") { request, context in try await self.decide(request, id: context.parameters.get("id") ?? "") }
        router.get("/operator/reports") { request, _ in try await self.reviewQueue(request) }
        router.post("/operator/reports") { request, _ in try await self.review(request) }
        router.get("/operator/listings") { request, _ in try await self.listingsPage(request) }
        router.post("/operator/listings") { request, _ in try await self.listByHand(request) }
        router.post("/operator/listings/delist") { request, _ in try await self.delistByHand(request) }
        router.post("/operator/listings/restore") { request, _ in try await self.restoreByHand(request) }
        router.get("/operator/allowlist") { request, _ in try await self.allowlistPage(request) }
        router.post("/operator/allowlist") { request, _ in try await self.allowKey(request) }
        router.post("/operator/allowlist/remove") { request, _ in try await self.disallowKey(request) }
        router.get("/operator/sources") { request, _ in try await self.sourcesPage(request) }
        router.post("/operator/sources") { request, _ in try await self.addSource(request) }
        router.post("/operator/sources/token") { request, _ in try await self.rotateSourceToken(request) }
        router.post("/operator/sources/remove") { request, _ in try await self.removeSource(request) }
        router.get("/operator/audit") { request, _ in try await self.auditPage(request) }
        router.get("/operator/audit.csv") { request, _ in try await self.auditCSV(request) }
        router.get("/operator/report") { request, _ in try await self.periodicReport(request) }
        router.get("/operator/report.csv") { request, _ in try await self.periodicReportCSV(request) }
        router.get("/static/portal.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.stylesheet)))
        }
    }

    /// Every path the API does not answer is the portal's: its 404 is the site's.
    public func owns(_ path: String) -> Bool { true }

    public func errorPage(_ status: HTTPResponse.Status, for request: Request) throws -> Response {
        let v = View(request, self)
        let key = status == .notFound ? "error_not_found" : status == .methodNotAllowed ? "error_method" : "error_other"
        return try page("error", status: status, title: v.t[key], view: v, ["message": v.t[key], "code": status.code])
    }

    // MARK: - rendering

    /// What every page knows: the language, its words, the link that keeps it.
    struct View {
        let language: Language
        let explicit: Bool
        let t: Strings
        let path: String

        init(_ request: Request, _ portal: Portal) {
            let choice = Language.choose(
                query: request.uri.queryParameters.get("lang"), acceptLanguage: request.headers[.acceptLanguage])
            language = choice.language
            explicit = choice.explicit
            t = portal.strings[choice.language]!
            // Links are built on it: "//host/..." would lead off the site (a 404 page's language link).
            let p = request.uri.path
            path = p.hasPrefix("/") && !p.hasPrefix("//") && !p.hasPrefix("/\\") ? p : "/"
        }

        /// `?lang=..` when the visitor chose the language in the URL, so links keep it.
        var query: String { explicit ? "?lang=\(language.rawValue)" : "" }
        var other: Language { language == .vi ? .en : .vi }
    }

    func page(
        _ template: String, status: HTTPResponse.Status = .ok, title: String, view v: View, _ values: [String: Any] = [:]
    ) throws -> Response {
        var context: [String: Any] = [
            "t": v.t.table, "lang": v.language.rawValue, "title": title, "langQuery": v.query,
            "otherLanguageLink": v.path + "?lang=\(v.other.rawValue)", "otherLanguageName": v.t["other_language"],
        ]
        for (k, value) in values { context[k] = value }
        guard let html = templates.render(context, withTemplate: template) else {
            throw PortalError("no template '\(template)'")
        }
        return Response(status: status, headers: Self.htmlHeaders(v.language), body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// No script, no frames, forms only to this site, styles from /static.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func htmlHeaders(_ language: Language) -> HTTPFields {
        [
            .contentType: "text/html; charset=utf-8", .contentSecurityPolicy: contentSecurityPolicy, .contentLanguage: language.rawValue,
            HTTPField.Name("X-Content-Type-Options")!: "nosniff", HTTPField.Name("Referrer-Policy")!: "same-origin",
        ]
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .contentSecurityPolicy: contentSecurityPolicy])
    }
}
