import DNSTransport
import Foundation
import Glibc
import TestSupport
import Testing

/// `thurac rbldnsd` started the way rbldnsd's own tooling and harnesses start rbldnsd:
/// `-n -b localhost/PORT`, a help text searched for options, warnings read from standard error.
@Suite struct RbldnsdDropInTests {
    static func dataset(_ name: String, _ text: String) throws -> String {
        let path = temporaryDirectory().appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Every numeric address getaddrinfo gives for `host`, as a resolver-using tool sees it.
    static func addresses(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var out: [String] = []
        var p = list
        while let ai = p {
            var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(ai.pointee.ai_addr, ai.pointee.ai_addrlen, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 {
                let s = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !out.contains(s) { out.append(s) }
            }
            p = ai.pointee.ai_next
        }
        return out
    }

    @Test func listensOnEveryAddressOfAHostName() throws {
        let data = try Self.dataset("bl.ip4trie", "127.0.0.2\n198.51.100.0/24 :3:listed $\n")
        let port = try freePort()
        let server = try ServerProcess.thurac(["rbldnsd", "-n", "-b", "localhost/\(port)", "bl.test:ip4trie:\(data)"])
        defer { server.stop() }
        #expect(server.port == port)
        let addresses = Self.addresses("localhost")
        #expect(addresses.contains("127.0.0.1"))
        for address in addresses {
            let r = try CLITests.run("/usr/bin/dig", ["@\(address)", "-p", "\(port)", "+short", "+tries=1", "+time=2", "7.100.51.198.bl.test", "A"])
            #expect(r.out.trimmingCharacters(in: .whitespacesAndNewlines) == "127.0.0.3", "over \(address): \(r.out)\(r.err)")
            let tcp = try CLITests.run("/usr/bin/dig", ["@\(address)", "-p", "\(port)", "+tcp", "+short", "2.0.0.127.bl.test", "A"])
            #expect(tcp.out.trimmingCharacters(in: .whitespacesAndNewlines) == "127.0.0.2", "TCP over \(address)")
        }
        // The log names each socket as it is bound.
        let log = try String(contentsOfFile: server.stderrPath, encoding: .utf8)
        for address in addresses { #expect(log.contains("listening on \(address) port \(port)"), "\(log)") }
    }

    @Test func serveListenTakesAHostNameToo() throws {
        let data = try Self.dataset("bl.ip4set", "127.0.0.2\n")
        let port = try freePort()
        let server = try ServerProcess.thurac(["serve", "--listen", "localhost:\(port)", "--zone", "bl.test:ip4set:\(data)"])
        defer { server.stop() }
        let d = try #require(Decoded(try DNSClient.query("2.0.0.127.bl.test", type: 1, port: port)))
        #expect(d.aSet == ["127.0.0.2"])
    }

    @Test(arguments: [
        (["-n", "-b", "no-such-host.invalid/5300"], "no-such-host.invalid"),
        (["-n", "-b", "127.0.0.1/no-such-service"], "no-such-service"),
        (["-n", "-b", "127.0.0.1/"], "invalid -b"),
        (["-n", "-6", "-b", "127.0.0.1/5300"], "cannot resolve 127.0.0.1"),
        (["-n", "-d", "-b", "127.0.0.1/5300"], "thurac dump"),
    ])
    func badListenAddressesSayWhy(_ arguments: [String], _ reason: String) throws {
        let data = try Self.dataset("bl.ip4set", "127.0.0.2\n")
        let r = try CLITests.thurac(["rbldnsd"] + arguments + ["bl.test:ip4set:\(data)"])
        #expect(r.status != 0)
        let lines = r.err.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
        #expect(lines.count == 1 && lines[0].contains(reason), "\(r.err)")
    }

    /// rbldnsd(8) warns, on standard error, about a prefix given twice in an ip4trie, ip6trie or
    /// acl dataset; thurac says the same, with the file and the line.
    @Test func warnsAboutDuplicatedEntries() throws {
        let trie = try Self.dataset("dup.ip4trie", "127.0.0.2\n1.2.3.0/24\n1.2.3.0/24 :3:\n")
        let trie6 = try Self.dataset("dup.ip6trie", "2001:db8::/32\n2001:db8::/32\n")
        let acl = try Self.dataset("dup.acl", "192.0.2.0/24 :refuse\n192.0.2.0/24 :ignore\n")
        let server = try ServerProcess.thurac([
            "rbldnsd", "-n", "-b", "127.0.0.1/\(try freePort())", "bl.test:ip4trie:\(trie)", "bl.test:ip6trie:\(trie6)",
            "bl.test:acl:\(acl)",
        ])
        defer { server.stop() }
        let log = try String(contentsOfFile: server.stderrPath, encoding: .utf8)
        #expect(log.contains("\(trie):3: duplicated entry for 1.2.3.0/24"), "\(log)")
        #expect(log.contains("\(trie6):2: duplicated entry for 2001:db8::/32"), "\(log)")
        #expect(log.contains("\(acl):2: duplicated entry for 192.0.2.0/24"), "\(log)")
        // The first one read stays, as in rbldnsd.
        #expect(try #require(Decoded(try DNSClient.query("4.3.2.1.bl.test", type: 1, port: server.port))).aSet == ["127.0.0.2"])
    }

    /// Tools look for an option (`-6` above all) in the help text to know what the server can do:
    /// every option the installed rbldnsd lists is listed by `thurac rbldnsd -h`, in its order.
    @Test func helpListsEveryOptionOfRbldnsd() throws {
        func options(_ text: String) -> [String] {
            text.split(separator: "\n").compactMap { line in
                line.hasPrefix(" -") && line.count > 2 ? String(line.dropFirst(1).prefix(2)) : nil
            }
        }
        let theirs = try CLITests.run("/usr/sbin/rbldnsd", ["-h"])
        let ours = try CLITests.thurac(["rbldnsd", "-h"])
        #expect(ours.status == 0)
        let rbldnsdOptions = options(theirs.out + theirs.err)
        #expect(rbldnsdOptions.contains("-6") && rbldnsdOptions.count > 15, "\(theirs.out)")
        let thuracOptions = options(ours.out)
        #expect(thuracOptions.filter { rbldnsdOptions.contains($0) } == rbldnsdOptions, "\(ours.out)")
        // Each dataset type rbldnsd lists is there too.
        for type in ["ip4set", "ip4tset", "ip4trie", "ip6tset", "ip6trie", "dnset", "combined", "generic", "acl"] {
            #expect(ours.out.contains(" \(type) - "), "\(type)")
        }
    }

    /// Host names and service names as getaddrinfo(3) resolves them, numeric and once each.
    @Test func endpointsResolveLikeGetaddrinfo() throws {
        #expect(try UDPWorkers.Endpoint.resolving(host: "127.0.0.1", port: "domain") == [.init(host: "127.0.0.1", port: 53)])
        #expect(try UDPWorkers.Endpoint.resolving(host: "::1", port: "5300") == [.init(host: "::1", port: 5300)])
        let local = try UDPWorkers.Endpoint.resolving(host: "localhost", port: "0")
        #expect(local.map(\.host) == Self.addresses("localhost"))
        #expect(try UDPWorkers.Endpoint.resolving(host: "localhost", port: "0", family: AF_INET).allSatisfy { !$0.host.contains(":") })
        let any = try UDPWorkers.Endpoint.resolving(host: "", port: "5300")
        #expect(Set(any.map(\.host)).isSubset(of: ["0.0.0.0", "::"]) && !any.isEmpty)
        #expect(throws: (any Error).self) { try UDPWorkers.Endpoint.resolving(host: "no-such-host.invalid", port: "53") }
    }
}
