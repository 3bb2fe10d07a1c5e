import DNSWire
import Listings
import Publishing
import RateLimiting

/// What must hold for any configuration file or zone skeleton, however broken: checked on every
/// input by the configuration fuzz target (Fuzz/ConfigFuzz.swift) and by the test that replays
/// its corpus. A refusal is one line naming the file; an accepted skeleton holds only wire-valid
/// names; reading is deterministic. A violation stops the process (precondition).
public enum ConfigInvariants {
    public static let path = "/nonexistent/fuzz/thurac.toml"

    public static func checkConfiguration(_ input: [UInt8]) {
        switch (Result { () throws(ConfigError) in try ThuracConfig.load(contents: input, path: path) }) {
        case .failure(let e):
            refusal(e, path)
            let again = Result { () throws(ConfigError) in try ThuracConfig.load(contents: input, path: path) }
            guard case .failure(let e2) = again, e2.description == e.description else { preconditionFailure("a second read differs") }
        case .success(let c):
            for z in c.zones { precondition(!z.name.isEmpty, "a zone without a name") }
            precondition((try? c.rateLimit.validate()) != nil, "accepted rate-limit settings that do not validate")
        }
    }

    public static func checkSkeleton(_ input: [UInt8], origin: String = "bl.example") {
        let where_ = "/nonexistent/fuzz/bl.example.zone"
        do {
            let apex = try ZoneSkeleton.load(contents: input, path: where_, origin: origin)
            for name in [apex.soa.mname, apex.soa.rname] + apex.nameservers + apex.glue.map(\.name) {
                let end = name.withUnsafeBytes { DomainName.walk($0, at: 0) }
                precondition(end == name.count, "a name in the skeleton that is not a wire name")
            }
        } catch {
            refusal(error, where_)
        }
    }

    static func refusal(_ e: ConfigError, _ path: String) {
        precondition(e.description.hasPrefix(path), "a refusal that does not start with its file: \(e)")
        precondition(!e.description.contains("\n"), "a refusal of more than one line: \(e)")
    }
}
