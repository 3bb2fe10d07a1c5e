import Foundation
import Hummingbird
import ListingKeys
import Logging
import NIOCore
import Store
import ZoneConfig

/// Delisting requests (SPEC §6): anyone may ask, with a reason and a contact, and read the
/// status of their request by its id; an operator (a source of kind `operator`) lists them and
/// accepts (the key is delisted, the audit log says by whom and why) or rejects them.
extension APIServer {
    struct RequestBody: Decodable {
        var key: String
        var reason: String
        var contact: String?
    }

    struct Decision: Decodable {
        var answer: String
    }

    /// What the requester sees (no contact), and the operator (everything).
    struct RequestAnswer: Encodable {
        var id: Int64
        var key: String
        var status: String
        var reason: String
        var contact: String?
        var created: String
        var decided: String?
        var decidedBy: String?
        var answer: String?

        init(_ r: ListingStore.DelistingRequest, private full: Bool) {
            (id, key, status, reason) = (r.id, r.key, r.status, r.reason)
            contact = full ? r.contact : nil
            decidedBy = full ? r.decidedBy : nil
            created = ISOTime.format(r.createdAt)
            decided = r.decidedAt.map { ISOTime.format($0) }
            answer = r.answer
        }
    }

    func delistingRoutes() -> [Route] {
        [
            Route(.post, "/v1/delisting-requests") { request, context in try await self.newRequest(request, context) },
            Route(.get, "/v1/delisting-requests") { request, _ in try await self.listRequests(request) },
            Route(.get, "/v1/delisting-requests/:id") { _, context in try await self.showRequest(context.parameters.get("id") ?? "") },
            Route(.post, "/v1/delisting-requests/:id/accept") { request, context in
                try await self.decideRequest(request, context.parameters.get("id") ?? "", accept: true)
            },
            Route(.post, "/v1/delisting-requests/:id/reject") { request, context in
                try await self.decideRequest(request, context.parameters.get("id") ?? "", accept: false)
            },
        ]
    }

    func newRequest(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        if let wait = delistingLimiter.take(context.client) {
            return try APIError.tooManyRequests("too many delisting requests from \(context.client)", retryAfter: wait).response()
        }
        let r: RequestBody
        switch try await Self.decodeBody(RequestBody.self, request, what: "a delisting request is JSON {\"key\", \"reason\", \"contact\"}") {
        case .success(let body): r = body
        case .failure(let refusal): return try refusal.response()
        }
        guard let spec = try? KeySpec(parsing: r.key) else { return try APIError(.badRequest, "\(quoted(r.key)) is not a key").response() }
        guard !r.reason.trimmingCharacters(in: .whitespaces).isEmpty else { return try APIError(.badRequest, "a reason is required").response() }
        switch await storeRequest(spec, reason: r.reason, contact: r.contact, client: context.client, link: nil) {
        case .success(let saved): return try json(.created, RequestAnswer(saved, private: false))
        case .failure(let e): return try APIError.storeFailure(e)
        }
    }

    /// Stores a delisting request and logs it; `link`: the secret of its status link.
    func storeRequest(
        _ spec: KeySpec, reason: String, contact: String?, client: String, link: String?
    ) async -> Result<ListingStore.DelistingRequest, any Error> {
        let (store, now) = (self.store, clock())
        let saved: ListingStore.DelistingRequest?
        do {
            saved = try await offLoop {
                let id = try store.requestDelisting(spec, reason: reason, contact: contact, now: now, link: link)
                return try store.delistingRequest(id: id)
            }
        } catch {
            return .failure(error)
        }
        guard let saved else { return .failure(StoreError("the request was not stored")) }
        // The message is made before the call: an autoclosure reading a value from across an
        // `await` crashed here (Swift 6.3).
        let message = "delisting request #\(saved.id) for \(saved.key) from \(client)"
        logger.info("\(message)")
        return .success(saved)
    }

    /// What became of a person's delisting request.
    public enum DelistingOutcome: Sendable {
        /// Stored: its id and the secret of its private status link.
        case created(id: Int64, link: String)
        case refused(String)
        case tooMany(retryAfter: Int)
        case unavailable(String)
    }

    /// A delisting request from a person (the portal's form), through the API's path: the
    /// client's own rate limit, the same checks, the audit log; with a private status link.
    public func delistingRequest(key: String, reason: String, contact: String?, client: String) async -> DelistingOutcome {
        if let wait = delistingLimiter.take(client) { return .tooMany(retryAfter: wait) }
        guard let spec = try? KeySpec(parsing: key) else { return .refused("\(quoted(key)) is not a key") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { return .refused("a reason is required") }
        let link = ListingStore.newLinkSecret()
        switch await storeRequest(spec, reason: reason, contact: contact, client: client, link: link) {
        case .success(let saved): return .created(id: saved.id, link: link)
        case .failure(let e): return .unavailable(ListingStore.reason(e))
        }
    }

    func showRequest(_ text: String) async throws -> Response {
        guard let id = Int64(text) else { return try APIError(.badRequest, "\(quoted(text)) is not a request id").response() }
        let store = self.store
        guard let r = try await offLoop({ try store.delistingRequest(id: id) }) else {
            return try APIError(.notFound, "no delisting request #\(id)").response()
        }
        return try json(.ok, RequestAnswer(r, private: false))
    }

    func listRequests(_ request: Request) async throws -> Response {
        if let refusal = try await operatorOnly(request) { return refusal }
        let store = self.store
        let status: String? = request.uri.queryParameters.get("status").map { String($0) }
        let all = try await offLoop { try store.delistingRequests(status: status) }
        return try json(.ok, all.map { RequestAnswer($0, private: true) })
    }

    func decideRequest(_ request: Request, _ text: String, accept: Bool) async throws -> Response {
        guard let id = Int64(text) else { return try APIError(.badRequest, "\(quoted(text)) is not a request id").response() }
        let caller: Source
        do {
            caller = try await authenticate(request)
        } catch let e as APIError {
            return try e.response()
        }
        guard caller.kind == .operator else { return try APIError(.forbidden, "only an operator's token decides requests").response() }
        let what = "a decision is JSON {\"answer\": \"...\"} (told to the requester)"
        let d: Decision
        switch try await Self.decodeBody(Decision.self, request, what: what) {
        case .success(let body): d = body
        case .failure(let refusal): return try refusal.response()
        }
        guard !d.answer.trimmingCharacters(in: .whitespaces).isEmpty else { return try APIError(.badRequest, what, details: ["the answer is empty"]).response() }
        let (store, now, grace) = (self.store, clock(), config.delistingGrace)
        do {
            let r = try await offLoop {
                try store.decide(request: id, accept: accept, answer: d.answer, grace: grace, now: now, actor: "operator:\(caller.name)")
            }
            let message = "delisting request #\(id) \(r.status) by \(caller.name)"
            logger.info("\(message)")
            return try json(.ok, RequestAnswer(r, private: true))
        } catch let e as StoreError {
            let missing = e.description.hasPrefix("no delisting request")
            return try APIError(missing ? .notFound : .conflict, e.description).response()
        }
    }

    /// nil for an operator's token; otherwise the 401 or 403 answer.
    func operatorOnly(_ request: Request) async throws -> Response? {
        do {
            let caller = try await authenticate(request)
            return caller.kind == .operator ? nil : try APIError(.forbidden, "an operator's token is required").response()
        } catch let e as APIError {
            return try e.response()
        }
    }
}
