import Foundation
import Testing
import ZoneConfig

/// The configuration fuzz target's corpus, replayed with its invariants (ConfigInvariants): the
/// first octet picks a configuration file (even) or a zone skeleton (odd), the rest is the file.
@Suite struct ConfigCorpusTests {
    @Test func replaysTheCorpusWithItsInvariants() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")
        var replayed = 0
        for f in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(f)))
            guard let first = bytes.first else { continue }
            if first & 1 == 0 {
                ConfigInvariants.checkConfiguration(Array(bytes.dropFirst()))
            } else {
                ConfigInvariants.checkSkeleton(Array(bytes.dropFirst()))
            }
            replayed += 1
        }
        #expect(replayed >= 100, "the corpus is checked in")
    }

    /// toml++ (in TOMLKit 0.6.0) asserts and stops the process on a table header without a name:
    /// thurac refuses those itself, in one line (found by the fuzz target).
    @Test(arguments: ["[\n# x\n", "[[[1]]]\n", "[=\n", "  [ \n"])
    func unnamedTableHeadersAreRefusedNotFatal(_ text: String) {
        #expect(throws: ConfigError.self) { try ThuracConfig.load(contents: Array(text.utf8), path: "t.toml") }
        #expect((try? ThuracConfig.load(contents: Array("[store]\npath = \"x.db\"\n".utf8), path: "t.toml")) != nil)
    }
}
