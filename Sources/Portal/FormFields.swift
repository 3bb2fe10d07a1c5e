import Foundation
import Hummingbird

/// Fields of an `application/x-www-form-urlencoded` text (a GET form's query, a POST form's
/// body): `+` is a space and `%XX` an octet, as browsers send them (Hummingbird's own query
/// parameters leave `+` as it is). A field without `=` is present and empty; the first of a
/// repeated name wins.
struct FormFields {
    private var fields: [String: String] = [:]

    init(_ text: some StringProtocol) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            if fields[name] == nil, let value { fields[name] = value }
        }
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// nil for a broken escape or octets that are not UTF-8.
    static func decode(_ text: some StringProtocol) -> String? {
        var bytes: [UInt8] = []
        var it = Array(text.utf8).makeIterator()
        while let c = it.next() {
            switch c {
            case UInt8(ascii: "+"): bytes.append(0x20)
            case UInt8(ascii: "%"):
                guard let h = it.next().flatMap(hex), let l = it.next().flatMap(hex) else { return nil }
                bytes.append(h << 4 | l)
            default: bytes.append(c)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Reading posted forms, for every page that takes one.
extension Portal {
    /// A posted form's fields (at most 64 KiB of UTF-8), or nil.
    static func form(_ request: Request) async -> FormFields? {
        guard let body = try? await request.body.collect(upTo: 64 << 10), let text = String(validating: body.readableBytesView, as: UTF8.self) else {
            return nil
        }
        return FormFields(text)
    }

    /// A posted field, trimmed ("" when absent).
    static func field(_ fields: FormFields, _ name: String) -> String {
        (fields[name] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    enum Posted {
        case fields(FormFields)
        case refused(Response)
    }

    /// A public form's post (a report, a removal request): a 413 page when the body is over
    /// 64 KiB or not UTF-8, a 403 page without the form's token (nothing of it read further).
    func publicForm(_ request: Request, _ v: View, title: String) async throws -> Posted {
        guard let fields = await Self.form(request) else {
            return .refused(try page("message", status: .contentTooLarge, title: title, view: v, ["problem": v.t["form_too_large"]]))
        }
        guard FormToken.matches(request, fields) else {
            return .refused(try page("message", status: .forbidden, title: title, view: v, ["problem": v.t["form_expired"]]))
        }
        return .fields(fields)
    }
}
