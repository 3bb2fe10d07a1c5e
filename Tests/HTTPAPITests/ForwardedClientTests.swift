@testable import HTTPAPI
import Listings
import Testing

/// Who the client is behind trusted proxies: the rightmost hop that is not one of them.
@Suite struct ForwardedClientTests {
    static let trusted = [try! ClientPrefix(parsing: "127.0.0.1"), try! ClientPrefix(parsing: "10.0.0.0/8"), try! ClientPrefix(parsing: "fd00::/8")]

    @Test(arguments: [
        (["203.0.113.7"], "203.0.113.7"),
        (["198.51.100.1, 203.0.113.7"], "203.0.113.7"),  // what the client wrote on the left is not believed
        (["203.0.113.7, 10.1.2.3"], "203.0.113.7"),  // a second proxy of ours
        (["203.0.113.7", "10.1.2.3"], "203.0.113.7"),  // two header lines
        (["2001:db8::5"], "2001:db8::5"),
        (["2001:DB8:0:0::5, fd00::1"], "2001:db8::5"),
        (["10.0.0.1, 127.0.0.1"], nil),  // only proxies: the request is the proxy's
        (["unknown"], nil),
        (["203.0.113.7, not-an-address"], nil),
        (["203.0.113.0/24"], nil),
        ([], nil),
    ] as [([String], String?)])
    func theClientIsTheRightmostUntrustedHop(lines: [String], expected: String?) {
        #expect(ForwardedClient.client(forwardedFor: lines, trusted: Self.trusted) == expected)
    }

    @Test func onlyTrustedPeersAreBelieved() {
        #expect(ForwardedClient.isTrusted("127.0.0.1", Self.trusted))
        #expect(ForwardedClient.isTrusted("::ffff:10.9.8.7", Self.trusted))
        #expect(!ForwardedClient.isTrusted("127.0.0.2", Self.trusted))
        #expect(!ForwardedClient.isTrusted("2001:db8::1", Self.trusted))
    }
}
