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

    /// toml++ (in TOMLKit 0.6.0) asserts and stops the process on a table header without a name
    /// and on a '}' inside an array: thurac refuses those itself, in one line naming the line
    /// (found by the fuzz target).
    @Test(arguments: [
        ("[\n# x\n", 1, "a table header needs a name"), ("[[[1]]]\n", 1, "a table header needs a name"),
        ("[=\n", 1, "a table header needs a name"), ("  [ \n", 1, "a table header needs a name"),
        ("[serve]\ndns = [ }\n", 2, "'}' inside an array"), ("[serve]\ndns = [\"a\",\n  # c\n}\n", 4, "'}' inside an array"),
        ("x = [[}]]\n", 1, "'}' inside an array"), ("x = { a = [1, 2 }\n", 1, "'}' inside an array"),
        ("x = {a = ]}\n", 1, "']' inside an inline table"),
    ])
    func whatTOMLKitWouldAbortOnIsRefusedNotFatal(_ text: String, line: Int, why: String) {
        #expect(throws: ConfigError.self) { try ThuracConfig.load(contents: Array(text.utf8), path: "t.toml") }
        do {
            _ = try ThuracConfig.load(contents: Array(text.utf8), path: "t.toml")
        } catch {
            #expect(error.description.hasPrefix("t.toml:\(line): \(why)"), "\(error)")
        }
    }

    /// Brackets in strings, comments and multi-line strings, nested arrays and arrays of
    /// inline tables are not refused by the pre-check.
    @Test func bracketsWhereTheyBelongPassThePrecheck() throws {
        let text = #"""
            # [ a comment } with ] brackets
            [store]
            path = "x}]{[.db"
            [serve]
            dns = [
              "127.0.0.1:53",  # ] }
              '[::1]:53',
            ]
            [acl]
            rules = [ { from = "10.0.0.0/8", action = "refuse" }, { from = "192.0.2.1", action = "empty" } ]
            [[zone]]
            name = "bl.example"
            lists = "addresses"
            txt = """
            [ not a header }
            """

            """#
        do {
            _ = try ThuracConfig.load(contents: Array(text.utf8), path: "t.toml")
        } catch {
            #expect(!error.description.contains("inside an") && !error.description.contains("needs a name"), "\(error)")
        }
    }
}
