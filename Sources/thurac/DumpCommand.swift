import ArgumentParser
import Foundation
import Publishing
import Store
import ZoneConfig

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Write a zone as it is published: rbldnsd data, or CSV / JSON lines with provenance.")

    @Option(help: "Zone name (one of the configured zones).") var zone: String
    @Option(help: "rbldnsd, bind, csv or json.") var format: String
    @Option(help: "Write here instead of standard output.") var output: String?
    @Option(help: "Evaluate at this ISO 8601 instant.") var now: String?
    @OptionGroup var store: StoreOptions

    func run() throws {
        let zones = try store.settings().zones
        let wanted = zone.lowercased().hasSuffix(".") ? String(zone.lowercased().dropLast()) : zone.lowercased()
        guard let z = zones.first(where: { $0.name == wanted }) else {
            throw CommandFailure("unknown zone '\(zone)' (zones: \(zones.map(\.name).joined(separator: ", ")))")
        }
        guard let f = ZoneDump.Format(rawValue: format) else {
            let known = ZoneDump.Format.allCases.map(\.rawValue).joined(separator: ", ")
            throw CommandFailure("--format must be one of \(known)")
        }
        let at = try instant(now)
        let s = try store.open()
        let ttl = try z.ttl ?? store.settings().ttl
        // Written in 1 MiB pieces; to a file through a temporary one renamed at the end, so a
        // reader never sees half a zone.
        let target = output.map { $0 + ".tmp-\(getpid())" }
        if let target, !FileManager.default.createFile(atPath: target, contents: nil) {
            throw CommandFailure("\(output!): cannot create the file")
        }
        guard let handle = target.map({ FileHandle(forWritingAtPath: $0) }) ?? FileHandle.standardOutput else {
            throw CommandFailure("\(output!): cannot write the file")
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        func flush() {
            handle.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
        }
        do {
            try ZoneDump.render(z, format: f, store: s, now: at, ttl: ttl) { piece in
                buffer += piece.utf8
                if buffer.count >= 1 << 20 { flush() }
            }
        } catch let e as StoreError {
            if let target { try? FileManager.default.removeItem(atPath: target) }
            throw CommandFailure(e.description)
        }
        flush()
        if let target, let output {
            try? handle.close()
            guard rename(target, output) == 0 else {
                try? FileManager.default.removeItem(atPath: target)
                throw CommandFailure("\(output): cannot write the file (\(String(cString: strerror(errno))))")
            }
        }
    }
}
