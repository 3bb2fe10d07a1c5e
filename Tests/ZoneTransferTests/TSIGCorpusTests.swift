import DNSWire
import Foundation
import TestSupport
import Testing

@testable import ZoneTransfer

/// The TSIG fuzz target's corpus, replayed with its invariants (TSIGInvariants): every input
/// verified; every unsigned query among them signed, verified, changed and verified again.
@Suite struct TSIGCorpusTests {
    @Test func replaysTheCorpusWithItsInvariants() throws {
        let inputs = try Corpus.inputs(["TSIGCorpus", "../DNSWireTests/Corpus"], under: URL(fileURLWithPath: #filePath).deletingLastPathComponent())
        var queries = 0
        for bytes in inputs {
            TSIGInvariants.check(bytes)
            if case .success(let q) = bytes.withUnsafeBytes({ QueryParser.parse($0) }), q.tsigOffset == nil { queries += 1 }
        }
        let replayed = inputs.count
        #expect(replayed >= 100, "the corpus is checked in")
        #expect(queries >= 10, "queries to sign among the inputs (\(queries))")
    }
}
