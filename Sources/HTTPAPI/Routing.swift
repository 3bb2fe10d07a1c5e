import Hummingbird
import ListingKeys

/// One endpoint of the API: its method, its path (`:name` segments are parameters) and what
/// answers it. The list of them is also what the error middleware knows of the API.
struct Route: Sendable {
    let method: HTTPRequest.Method
    let path: String
    let handler: @Sendable (Request, APIRequestContext) async throws -> Response

    init(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping @Sendable (Request, APIRequestContext) async throws -> Response) {
        self.method = method
        self.path = path
        self.handler = handler
    }

    /// Whether a request path is this route's (same segments, any value for a parameter).
    func matches(_ requestPath: Substring) -> Bool {
        let want = path.split(separator: "/")
        let have = requestPath.split(separator: "/")
        guard want.count == have.count else { return false }
        return zip(want, have).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
    }
}

/// Pages served on the API's listener beside it (the web portal): they add their routes to
/// the same router and answer their own errors (HTML) to browsers, while the API's paths keep
/// JSON ones.
public protocol WebPages: Sendable {
    func register(on router: Router<APIRequestContext>)
    /// Whether `path` is one of the pages' (or no one's: the pages' 404 is the site's).
    func owns(_ path: String) -> Bool
    /// The error page for a request of the pages' that failed with `status`.
    func errorPage(_ status: HTTPResponse.Status, for request: Request) throws -> Response
}

/// Every error answer in the API's JSON shape (`{"error", "details"}`), those of the router
/// included: an unknown path is a JSON 404, a known path asked with another method is a 405
/// with `Allow` (RFC 9110 §15.5.6), and Hummingbird's own errors keep their status.
struct JSONErrors: RouterMiddleware {
    typealias Context = APIRequestContext
    /// The methods each path pattern answers.
    let methods: [(route: Route, methods: [HTTPRequest.Method])]
    let pages: (any WebPages)?

    init(routes: [Route], pages: (any WebPages)?) {
        self.pages = pages
        var grouped: [String: (Route, [HTTPRequest.Method])] = [:]
        var order: [String] = []
        for r in routes {
            if grouped[r.path] == nil { order.append(r.path) }
            grouped[r.path, default: (r, [])].1.append(r.method)
        }
        methods = order.map { (grouped[$0]!.0, grouped[$0]!.1) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as HTTPError {
            let path = request.uri.path
            let api = methods.contains { $0.route.matches(Substring(path)) } || path.hasPrefix("/v1/")
            // Outside the API, a browser (it asks for HTML) gets the pages' error page; a
            // program (curl, a script: */* or JSON) still gets the JSON shape.
            let browser = request.headers[.accept]?.contains("text/html") == true
            if let pages, !api, browser, pages.owns(path) { return try pages.errorPage(e.status, for: request) }
            if e.status == .notFound {
                let allowed = methods.filter { $0.route.matches(Substring(path)) }.flatMap(\.methods)
                if !allowed.isEmpty {
                    let list = allowed.map(\.rawValue).joined(separator: ", ")
                    var r = try APIError(.methodNotAllowed, "\(request.method.rawValue) is not an operation of \(quoted(path)); it answers \(list)").response()
                    r.headers[.allow] = list
                    return r
                }
                return try APIError(.notFound, "no such resource: \(quoted(path))", details: ["the API's paths are in /openapi.yaml"]).response()
            }
            var r = try APIError(e.status, e.body ?? e.status.reasonPhrase).response()
            for field in e.headers where r.headers[field.name] == nil { r.headers.append(field) }
            return r
        }
    }
}
