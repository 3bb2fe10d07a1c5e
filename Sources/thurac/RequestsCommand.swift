import ArgumentParser
import Foundation
import ListingKeys
import Store
import ZoneConfig

/// `thurac requests list|accept|reject`: the delisting requests sent to `POST
/// /v1/delisting-requests`, decided by the operator (the same as the API's operator endpoints).
struct RequestsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests", abstract: "Delisting requests: list them, accept (delist the key) or reject them.",
        subcommands: [List.self, Accept.self, Reject.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List delisting requests (all, or by status).")
        @Option(help: "open, accepted or rejected.") var status: String?
        @OptionGroup var store: StoreOptions

        func run() throws {
            if let status, !["open", "accepted", "rejected"].contains(status) {
                throw CommandFailure("--status must be open, accepted or rejected")
            }
            let s = try store.open()
            for r in try storeCall({ try s.delistingRequests(status: status) }) {
                var line = "#\(r.id) \(r.key) \(r.status), asked \(isoTime(r.createdAt))"
                if let c = r.contact { line += " by \(c)" }
                line += ": \(r.reason)"
                if let at = r.decidedAt { line += "; \(r.status) \(isoTime(at)) by \(r.decidedBy ?? "?"): \(r.answer ?? "")" }
                print(line)
            }
        }
    }

    struct Accept: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept a request: delist its key, and answer the requester.")
        @Argument(help: "The request's id.") var id: Int64
        @Option(help: "The answer to the requester (kept in the audit log with the delisting).") var answer: String
        @Option(help: "Untrusted re-reports are held back this long (default: policy.delisting_grace).") var grace: String?
        @Option(help: "Decide at this ISO 8601 instant.") var now: String?
        @OptionGroup var store: StoreOptions

        func run() throws { try decide(id, accept: true, answer: answer, grace: grace, now: now, store) }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a request, with the reason told to the requester.")
        @Argument(help: "The request's id.") var id: Int64
        @Option(help: "Why (told to the requester).") var answer: String
        @Option(help: "Decide at this ISO 8601 instant.") var now: String?
        @OptionGroup var store: StoreOptions

        func run() throws { try decide(id, accept: false, answer: answer, grace: nil, now: now, store) }
    }

    static func decide(_ id: Int64, accept: Bool, answer: String, grace: String?, now: String?, _ options: StoreOptions) throws {
        let s = try options.open()
        let at = try instant(now)
        let g = try durationOption(grace, "--grace", default: try options.settings().delistingGrace)
        let user = ProcessInfo.processInfo.environment["USER"] ?? "cli"
        let r = try storeCall { try s.decide(request: id, accept: accept, answer: answer, grace: g, now: at, actor: "operator:\(user)") }
        print("#\(r.id) \(r.key): \(r.status)")
    }
}
