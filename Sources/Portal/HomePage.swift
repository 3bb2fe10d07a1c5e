import Foundation
import HTTPAPI
import Hummingbird
import Publishing
import ZoneConfig

extension Portal {
    /// `/`: what the list is, one search box, and the visitor's own address to check in one click.
    func home(_ request: Request, _ context: APIRequestContext) throws -> Response {
        let v = View(request, self)
        var values: [String: Any] = ["zones": config.zones.map { ["name": $0.name] }]
        if var ip = context.remoteAddress?.ipAddress {
            if ip.hasPrefix("::ffff:") { ip = String(ip.dropFirst(7)) }
            values["visitor"] = ["address": ip, "link": "/lookup/\(Self.pathSegment(ip))\(v.query)"]
        }
        return try page("home", title: v.t["home_title"], view: v, values)
    }

    /// A key as one path segment: everything but unreserved characters percent-encoded (a CIDR's
    /// '/' included), as the search form's redirect and the TXT template's `/lookup/$` expect.
    static func pathSegment(_ key: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:@")
        return key.addingPercentEncoding(withAllowedCharacters: allowed) ?? key
    }
}
