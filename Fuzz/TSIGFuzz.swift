// libFuzzer target for TSIG (RFC 8945): every input is verified as a signed message, and, when
// it is an unsigned query, signed, verified, changed by one bit and verified again
// (TSIGInvariants). Build and run: Tools/fuzz tsig [seconds] (compiles this file with DNSWire
// and ZoneTransfer's TSIG code as one module, linked with swift-crypto from the debug build).
// New inputs go into Tests/ZoneTransferTests/TSIGCorpus, which `make test` replays with the
// same invariants.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTSIG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    TSIGInvariants.check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
