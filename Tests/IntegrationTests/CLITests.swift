import Foundation
import TestSupport
import Testing

/// The command-line contract (SPEC §5): one-line errors with a non-zero exit, `--db` everywhere.
@Suite struct CLITests {
    struct Run {
        var status: Int32
        var out: String
        var err: String
    }

    static func thurac(_ args: [String]) throws -> Run { try run(thuracBinary, args) }

    /// Runs a program to its end and collects what it printed.
    static func run(_ program: String, _ args: [String]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return Run(status: p.terminationStatus, out: o, err: e)
    }

    @Test func sourcesLifecycle() throws {
        let db = temporaryDirectory().appendingPathComponent("store/thurac.db").path
        let add = try Self.thurac(["sources", "add", "vnpt", "--kind", "isp", "--db", db])
        #expect(add.status == 0)
        #expect(add.out.hasPrefix("thr_"))
        let agency = try Self.thurac(["sources", "add", "mic", "--kind", "agency", "--ttl", "14d", "--db", db])
        #expect(agency.status == 0)
        let list = try Self.thurac(["sources", "list", "--db", db])
        #expect(list.out.contains("mic\tagency\t14d"))
        #expect(list.out.contains("vnpt\tisp\t7d"))
        // Public reporters are counted in one line unless asked for.
        for n in ["public-192.0.2.1", "public-192.0.2.2"] {
            #expect(try Self.thurac(["sources", "add", n, "--kind", "public", "--db", db]).status == 0)
        }
        let summarised = try Self.thurac(["sources", "list", "--db", db]).out
        #expect(!summarised.contains("public-192.0.2.1") && summarised.contains("(2 public reporters"), "\(summarised)")
        let all = try Self.thurac(["sources", "list", "--public", "--db", db]).out
        #expect(all.contains("public-192.0.2.1\tpublic") && all.contains("public-192.0.2.2\tpublic") && !all.contains("reporters,"))
        let rotated = try Self.thurac(["sources", "token", "vnpt", "--db", db])
        #expect(rotated.status == 0 && rotated.out != add.out)
        #expect(try Self.thurac(["sources", "remove", "vnpt", "--db", db]).status == 0)
        #expect(!(try Self.thurac(["sources", "list", "--db", db]).out.contains("vnpt")))
    }

    @Test(arguments: [
        ["sources", "add", "x", "--kind", "nope"],
        ["sources", "add", "bad name", "--kind", "isp"],
        ["sources", "add", "x", "--kind", "isp", "--ttl", "7"],
        ["sources", "remove", "nobody"],
        ["serve", "--zone", "bad"],
        ["serve", "--zone", "bl.test:ip4set:/nonexistent/file"],
    ])
    func badInputIsOneLineAndNonZero(_ args: [String]) throws {
        let db = temporaryDirectory().appendingPathComponent("thurac.db").path
        let r = try Self.thurac(args + ["--db", db])
        #expect(r.status != 0)
        let lines = r.err.split(separator: "\n").filter { !$0.contains(" warning ") && !$0.contains(" info ") }
        #expect(lines.count == 1, "\(r.err)")
        #expect(lines.first?.hasPrefix("Error: ") == true, "\(r.err)")
    }
}
