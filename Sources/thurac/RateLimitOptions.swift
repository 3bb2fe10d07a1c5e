import ArgumentParser
import Listings
import RateLimiting

/// `thurac serve --rrl-*`: the `[rrl]` settings from the command line, over the configuration's
/// (store mode) or over "off" (rbldnsd datasets, where rbldnsd limits nothing).
struct RateLimitOptions: ParsableArguments {
    @Option(name: .customLong("rrl-responses-per-second"), help: "UDP answers per second per client prefix (0: no limit).")
    var responsesPerSecond: Int?
    @Option(name: .customLong("rrl-nxdomains-per-second"), help: "NXDOMAIN answers per second (default: as responses).")
    var nxdomainsPerSecond: Int?
    @Option(name: .customLong("rrl-errors-per-second"), help: "Error answers per second (default: as responses).")
    var errorsPerSecond: Int?
    @Option(name: .customLong("rrl-window"), help: "Seconds a prefix counts as limited after its last limited answer.")
    var window: Int?
    @Option(name: .customLong("rrl-slip"), help: "Every Nth limited answer goes out truncated (TC); 0: drop them all.")
    var slip: Int?
    @Option(name: .customLong("rrl-ipv4-prefix-length"), help: "IPv4 clients are counted per prefix of this length.")
    var ipv4PrefixLength: Int?
    @Option(name: .customLong("rrl-ipv6-prefix-length"), help: "IPv6 clients are counted per prefix of this length.")
    var ipv6PrefixLength: Int?
    @Option(name: .customLong("rrl-exempt"), help: "Address or CIDR never limited (repeatable; replaces the list).")
    var exempt: [String] = []
    @Flag(name: .customLong("rrl-log-only"), help: "Count what would be limited; limit nothing.")
    var logOnly = false

    var given: Bool {
        responsesPerSecond != nil || nxdomainsPerSecond != nil || errorsPerSecond != nil || window != nil || slip != nil
            || ipv4PrefixLength != nil || ipv6PrefixLength != nil || !exempt.isEmpty || logOnly
    }

    /// `base` with the options given applied. Options beside a limit of 0 mean the shipped limit.
    func apply(to base: RateLimitSettings) throws -> RateLimitSettings {
        var r = base
        if given && !base.isEnabled && responsesPerSecond == nil { r.responsesPerSecond = RateLimitSettings.shipped.responsesPerSecond }
        if let n = responsesPerSecond { r.responsesPerSecond = n }
        if let n = nxdomainsPerSecond { r.nxdomainsPerSecond = n }
        if let n = errorsPerSecond { r.errorsPerSecond = n }
        if let n = window { r.window = n }
        if let n = slip { r.slip = n }
        if let n = ipv4PrefixLength { r.ipv4PrefixLength = n }
        if let n = ipv6PrefixLength { r.ipv6PrefixLength = n }
        if !exempt.isEmpty {
            r.exempt = try exempt.map { e in
                do { return try ClientPrefix(parsing: e) } catch { throw CommandFailure("--rrl-exempt: \(error)") }
            }
        }
        if logOnly { r.logOnly = true }
        do { try r.validate() } catch { throw CommandFailure("--rrl-* options: \(error)") }
        return r
    }
}
