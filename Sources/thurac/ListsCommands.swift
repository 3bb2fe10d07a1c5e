import ArgumentParser
import Foundation
import ListingKeys
import Store
import ZoneConfig

struct AllowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allow", abstract: "The allowlist of trusted partners: never published, whatever is reported.",
        subcommands: [Add.self, Remove.self, List.self])

    struct Add: ParsableCommand {
        @Argument(help: "Key to allow.") var key: String
        @Option(help: "Why (kept in the audit log).") var reason: String?
        @Option(help: "Record it at this ISO 8601 instant.") var now: String?
        @OptionGroup var store: StoreOptions
        func run() throws {
            let spec = try keyArgument(key)
            let at = try instant(now)
            let s = try store.open()
            try storeCall { try s.allow(spec, reason: reason, now: at, actor: actorName()) }
        }
    }

    struct Remove: ParsableCommand {
        @Argument(help: "Key to take off the allowlist.") var key: String
        @Option(help: "Record it at this ISO 8601 instant.") var now: String?
        @OptionGroup var store: StoreOptions
        func run() throws {
            let spec = try keyArgument(key)
            let at = try instant(now)
            let s = try store.open()
            try storeCall { try s.disallow(spec, now: at, actor: actorName()) }
        }
    }

    struct List: ParsableCommand {
        @OptionGroup var store: StoreOptions
        func run() throws {
            let s = try store.open()
            for a in try storeCall({ try s.allowlist() }) {
                print("\(a.key)\t\(a.reason ?? "-")\t\(a.addedBy)\t\(isoTime(a.addedAt))")
            }
        }
    }
}

/// A duration option (`7d`), or the configuration's value when it is not given.
func durationOption(_ text: String?, _ option: String, default value: @autoclosure () throws -> Int) throws -> Int {
    guard let text else { return try value() }
    do { return try DurationText.seconds(text) } catch { throw CommandFailure("\(option): \(error)") }
}

struct DelistCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delist", abstract: "Remove a listing from DNS with a reason; untrusted re-reports are held back for the grace period.")
    @Argument var key: String
    @Option(help: "Why (required; kept in the audit log).") var reason: String
    @Option(help: "Grace period against re-listing by untrusted sources (default: policy.delisting_grace, 7d).")
    var grace: String?
    @Option(help: "Evaluate at this ISO 8601 instant.") var now: String?
    @OptionGroup var store: StoreOptions
    func run() throws {
        let spec = try keyArgument(key)
        let g = try durationOption(grace, "--grace", default: store.settings().delistingGrace)
        let at = try instant(now)
        let s = try store.open()
        do {
            try s.delist(spec, reason: reason, grace: g, now: at, actor: actorName())
        } catch let e as StoreError {
            // Not listed itself, but inside a listed range or subtree: say which, and what to do.
            let wider = (try? s.covering(spec.key).filter { $0.state == "published" }.map(\.key)) ?? []
            guard let first = wider.first else { throw CommandFailure(e.description) }
            throw CommandFailure(
                "\(spec) is not listed itself but inside \(first): delist \(first), or keep it out with `thurac allow add \(spec)`")
        }
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Bring back a delisted or expired listing from history.")
    @Argument var key: String
    @Option(help: "How long history is kept (at least 7d; default: store.retention, 30d).") var retention: String?
    @Option(help: "Evaluate at this ISO 8601 instant.") var now: String?
    @OptionGroup var store: StoreOptions
    func run() throws {
        let spec = try keyArgument(key)
        let r = try durationOption(retention, "--retention", default: store.settings().retention)
        let at = try instant(now)
        let s = try store.open()
        try storeCall { try s.restore(spec, retention: r, now: at, actor: actorName()) }
    }
}

struct ExpireCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expire",
        abstract: "Apply expiry now, and delete history older than the retention period (store.retention, at least 7d).")
    @Option(help: "Evaluate at this ISO 8601 instant.") var now: String?
    @OptionGroup var store: StoreOptions
    func run() throws {
        let at = try instant(now)
        let s = try store.open()
        let retention = try store.settings().retention
        let expired = try storeCall { try s.expire(now: at, actor: actorName()) }
        let pruned = try storeCall { try s.prune(retention: retention, now: at, actor: actorName()) }
        print("expired \(expired), pruned \(pruned) (history older than \(retention / 86400) days)")
    }
}
