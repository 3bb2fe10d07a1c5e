// libFuzzer target for the e-mail intake's parsers: MIME, encoded words, charsets, Received
// chains, links, the forward's analysis. Build and run: Tools/fuzz mail [seconds] (compiles this
// file with the parsing sources of MailIntake, ListingKeys and DNSWire as one module).
// New crashers go into Tests/MailIntakeTests/Corpus, which `make test` replays with the same
// invariants (MailIntakeTests.MailCorpusTests).
import Foundation

nonisolated(unsafe) let fuzzSettings: IntakeSettings = {
    let list = try! PublicSuffixList()
    return IntakeSettings(trustedRelays: try! TrustedRelays(["198.51.100.0/24", ".vnpt.vn"]), suffixes: list)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMail(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    MailInvariants.check(bytes, settings: fuzzSettings)
    return 0
}
