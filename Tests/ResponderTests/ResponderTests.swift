import DNSWire
import Foundation
import Listings
import RBLDatasets
import Responder
import TestSupport
import Testing

/// The responder in-process: snapshot from dataset files, queries answered in a buffer,
/// answers decoded by libldns.
@Suite struct ResponderTests {
    let dir: URL
    let snapshot: ServingSnapshot

    init() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-resp-\(UUID().uuidString)")
        self.dir = dir
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = { (name: String, text: String) throws -> String in
            let u = dir.appendingPathComponent(name)
            try text.write(to: u, atomically: true, encoding: .utf8)
            return u.path
        }
        let combined = try file(
            "combined",
            """
            $SOA 1h ns1.bl.test. hostmaster.bl.test. 5 1h 10m 1w 2m
            $NS 1h ns1.bl.test. ns.other.example.
            $DATASET ip4set proxies @
            :2:Proxy $
            127.0.0.2
            198.51.100.7
            $DATASET ip4set relays
            :3:Relay $
            198.51.100.8
            $DATASET generic @
            ns1 A 192.0.2.53
            """)
        let acl = try file(
            "acl",
            """
            10.0.0.0/8 :refuse
            10.1.0.0/16 :ignore
            192.168.0.0/16 :empty
            172.16.0.0/12 :2:Always $
            """)
        let catalog = DatasetCatalog(
            specs: [
                ZoneSpec(zone: "bl.test", type: .combined, files: [combined]),
                ZoneSpec(zone: "bl.test", type: .acl, files: [acl]),
            ], options: LoadOptions())
        _ = try catalog.refresh(now: 1_800_000_000)
        snapshot = catalog.snapshot(now: 1_800_000_000).0
    }

    func ask(_ name: String, _ type: UInt16, from client: ClientAddress = .v4(0x7F00_0001), edns: Bool = false)
        -> (summary: ResponseSummary, packet: [UInt8])
    {
        var q: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0]
        q += try! DomainName.wire(fromText: name)
        q += [UInt8(type >> 8), UInt8(type & 255), 0, 1]
        if edns { q += [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0] }
        var buffer = [UInt8](repeating: 0, count: 4096)
        buffer.replaceSubrange(0..<q.count, with: q)
        let s = buffer.withUnsafeMutableBytes {
            Responder().respond(packet: $0, length: q.count, overTCP: false, client: client, snapshot: snapshot)
        }
        return (s, Array(buffer[0..<s.length]))
    }

    func decode(_ p: [UInt8]) -> (rcode: Int, answers: [String], additional: [String]) {
        guard let d = Decoded(p) else { return (99, [], []) }
        return (d.rcode, d.answers, d.additional)
    }

    @Test func combinedSubzonesAnswerFromTheirOwnDatasets() {
        #expect(decode(ask("7.100.51.198.bl.test", 16).packet).answers.first?.hasSuffix("\"Proxy 198.51.100.7\"") == true)
        #expect(decode(ask("7.100.51.198.proxies.bl.test", 1).packet).answers.count == 1)
        #expect(decode(ask("8.100.51.198.relays.bl.test", 1).packet).answers.first?.hasSuffix("127.0.0.3") == true)
        #expect(decode(ask("8.100.51.198.bl.test", 1).packet).rcode == 3, "relays is not attached to the base zone")
        #expect(decode(ask("relays.bl.test", 1).packet).rcode == 0, "a subzone apex exists")
    }

    @Test func apexNameServersWithInZoneGlue() {
        let d = decode(ask("bl.test", 2).packet)
        #expect(d.answers.count == 2)
        #expect(d.additional == ["ns1.bl.test.\t2100\tIN\tA\t192.0.2.53"])
    }

    @Test func mappedAndSixToFourAddressesUseTheIPv4Data() {
        // ::ffff:198.51.100.7 and 2002:c633:6407::
        let mapped = "7.0.4.6.3.3.6.c.f.f.f.f" + String(repeating: ".0", count: 20) + ".bl.test"
        #expect(decode(ask(mapped, 1).packet).answers.count == 1)
        let sixToFour = String(repeating: "0.", count: 20) + "7.0.4.6.3.3.6.c.2.0.0.2.bl.test"
        #expect(decode(ask(sixToFour, 1).packet).answers.count == 1)
        // RFC 8020: the names above them exist (NODATA), as they would above any listed name;
        // beside them, nothing does.
        for above in [
            "0.4.6.3.3.6.c.f.f.f.f" + String(repeating: ".0", count: 20), "f.f.f.f" + String(repeating: ".0", count: 20),
            String(repeating: "0.", count: 19) + "0", "c.2.0.0.2", "2.0.0.2", "2",
        ] {
            let d = decode(ask(above + ".bl.test", 1).packet)
            #expect(d.rcode == 0 && d.answers.isEmpty, "\(above): \(d)")
        }
        for beside in ["1.0.4.6.3.3.6.c.f.f.f.f" + String(repeating: ".0", count: 19), "d.2.0.0.2", "3.0.0.2", "1.0.0.2"] {
            #expect(decode(ask(beside + ".bl.test", 1).packet).rcode == 3, "\(beside)")
        }
    }

    @Test func accessListActions() {
        #expect(ask("2.0.0.127.bl.test", 1, from: .v4(0x0A02_0304)).summary.rcode == .refused)
        #expect(ask("2.0.0.127.bl.test", 1, from: .v4(0x0A01_0304)).summary.length == 0, "ignore drops")
        let empty = ask("2.0.0.127.bl.test", 1, from: .v4(0xC0A8_0101))
        #expect(empty.summary.rcode == .nxDomain, "empty: the client sees nothing listed")
        #expect(decode(ask("bl.test", 6, from: .v4(0xC0A8_0101)).packet).answers.count == 1, "metadata still answered")
        let always = decode(ask("9.9.9.9.bl.test", 16, from: .v4(0xAC10_0001)).packet)
        #expect(always.answers.first?.hasSuffix("\"Always 172.16.0.1\"") == true, "\(always.answers)")
    }

    @Test func ednsResponsesCarryOPT() {
        let r = ask("2.0.0.127.bl.test", 1, edns: true)
        #expect(r.summary.rcode == .noError)
        #expect(r.packet[11] == 1)
        #expect(Array(r.packet.suffix(11)) == [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0])
    }
}
