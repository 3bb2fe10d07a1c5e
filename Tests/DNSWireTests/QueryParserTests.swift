import CLDNS
import DNSWire
import Foundation
import Testing

@Suite struct QueryParserTests {
    static func query(_ name: String, type: UInt16 = 1, edns: Bool = false) throws -> [UInt8] {
        var q: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0]
        q += try DomainName.wire(fromText: name)
        q += [UInt8(type >> 8), UInt8(type & 255), 0, 1]
        if edns { q += [0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 0] }
        return q
    }

    func parse(_ b: [UInt8]) -> Result<Query, QueryRejection> { b.withUnsafeBytes { QueryParser.parse($0) } }

    @Test func parsesHeaderQuestionAndOPT() throws {
        let q = try parse(Self.query("2.0.0.127.Bl.Example", type: 16, edns: true)).get()
        #expect(q.id == 0xABCD)
        #expect(q.recursionDesired)
        #expect(q.labelCount == 6)
        #expect(q.type == .txt)
        #expect(q.class == .in)
        #expect(q.edns == EDNS(present: true, version: 0, udpPayloadSize: 4096, dnssecOK: true))
        #expect(q.questionNameLength == 22)
    }

    @Test func roundTripsNamesThroughLdns() throws {
        for name in ["example.com", "a.b.c.d.e.f", "x\\.y.example", "\\000.example", String(repeating: "a", count: 63) + ".test"] {
            let wire = try DomainName.wire(fromText: name)
            var rdf: UnsafeMutablePointer<ldns_rdf>? = nil
            #expect(ldns_str2rdf_dname(&rdf, name) == LDNS_STATUS_OK)
            defer { ldns_rdf_deep_free(rdf) }
            let theirs = Array(UnsafeBufferPointer(start: ldns_rdf_data(rdf), count: ldns_rdf_size(rdf)))
            #expect(wire == theirs, "\(name)")
            #expect(try DomainName.wire(fromText: DomainName.text(fromWire: wire)) == wire)
        }
    }

    @Test func rejectsOversizeLabelsAndNames() {
        #expect(throws: DomainName.Error.self) { try DomainName.wire(fromText: String(repeating: "a", count: 64) + ".test") }
        let long = (0..<50).map { _ in "abcd" }.joined(separator: ".") + ".example"
        #expect(throws: DomainName.Error.self) { try DomainName.wire(fromText: long) }
    }

    @Test func dropsShortPacketsAndResponses() throws {
        #expect(parse([1, 2, 3]) == .failure(.drop))
        var r = try Self.query("a.example")
        r[2] |= 0x80
        #expect(parse(r) == .failure(.drop))
    }

    @Test func truncatedQuestionIsFormErrWithoutEcho() throws {
        let q = try Self.query("a.example")
        for cut in 13..<q.count {
            #expect(parse(Array(q[0..<cut])) == .failure(.formatError(questionEnd: nil)), "cut at \(cut)")
        }
    }

    @Test func badCountsAreFormErr() throws {
        var q = try Self.query("a.example")
        q[5] = 0
        #expect(parse(q) == .failure(.formatError(questionEnd: nil)))
        q[5] = 2
        #expect(parse(q) == .failure(.formatError(questionEnd: nil)))
        var extra = try Self.query("a.example")
        extra[11] = 3  // three additional records announced, none present
        #expect(parse(extra) == .failure(.formatError(questionEnd: extra.count)))
    }

    @Test func compressionInTheQuestionIsRefused() throws {
        var q: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        q += [1, 0x61, 0xC0, 12, 0, 1, 0, 1]  // pointer back to itself: a loop
        #expect(parse(q) == .failure(.formatError(questionEnd: nil)))
    }

    @Test func pointersInOtherSectionsOnlyGoBackwards() throws {
        var q = try Self.query("a.example")
        q[11] = 1
        let end = q.count
        // An additional record whose owner points forward (to itself): rejected.
        q += [0xC0, UInt8(end), 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]
        #expect(parse(q) == .failure(.formatError(questionEnd: end)))
        var ok = try Self.query("a.example")
        ok[11] = 1
        ok += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]
        #expect((try? parse(ok).get()) != nil)
    }

    @Test func secondOPTOrOPTOutsideAdditionalIsFormErr() throws {
        var q = try Self.query("a.example", edns: true)
        q[11] = 2
        q += [0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0]
        if case .failure(.formatError) = parse(q) {} else { Issue.record("two OPT records accepted") }
        var misplaced = try Self.query("a.example", edns: true)
        misplaced[11] = 0
        misplaced[7] = 1  // the OPT counted as an answer record
        if case .failure(.formatError) = parse(misplaced) {} else { Issue.record("OPT in answer accepted") }
    }

    @Test func unknownOpcodeIsNotImplemented() throws {
        var q = try Self.query("a.example")
        q[2] = (2 << 3) | 1
        #expect(parse(q) == .failure(.notImplemented(questionEnd: q.count)))
    }

    @Test func unknownTypesStayNumbers() {
        #expect(RRType(65534).description == "TYPE65534")
        #expect(RRType(name: "TYPE65534") == RRType(65534))
        #expect(RRType(name: "txt") == .txt)
    }

    /// Replays the fuzzing corpus: no input may crash the parser.
    @Test func replaysFuzzCorpus() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(files.count >= 10)
        for f in files {
            let bytes = try [UInt8](Data(contentsOf: dir.appendingPathComponent(f)))
            _ = parse(bytes)
        }
    }
}
