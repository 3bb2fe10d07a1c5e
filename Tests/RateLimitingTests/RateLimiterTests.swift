import Foundation
import Listings
import RateLimiting
import Testing

@Suite struct RateLimiterTests {
    static func v4(_ text: String) -> ClientAddress {
        var a = in_addr()
        precondition(inet_pton(AF_INET, text, &a) == 1)
        return .v4(UInt32(bigEndian: a.s_addr))
    }

    static func v6(_ text: String) -> ClientAddress {
        var a = in6_addr()
        precondition(inet_pton(AF_INET6, text, &a) == 1)
        return .v6(withUnsafeBytes(of: &a) { UInt128(bigEndian: $0.loadUnaligned(as: UInt128.self)) })
    }

    /// Verdicts for `n` responses of one kind to one client within one second.
    static func tally(_ l: ResponseRateLimiter, _ c: ClientAddress, _ kind: ResponseKind = .positive, n: Int, second: UInt64)
        -> [ResponseRateLimiter.Verdict: Int]
    {
        var out: [ResponseRateLimiter.Verdict: Int] = [:]
        for _ in 0..<n { out[l.check(c, kind: kind, second: second), default: 0] += 1 }
        return out
    }

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var settings: RateLimitSettings
        var n: Int
        var answered: Int
        var slipped: Int
        var dropped: Int
    }

    static let cases: [Case] = [
        Case(description: "limit 10, slip 2", settings: .init(responsesPerSecond: 10), n: 100, answered: 10, slipped: 45, dropped: 45),
        Case(description: "slip 0 drops all", settings: .init(responsesPerSecond: 10, slip: 0), n: 100, answered: 10, slipped: 0, dropped: 90),
        Case(description: "slip 1 truncates all", settings: .init(responsesPerSecond: 10, slip: 1), n: 100, answered: 10, slipped: 90, dropped: 0),
        Case(description: "slip 3", settings: .init(responsesPerSecond: 10, slip: 3), n: 40, answered: 10, slipped: 10, dropped: 20),
        Case(description: "under the limit", settings: .init(responsesPerSecond: 10), n: 10, answered: 10, slipped: 0, dropped: 0),
        Case(description: "log only limits nothing", settings: .init(responsesPerSecond: 10, logOnly: true), n: 100, answered: 100, slipped: 0, dropped: 0),
        Case(description: "off", settings: .off, n: 100, answered: 100, slipped: 0, dropped: 0),
    ]

    @Test(arguments: cases) func oneClientInOneSecond(_ c: Case) {
        let l = ResponseRateLimiter(settings: c.settings)
        let t = Self.tally(l, Self.v4("192.0.2.5"), n: c.n, second: 100)
        #expect(t[.answer, default: 0] == c.answered)
        #expect(t[.slip, default: 0] == c.slipped)
        #expect(t[.drop, default: 0] == c.dropped)
        if c.settings.logOnly {
            // Counted as if limited.
            #expect(l.totals()[0].slipped == 45 && l.totals()[0].dropped == 45)
        } else {
            #expect(l.totals()[0].slipped == UInt64(c.slipped) && l.totals()[0].dropped == UInt64(c.dropped))
        }
    }

    @Test func aNewSecondAnswersAgain() {
        let l = ResponseRateLimiter(settings: .init(responsesPerSecond: 5))
        let c = Self.v4("192.0.2.5")
        #expect(Self.tally(l, c, n: 20, second: 7)[.answer] == 5)
        #expect(Self.tally(l, c, n: 20, second: 8)[.answer] == 5)
    }

    @Test func clientsAreCountedByPrefix() {
        let l = ResponseRateLimiter(settings: .init(responsesPerSecond: 5))
        #expect(Self.tally(l, Self.v4("192.0.2.5"), n: 5, second: 1)[.answer] == 5)
        // Same /24: shares the account.
        #expect(Self.tally(l, Self.v4("192.0.2.200"), n: 5, second: 1)[.answer, default: 0] == 0)
        // Another /24 is not touched.
        #expect(Self.tally(l, Self.v4("192.0.3.5"), n: 5, second: 1)[.answer] == 5)
        // IPv6 by /56.
        #expect(Self.tally(l, Self.v6("2001:db8:0:100::1"), n: 5, second: 1)[.answer] == 5)
        #expect(Self.tally(l, Self.v6("2001:db8:0:1ff::9"), n: 5, second: 1)[.answer, default: 0] == 0)
        #expect(Self.tally(l, Self.v6("2001:db8:0:200::1"), n: 5, second: 1)[.answer] == 5)
    }

    @Test func kindsHaveTheirOwnLimits() {
        let l = ResponseRateLimiter(settings: .init(responsesPerSecond: 5, nxdomainsPerSecond: 2, errorsPerSecond: 0))
        let c = Self.v4("198.51.100.1")
        #expect(Self.tally(l, c, .positive, n: 10, second: 3)[.answer] == 5)
        #expect(Self.tally(l, c, .nodata, n: 10, second: 3)[.answer] == 5)
        #expect(Self.tally(l, c, .nxdomain, n: 10, second: 3)[.answer] == 2)
        #expect(Self.tally(l, c, .error, n: 10, second: 3)[.answer] == 10, "0: errors are not limited")
    }

    @Test func exemptClientsAreNeverLimited() throws {
        let l = ResponseRateLimiter(settings: .init(responsesPerSecond: 1, exempt: [try ClientPrefix(parsing: "203.0.113.0/25")]))
        #expect(Self.tally(l, Self.v4("203.0.113.77"), n: 50, second: 1)[.answer] == 50)
        #expect(Self.tally(l, Self.v4("203.0.113.200"), n: 50, second: 1)[.answer] == 1)
        // Loopback is exempt by default, until the list is replaced.
        let d = ResponseRateLimiter(settings: .init(responsesPerSecond: 1))
        #expect(Self.tally(d, Self.v4("127.0.0.5"), n: 50, second: 1)[.answer] == 50)
        #expect(Self.tally(d, Self.v6("::1"), n: 50, second: 1)[.answer] == 50)
    }

    @Test func limitedAccountsLastTheWindow() {
        let l = ResponseRateLimiter(settings: .init(responsesPerSecond: 1, window: 15))
        _ = Self.tally(l, Self.v4("192.0.2.1"), n: 3, second: 1000)
        _ = Self.tally(l, Self.v4("192.0.9.1"), .nxdomain, n: 3, second: 1000)
        _ = Self.tally(l, Self.v4("192.0.10.1"), n: 1, second: 1000)  // within its limit
        #expect(l.limitedAccounts(second: 1000) == 2)
        #expect(l.limitedAccounts(second: 1014) == 2)
        #expect(l.limitedAccounts(second: 1015) == 0)
    }

    /// Two threads on one account: compare-and-swap counts every response once.
    @Test func concurrentWorkersShareOneCount() async {
        let l = ResponseRateLimiter(settings: .init(responsesPerSecond: 1000, slip: 0))
        let c = Self.v4("192.0.2.5")
        let answered = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask { Self.tally(l, c, n: 5000, second: 42)[.answer, default: 0] }
            }
            return await group.reduce(0, +)
        }
        #expect(answered == 1000)
        #expect(l.totals()[0].dropped == 19_000)
    }

    @Test(arguments: [
        ("192.0.2.0/24", true), ("192.0.2.1", true), ("2001:db8::/32", true), ("::1", true), ("0.0.0.0/0", true),
        ("192.0.2.1/24", false), ("192.0.2.0/33", false), ("2001:db8::/129", false), ("example.net", false), ("", false),
        ("192.0.2.0/", false), ("192.0.2.0/+8", false), ("10.0.0.0/ 8", false),
    ])
    func prefixesParseStrictly(_ text: String, _ valid: Bool) {
        #expect(((try? ClientPrefix(parsing: text)) != nil) == valid, "\(text)")
    }

    @Test func settingsOutOfRangeAreRefused() {
        var s = RateLimitSettings(responsesPerSecond: 10)
        #expect(throws: Never.self) { try s.validate() }
        s.slip = 11
        #expect(throws: RateLimitSettings.Invalid.self) { try s.validate() }
        s = .init(responsesPerSecond: -1)
        #expect(throws: RateLimitSettings.Invalid.self) { try s.validate() }
        s = .init(responsesPerSecond: 1, window: 0)
        #expect(throws: RateLimitSettings.Invalid.self) { try s.validate() }
    }
}
