import CLDNS
import Foundation

/// A response decoded by libldns, independently of our own parser.
public struct Decoded: Equatable, CustomStringConvertible {
    public var rcode: Int
    public var aa: Bool
    public var tc: Bool
    public var qdcount: Int
    public var answers: [String]
    public var authority: [String]
    public var additional: [String]
    public var question: String
    public var ednsPresent: Bool
    public var ednsUDPSize: Int

    public var description: String { "rcode=\(rcode) aa=\(aa) tc=\(tc) an=\(answers) ns=\(authority)" }

    /// A records' addresses and TXT texts of the answer section, sorted.
    public var aSet: [String] { answers.filter { $0.contains("\tA\t") }.map { String($0.split(separator: "\t").last!) }.sorted() }
    public var txtSet: [String] {
        answers.filter { $0.contains("\tTXT\t") }.map { String($0.split(separator: "\t", maxSplits: 4).last!) }.sorted()
    }

    public init?(_ bytes: [UInt8]) {
        var pkt: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = bytes.withUnsafeBufferPointer { ldns_wire2pkt(&pkt, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let pkt else { return nil }
        defer { ldns_pkt_free(pkt) }
        rcode = Int(ldns_pkt_get_rcode(pkt).rawValue)
        aa = ldns_pkt_aa(pkt) != 0
        tc = ldns_pkt_tc(pkt) != 0
        qdcount = Int(ldns_pkt_qdcount(pkt))
        func list(_ l: UnsafeMutablePointer<ldns_rr_list>?) -> [String] {
            guard let l else { return [] }
            return (0..<ldns_rr_list_rr_count(l)).map { i in
                let s = ldns_rr2str(ldns_rr_list_rr(l, i))!
                defer { free(s) }
                return String(cString: s).trimmingCharacters(in: .newlines)
            }
        }
        answers = list(ldns_pkt_answer(pkt))
        authority = list(ldns_pkt_authority(pkt))
        additional = list(ldns_pkt_additional(pkt))
        question = list(ldns_pkt_question(pkt)).first ?? ""
        ednsPresent = ldns_pkt_edns(pkt) != 0
        ednsUDPSize = Int(ldns_pkt_edns_udp_size(pkt))
    }
}

