import Foundation
import Hummingbird

/// The token that proves a form was posted from one of the portal's own pages (CSRF): a random
/// value kept in a cookie (HttpOnly, SameSite=Strict) and repeated in a hidden field; a POST
/// whose field does not equal its cookie is refused (403) before anything is read from it.
enum FormToken {
    static let cookie = "thurac_form"
    static let field = "csrf"

    /// The visitor's token and, when it is new, the cookie that sets it.
    static func current(_ request: Request, secure: Bool) -> (value: String, setCookie: Cookie?) {
        if let c = request.cookies[cookie]?.value, valid(c) { return (c, nil) }
        var rng = SystemRandomNumberGenerator()
        let value = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        return (value, Cookie(name: cookie, value: value, path: "/", secure: secure, httpOnly: true, sameSite: .strict))
    }

    /// Whether the posted field equals the cookie (compared in constant time).
    static func matches(_ request: Request, _ fields: FormFields) -> Bool {
        guard let c = request.cookies[cookie]?.value, valid(c), let f = fields[field], f.utf8.count == c.utf8.count else { return false }
        return zip(c.utf8, f.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func valid(_ v: String) -> Bool { v.utf8.count == 64 && v.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) } }
}
