// libFuzzer target for the packet parser and the responder: every input is parsed and answered
// over UDP and TCP against a small snapshot of every dataset type (Tests/ResponderTests/
// FuzzSnapshot), and AnswerInvariants checks that the answer parses, fits and echoes the
// question. Build and run: Tools/fuzz packet [seconds] (compiles this file with DNSWire,
// Listings, Responder and RBLDatasets as one module). New inputs go into
// Tests/ResponderTests/Corpus, which `make test` replays with the same invariants.
import Foundation

nonisolated(unsafe) let fuzzSnapshot: ServingSnapshot = {
    let dir = ProcessInfo.processInfo.environment["THURAC_FUZZ_SNAPSHOT"] ?? "Tests/ResponderTests/FuzzSnapshot"
    let catalog = DatasetCatalog(
        specs: [
            ZoneSpec(zone: "bl.test", type: .combined, files: [dir + "/combined"]),
            ZoneSpec(zone: "bl.test", type: .acl, files: [dir + "/acl"]),
        ], options: LoadOptions())
    _ = try! catalog.refresh(now: 1_800_000_000)
    return catalog.snapshot(now: 1_800_000_000).0
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPacket(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The client's address comes from the input's last octet: inside and outside the ACL's ranges.
    let clients: [ClientAddress] = [.v4(0x7F00_0001), .v4(0x0A01_0203), .v4(0x0A02_0304), .v4(0xC0A8_0101), .v4(0xAC10_0001), .v6(1)]
    AnswerInvariants.check(bytes, snapshot: fuzzSnapshot, client: clients[Int(bytes.last ?? 0) % clients.count])
    return 0
}
