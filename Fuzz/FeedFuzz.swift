// libFuzzer target for the feed formats: every input is a format (its first octet: plain, CSV,
// JSON lines, DROP or ARF) and a feed in it, and FeedInvariants checks that errors are short and keys read back as themselves.
// Build and run: Tools/fuzz feed [seconds] (compiles this file with the parsing sources of
// Ingestion, ListingKeys and DNSWire as one module). New inputs go into
// Tests/StoreTests/FeedCorpus, which `make test` replays with the same invariants.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFeed(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let first = bytes.first else { return 0 }
    FeedInvariants.check(Array(bytes.dropFirst()), as: FeedInvariants.formats[Int(first) % FeedInvariants.formats.count])
    return 0
}
