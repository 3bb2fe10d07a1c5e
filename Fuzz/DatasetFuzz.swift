// libFuzzer target for the rbldnsd dataset reader: every input is a dataset type (its first
// octet) and a data file of that type, and DatasetInvariants checks the diagnostics and that reading is deterministic.
// Build and run: Tools/fuzz dataset [seconds] (compiles this file with DNSWire, Listings and
// RBLDatasets as one module). New inputs go into Tests/RBLDatasetsTests/Corpus, which
// `make test` replays with the same invariants.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDataset(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let first = bytes.first else { return 0 }
    let types = DatasetType.allCases
    DatasetInvariants.check(Array(bytes.dropFirst()), as: types[types.index(types.startIndex, offsetBy: Int(first) % types.count)])
    return 0
}
