// libFuzzer target for the zone configuration (TOML) and the zone skeletons (master files,
// through libldns): the input's first octet picks which, the rest is the file
// (ConfigInvariants). Build and run: Tools/fuzz config [seconds] (compiles this file with the
// ZoneConfig sources, linked with the debug build of the modules below them, TOMLKit and
// libldns). New inputs go into Tests/ZoneConfigTests/Corpus, which `make test` replays with the
// same invariants.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let first = bytes.first else { return 0 }
    if first & 1 == 0 {
        ConfigInvariants.checkConfiguration(Array(bytes.dropFirst()))
    } else {
        ConfigInvariants.checkSkeleton(Array(bytes.dropFirst()))
    }
    return 0
}
