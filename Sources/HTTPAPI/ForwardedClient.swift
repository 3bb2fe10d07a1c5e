import Foundation
import HTTPTypes
import Hummingbird
import Listings

/// Behind a reverse proxy every request comes from the proxy's address, so every citizen would
/// be one reporter with one rate limit. From a trusted proxy (`serve.trusted_proxies`), the
/// client is the address its `X-Forwarded-For` names: the rightmost one that is not itself a
/// trusted proxy (what a client writes further left is not believed). From anyone else the
/// header is ignored, so it cannot be used to pose as many reporters.
struct ForwardedClient: RouterMiddleware {
    typealias Context = APIRequestContext
    let trusted: [ClientPrefix]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !trusted.isEmpty, let peer = context.remoteAddress?.ipAddress, Self.isTrusted(peer, trusted) else {
            return try await next(request, context)
        }
        var context = context
        context.forwardedFor = Self.client(forwardedFor: request.headers[values: HTTPField.Name("X-Forwarded-For")!], trusted: trusted)
        return try await next(request, context)
    }

    /// The rightmost address of the header's lists that is not a trusted proxy, in canonical
    /// text (RFC 5952); nil when there is none, or when the one found is not an address (the
    /// request then counts as the proxy's).
    static func client(forwardedFor lines: [String], trusted: [ClientPrefix]) -> String? {
        let hops = lines.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard let address = Self.address(hop) else { return nil }
            if !trusted.contains(where: { $0.contains(address) }) { return address.text }
        }
        return nil
    }

    /// One address (not a network), read as `inet_pton` reads it.
    static func address(_ text: String) -> ClientAddress? {
        guard let p = try? ClientPrefix(parsing: text), p.length == (p.isIPv6 ? 128 : 32) else { return nil }
        return p.isIPv6 ? .v6(p.bits) : .v4(UInt32(p.bits))
    }

    static func isTrusted(_ ip: String, _ trusted: [ClientPrefix]) -> Bool {
        guard let a = address(ip.hasPrefix("::ffff:") ? String(ip.dropFirst(7)) : ip) else { return false }
        return trusted.contains { $0.contains(a) }
    }
}
