import Foundation
import RBLDatasets
import TestSupport
import Testing

/// The dataset fuzz target's corpus (and the syntax vectors), replayed with its invariants
/// (DatasetInvariants): each input read as every dataset type.
@Suite struct DatasetCorpusTests {
    @Test func replaysTheCorpusWithItsInvariants() throws {
        let inputs = try Corpus.inputs(["Corpus", "Vectors"], under: URL(fileURLWithPath: #filePath).deletingLastPathComponent())
        #expect(inputs.count >= 100, "the corpus is checked in")
        for input in inputs { DatasetInvariants.check(input) }
    }
}
