import Foundation
import Ingestion
import TestSupport
import Testing

/// The feed fuzz target's corpus (and the feed vectors), replayed with its invariants
/// (FeedInvariants): each input read in every format, errors short, keys reading back as
/// themselves.
@Suite struct FeedCorpusTests {
    @Test func replaysTheCorpusWithItsInvariants() throws {
        let inputs = try Corpus.inputs(["FeedCorpus", "Feeds"], under: URL(fileURLWithPath: #filePath).deletingLastPathComponent())
        #expect(inputs.count >= 100, "the corpus is checked in")
        for input in inputs { FeedInvariants.check(input) }
        // A megabyte line is quoted cut short, not echoed.
        FeedInvariants.check(Array(String(repeating: "x", count: 1 << 20).utf8))
    }
}
