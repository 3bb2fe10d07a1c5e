import DNSWire
import Foundation
import Listings
import Responder
import Synchronization

/// The optional query log of rbldnsd's `-l`: one line per answered query,
/// `time client qname qtype qclass: RCODE/answers/length`. Off the fast path unless enabled.
public final class QueryLog: Sendable {
    private let handle: Mutex<FileHandle>
    private let leaveOutNXDOMAIN: Bool

    public init(path: String, leaveOutNXDOMAIN: Bool) throws {
        if path == "-" {
            handle = Mutex(FileHandle.standardOutput)
        } else {
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            guard let h = FileHandle(forWritingAtPath: path) else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
            }
            h.seekToEndOfFile()
            handle = Mutex(h)
        }
        self.leaveOutNXDOMAIN = leaveOutNXDOMAIN
    }

    public func log(packet: UnsafeRawBufferPointer, summary: ResponseSummary, client: ClientAddress) {
        if leaveOutNXDOMAIN && summary.rcode == .nxDomain { return }
        guard summary.length >= 12, packet.readUInt16(at: Header.qdCount) == 1 else { return }
        let name = DomainName.text(fromWire: packet, at: 12)
        guard let end = DomainName.walk(packet, at: WireLimits.headerLength), end + 4 <= packet.count else { return }
        let type = RRType(packet.readUInt16(at: end))
        let cls = RRClass(packet.readUInt16(at: end + 2))
        let line =
            "\(Int(Date().timeIntervalSince1970)) \(client.text) \(name) \(type) \(cls): \(summary.rcode)/\(summary.answerCount)/\(summary.length)\n"
        handle.withLock { $0.write(Data(line.utf8)) }
    }
}
