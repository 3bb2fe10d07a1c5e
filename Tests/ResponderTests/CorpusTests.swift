import DNSWire
import Foundation
import Listings
import RBLDatasets
import Responder
import TestSupport
import Testing

/// The packet fuzz target's corpus, replayed with its invariants (AnswerInvariants) against the
/// same snapshot: every input parsed and answered over UDP and TCP from every client the
/// target uses, each answer well-formed, within its size limit, echoing the question.
@Suite struct ResponderCorpusTests {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    @Test func replaysTheCorpusWithItsInvariants() throws {
        let dir = Self.here.appendingPathComponent("FuzzSnapshot").path
        let catalog = DatasetCatalog(
            specs: [
                ZoneSpec(zone: "bl.test", type: .combined, files: [dir + "/combined"]),
                ZoneSpec(zone: "bl.test", type: .acl, files: [dir + "/acl"]),
            ], options: LoadOptions())
        _ = try catalog.refresh(now: 1_800_000_000)
        let snapshot = catalog.snapshot(now: 1_800_000_000).0
        #expect(snapshot.zones.count == 1)
        let inputs = try Corpus.inputs(["Corpus", "../DNSWireTests/Corpus"], under: Self.here)
        for bytes in inputs {
            for client in [ClientAddress.v4(0x7F00_0001), .v4(0x0A01_0203), .v4(0xC0A8_0101), .v4(0xAC10_0001), .v6(1)] {
                AnswerInvariants.check(bytes, snapshot: snapshot, client: client)
            }
        }
        let replayed = inputs.count
        #expect(replayed >= 100, "the corpus is checked in")
    }
}
