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
        let text = try storeCall { try ZoneDump.render(z, format: f, store: s, now: at, ttl: ttl) }
        if let output {
            do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
                throw CommandFailure("\(output): \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}
