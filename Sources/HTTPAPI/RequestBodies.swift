import Foundation
import Hummingbird
import NIOCore

extension APIServer {
    /// A small JSON body: 413 above `Options.maxRequest`, 400 (with the decoder's reason) when
    /// it is not the shape `what` describes.
    static func decodeBody<T: Decodable>(_ type: T.Type, _ request: Request, what: String) async throws -> Result<T, APIError> {
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Options.maxRequest) } catch is NIOTooManyBytesError {
            return .failure(APIError(.contentTooLarge, "the body is at most \(sizeText(Options.maxRequest))", details: [what]))
        }
        do { return .success(try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))) } catch {
            return .failure(APIError(.badRequest, what, details: [JSONReason.of(error)]))
        }
    }

    /// The whole body, or a 413 that names the limit which applies to it.
    static func collectBody(_ request: Request, upTo limit: Int, what: String) async throws -> Result<ByteBuffer, APIError> {
        do { return .success(try await request.body.collect(upTo: limit)) } catch is NIOTooManyBytesError {
            return .failure(tooLarge(limit, what: what))
        }
    }

    static func tooLarge(_ limit: Int, what: String) -> APIError {
        APIError(.contentTooLarge, "\(what) is at most \(sizeText(limit))")
    }

    /// 1048576 -> "1 MiB", 65536 -> "64 KiB", 1000 -> "1000 octets".
    static func sizeText(_ octets: Int) -> String {
        if octets >= 1 << 20 && octets % (1 << 20) == 0 { return "\(octets >> 20) MiB" }
        if octets >= 1 << 10 && octets % (1 << 10) == 0 { return "\(octets >> 10) KiB" }
        return "\(octets) octets"
    }

}

/// Why a JSON body was refused, in words a person acts on (the decoder's own description
/// names Swift types and coding paths).
enum JSONReason {
    static func of(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
            let names = (context.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "the body" : "'" + names.joined(separator: ".") + "'"
        }
        switch e {
        case .keyNotFound(let key, let context): return "\(path(context, key)) is missing"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "\(path(context)) must be \(type == String.self ? "a string" : "a \(type)")"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "the body is not valid JSON" : "\(path(context)) is not valid"
        @unknown default: return "\(error)"
        }
    }
}
