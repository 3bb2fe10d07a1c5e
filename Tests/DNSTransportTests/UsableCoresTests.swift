@testable import DNSTransport
import Foundation
import Testing

/// The affinity list and the cgroup quota as the kernel writes them.
@Suite struct UsableCoresTests {
    @Test(arguments: [("0", 1), ("0-3", 4), ("0-3,8", 5), ("0,2,4-5\n", 4), ("", nil), ("3-1", nil), ("a", nil)] as [(String, Int?)])
    func affinityLists(list: String, expected: Int?) {
        #expect(UsableCores.cpuCount(list: list) == expected)
    }

    @Test(arguments: [("max 100000\n", nil), ("150000 100000\n", 2), ("100000 100000", 1), ("50000 100000", 1), ("-1 100000", nil), ("", nil)] as [(String, Int?)])
    func cgroupQuotas(text: String, expected: Int?) {
        #expect(UsableCores.quota(cpuMax: text) == expected)
    }

    /// This process's own mask is read (the kernel's list parses), and the count is never
    /// more than the CPUs online.
    @Test func thisProcessesMaskIsRead() throws {
        let mask = try #require(UsableCores.affinityCount())
        #expect(mask <= ProcessInfo.processInfo.activeProcessorCount)
        #expect(UsableCores.count() <= mask)
    }
}
