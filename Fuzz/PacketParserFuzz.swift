// libFuzzer target for the packet parser and the responder's entry point.
// Build and run: Tools/fuzz [seconds]   (compiles this file with Sources/DNSWire).
// New crashers go into Tests/DNSWireTests/Corpus, which `make test` replays.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPacket(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if case .success(let q) = QueryParser.parse(bytes) {
        // Everything the parser reports must lie inside the packet.
        precondition(q.questionEnd <= size && q.messageEnd <= size)
        precondition(q.questionNameOffset + q.questionNameLength + 4 == q.questionEnd)
        _ = DomainName.text(fromWire: bytes, at: q.questionNameOffset)
    }
    var o = 12
    while o < size, let next = QueryParser.skipName(bytes, at: o) {
        precondition(next > o && next <= size)
        o = next + 1
    }
    return 0
}
