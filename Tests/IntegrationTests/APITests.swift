import Foundation
import Glibc
import TestSupport
import Testing

/// The HTTP API of a running `thurac serve`, over real HTTP (curl): feeds with their source's
/// token and every refusal (nothing of a refused request applied), lookups, statistics, health,
/// Prometheus metrics that move with the DNS queries sent, and every JSON answer checked against
/// the OpenAPI document the server serves.
@Suite(.serialized)
struct APITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    final class Env {
        let dir: String
        let config: String
        var tokens: [String: String] = [:]
        var server: ServerProcess!

        /// `serve`: lines added to the configuration's [serve] table.
        init(serve: String = "") throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-api-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for z in ["bl", "dbl", "hbl", "wl"] {
                let name = "\(z).ninhthuan.gov.vn.zone"
                try FileManager.default.copyItem(atPath: APITests.repo.appendingPathComponent("Zones/\(name)").path, toPath: dir + "/" + name)
            }
            var toml = try String(contentsOf: APITests.repo.appendingPathComponent("Zones/thurac.toml"), encoding: .utf8)
            toml = toml.replacingOccurrences(of: "path = \"var/thurac.db\"", with: "path = \"\(dir)/thurac.db\"")
            // The province's relays, for forwarded messages (docs/intake.md).
            toml += "\n[intake]\ntrusted_relays = [\"198.51.100.0/24\", \".vnpt.vn\"]\n"
            if !serve.isEmpty { toml = toml.replacingOccurrences(of: "[serve]\n", with: "[serve]\n\(serve)\n") }
            config = dir + "/thurac.toml"
            try toml.write(toFile: config, atomically: true, encoding: .utf8)
            for (name, kind) in [("isp1", "isp"), ("isp2", "isp"), ("ops", "operator")] {
                let r = try CLITests.thurac(["sources", "add", name, "--kind", kind, "--config", config])
                guard r.status == 0, let token = r.out.split(separator: "\n").first(where: { $0.hasPrefix("thr_") }) else {
                    throw HarnessError("sources add: \(r.out) \(r.err)")
                }
                tokens[name] = String(token)
            }
            server = try ServerProcess.thurac(["serve", "--config", config, "--listen", "127.0.0.1:0", "--http-max-body", "4096"])
        }

        var http: UInt16 { server.httpPort ?? 0 }
    }

    struct Answer {
        var status: Int
        var body: String
        /// Response header fields, names in lower case.
        var headers: [String: String] = [:]
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// One request with curl; `from` picks the client's address (any of 127.0.0.0/8).
    static func call(
        _ env: Env, _ method: String, _ path: String, token: String? = nil, body: String? = nil, contentType: String? = nil,
        from: String? = nil, headers extra: [String] = []
    ) throws -> Answer {
        let out = env.dir + "/answer-\(UUID().uuidString)"
        var args = ["-s", "-o", out, "-D", out + ".headers", "-w", "%{http_code}", "-X", method]
        for h in extra { args += ["-H", h] }
        if let from { args += ["--interface", from] }
        if let token { args += ["-H", "Authorization: Bearer \(token)"] }
        if let contentType { args += ["-H", "Content-Type: \(contentType)"] }
        if let body {
            let file = out + ".body"
            try body.write(toFile: file, atomically: true, encoding: .utf8)
            args += ["--data-binary", "@" + file]
        }
        let r = try CLITests.run("/usr/bin/curl", args + ["http://127.0.0.1:\(env.http)\(path)"])
        var headers: [String: String] = [:]
        for line in ((try? String(contentsOfFile: out + ".headers", encoding: .utf8)) ?? "").split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Answer(status: Int(r.out) ?? 0, body: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", headers: headers)
    }

    /// The answer's status is documented for the operation and its JSON matches the schema.
    static func conforms(_ env: Env, _ template: String, _ method: String, _ a: Answer) throws {
        let file = env.dir + "/check-\(UUID().uuidString).json"
        try a.body.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try CLITests.run(
            "/usr/bin/env",
            ["python3", repo.appendingPathComponent("Tests/IntegrationTests/API/openapi_check.py").path,
             repo.appendingPathComponent("Sources/HTTPAPI/openapi.yaml").path, template, method, "\(a.status)", file])
        #expect(r.status == 0, "\(method) \(template) \(a.status): \(r.out) \(r.err)")
    }

    static func listed(_ env: Env, _ address: String) -> Bool {
        let name = address.split(separator: ".").reversed().joined(separator: ".") + ".bl.ninhthuan.gov.vn"
        return (try? DNSClient.query(name, type: 1, port: env.server.port)).flatMap { Decoded($0) }.map { !$0.aSet.isEmpty } ?? false
    }

    @Test func feedsLookupsStatsAndRefusals() throws {
        let env = try Env()
        defer { env.server.stop() }
        let isp1 = try #require(env.tokens["isp1"])

        // A feed with the source's own token: applied, answered over DNS within a second.
        let pushed = try Self.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: "198.51.100.1\n198.51.100.2\n203.0.113.0/24\n")
        #expect(pushed.status == 200, "\(pushed.body)")
        #expect(pushed.json["added"] as? Int == 3 && pushed.json["format"] as? String == "plain")
        try Self.conforms(env, "/v1/feeds/{source}", "POST", pushed)
        #expect(eventually { Self.listed(env, "198.51.100.1") }, "answered after the push")
        #expect(Self.listed(env, "203.0.113.77"))
        // The same body again: nothing new.
        let again = try Self.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: "198.51.100.1\n198.51.100.2\n203.0.113.0/24\n")
        #expect(again.status == 200 && again.json["added"] as? Int == 0 && again.json["refreshed"] as? Int == 3, "\(again.body)")
        // CSV by Content-Type, with categories.
        let csv = try Self.call(
            env, "POST", "/v1/feeds/isp1", token: isp1, body: "key,category,reason\n192.0.2.9,fraud,phishing kit\n", contentType: "text/csv")
        #expect(csv.status == 200 && csv.json["format"] as? String == "csv", "\(csv.body)")

        // Refusals: nothing applied.
        let refusals: [(Answer, Int, String)] = [
            (try Self.call(env, "POST", "/v1/feeds/isp1", body: "192.0.2.50\n"), 401, "no token"),
            (try Self.call(env, "POST", "/v1/feeds/isp1", token: "thr_nope", body: "192.0.2.51\n"), 401, "unknown token"),
            (try Self.call(env, "POST", "/v1/feeds/isp1", token: env.tokens["isp2"], body: "192.0.2.52\n"), 403, "another source's token"),
            (try Self.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: String(repeating: "192.0.2.53\n", count: 500)), 413, "too large"),
            (try Self.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: "192.0.2.54\nnot a key at all\n192.0.2.55\n"), 400, "a bad line"),
            (try Self.call(env, "POST", "/v1/feeds/isp1?format=yaml", token: isp1, body: "192.0.2.56\n"), 400, "unknown format"),
        ]
        for (answer, status, why) in refusals {
            #expect(answer.status == status, "\(why): \(answer.status) \(answer.body)")
            #expect(answer.json["error"] is String, "\(why): an error body")
            try Self.conforms(env, "/v1/feeds/{source}", "POST", answer)
        }
        #expect((refusals[4].0.json["details"] as? [String])?.contains { $0.hasPrefix("line 2:") } == true, "the line at fault")
        usleep(600_000)
        for address in ["192.0.2.50", "192.0.2.51", "192.0.2.52", "192.0.2.53", "192.0.2.54", "192.0.2.55", "192.0.2.56"] {
            #expect(!Self.listed(env, address), "\(address) of a refused request is not listed")
        }

        // Lookup: the explanation of `thurac lookup`.
        let lookup = try Self.call(env, "GET", "/v1/lookup/203.0.113.77")
        #expect(lookup.status == 200 && lookup.json["listed"] as? Bool == true, "\(lookup.body)")
        #expect(((lookup.json["coveredBy"] as? [[String: Any]])?.first?["key"] as? String) == "203.0.113.0/24")
        try Self.conforms(env, "/v1/lookup/{key}", "GET", lookup)
        let unlisted = try Self.call(env, "GET", "/v1/lookup/192.0.2.54")
        #expect(unlisted.status == 200 && unlisted.json["listed"] as? Bool == false)
        let badKey = try Self.call(env, "GET", "/v1/lookup/not%20a%20key")
        #expect(badKey.status == 400)
        try Self.conforms(env, "/v1/lookup/{key}", "GET", badKey)

        // Statistics and health.
        let stats = try Self.call(env, "GET", "/v1/stats?since=2020-01-01T00:00:00Z")
        #expect(stats.status == 200 && (stats.json["reports"] as? [[String: Any]])?.contains { $0["source"] as? String == "isp1" } == true)
        #expect((stats.json["listings"] as? [[String: Any]])?.contains { ($0["zones"] as? [String]) == ["bl.ninhthuan.gov.vn"] } == true)
        try Self.conforms(env, "/v1/stats", "GET", stats)
        #expect(try Self.call(env, "GET", "/v1/stats?since=yesterday").status == 400)
        let health = try Self.call(env, "GET", "/healthz")
        #expect(health.status == 200 && health.json["status"] as? String == "ok")
        try Self.conforms(env, "/healthz", "GET", health)

        // The document the server serves is the one checked against.
        let document = try Self.call(env, "GET", "/openapi.yaml")
        let source = try String(contentsOf: Self.repo.appendingPathComponent("Sources/HTTPAPI/openapi.yaml"), encoding: .utf8)
        #expect(document.status == 200 && document.body == source)
    }

    /// `thurac_dns_requests_total{zone="bl...",proto="udp",type=...}` summed over the types.
    static func requests(_ text: String, zone: String, proto: String) -> Double {
        var sum = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix("thurac_dns_requests_total{") {
            if line.contains("zone=\"\(zone)\""), line.contains("proto=\"\(proto)\""), let v = line.split(separator: " ").last {
                sum += Double(v) ?? 0
            }
        }
        return sum
    }

    @Test func metricsArePrometheusTextAndMoveWithQueries() throws {
        let env = try Env()
        defer { env.server.stop() }
        let first = try Self.call(env, "GET", "/metrics")
        #expect(first.status == 200)
        // Every line is a comment or `name{labels} value`.
        let sample = #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? [-+0-9.eE]+(Inf|NaN)?$"#
        for line in first.body.split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.range(of: sample, options: .regularExpression) != nil, "not Prometheus text: \(line)")
        }
        for name in ["thurac_dns_requests_total", "thurac_dns_responses_total", "thurac_zone_serial", "thurac_snapshot_age_seconds", "thurac_listings",
                     "thurac_dns_request_duration_seconds"] {
            #expect(first.body.contains("# TYPE \(name) "), "\(name) is exported")
        }
        let before = Self.requests(first.body, zone: "bl.ninhthuan.gov.vn", proto: "udp")
        for i in 0..<25 { _ = try DNSClient.query("\(i).2.0.192.bl.ninhthuan.gov.vn", type: 1, port: env.server.port) }
        let pushed = try Self.call(env, "POST", "/v1/feeds/isp1", token: env.tokens["isp1"], body: "192.0.2.1\n")
        #expect(pushed.status == 200)
        let second = try Self.call(env, "GET", "/metrics")
        let after = Self.requests(second.body, zone: "bl.ninhthuan.gov.vn", proto: "udp")
        #expect(after - before == 25, "the counter moved by the 25 queries sent (\(before) -> \(after))")
        #expect(second.body.contains(#"thurac_dns_requests_total{zone="bl.ninhthuan.gov.vn",proto="udp",type="A"} 25"#))
        // The answer-time histogram counts every UDP query answered, in its buckets.
        let count = second.body.split(separator: "\n").first { $0.hasPrefix(#"thurac_dns_request_duration_seconds_count{proto="udp"}"#) }
        #expect((count?.split(separator: " ").last.flatMap { Int($0) } ?? 0) >= 25, "\(count ?? "no histogram")")
        #expect(second.body.contains(#"thurac_dns_request_duration_seconds_bucket{proto="udp",le="+Inf"}"#))
        #expect(second.body.contains(#"thurac_ingest_reports_total{source="isp1",outcome="added"} 1"#), "\(second.body)")
    }

    @Test func publicReportsARFAndDelistingRequests() throws {
        let env = try Env()
        defer { env.server.stop() }
        let report = #"{"key": "198.51.100.77", "category": "spam", "reason": "sent to my trap", "evidence": "Received: from x", "contact": "me@example.org"}"#
        // Public reports publish when three distinct reporters agree (SPEC §2); one is not enough.
        let first = try Self.call(env, "POST", "/v1/reports", body: report, contentType: "application/json", from: "127.0.0.11")
        #expect(first.status == 200 && first.json["pending"] as? Int == 1, "\(first.body)")
        try Self.conforms(env, "/v1/reports", "POST", first)
        let alone = try Self.call(env, "POST", "/v1/reports", body: #"{"key": "198.51.100.88"}"#, contentType: "application/json", from: "127.0.0.11")
        #expect(alone.status == 200)
        for from in ["127.0.0.12", "127.0.0.13"] {
            #expect(try Self.call(env, "POST", "/v1/reports", body: report, contentType: "application/json", from: from).status == 200)
        }
        #expect(eventually { Self.listed(env, "198.51.100.77") }, "three reporters publish the key")
        #expect(!Self.listed(env, "198.51.100.88"), "one reporter does not")
        // An ARF message with a source's token: its source IP and domain are that source's reports.
        let arf = try String(contentsOf: Self.repo.appendingPathComponent("Tests/StoreTests/Feeds/abuse.arf"), encoding: .utf8)
        // The sample's Arrival-Date is in March: its reports expired long ago, so they are
        // stale, not added, and change nothing.
        let stale = try Self.call(env, "POST", "/v1/reports", token: env.tokens["isp1"], body: arf,
                                  contentType: "multipart/report; report-type=feedback-report")
        #expect(stale.status == 200 && stale.json["stale"] as? Int == 3 && stale.json["added"] as? Int == 0, "\(stale.body)")
        try Self.conforms(env, "/v1/reports", "POST", stale)
        #expect(!(try Self.call(env, "GET", "/v1/lookup/192.0.2.1").body.contains(#""source":"isp1""#)))
        // The same report arriving now is added.
        let rfc2822 = DateFormatter()
        rfc2822.locale = Locale(identifier: "en_US_POSIX")
        rfc2822.dateFormat = "EEE, d MMM yyyy HH:mm:ss Z"
        let fresh = arf.replacingOccurrences(of: "Arrival-Date: Thu, 8 Mar 2026 14:00:00 +0700", with: "Arrival-Date: " + rfc2822.string(from: Date()))
        let fed = try Self.call(env, "POST", "/v1/reports", token: env.tokens["isp1"], body: fresh,
                                contentType: "multipart/report; report-type=feedback-report")
        #expect(fed.status == 200 && fed.json["format"] as? String == "arf" && (fed.json["added"] as? Int ?? 0) >= 1, "\(fed.body)")
        let arfLookup = try Self.call(env, "GET", "/v1/lookup/192.0.2.1")
        #expect(arfLookup.body.contains(#""source":"isp1""#), "\(arfLookup.body)")
        #expect(try Self.call(env, "GET", "/v1/lookup/spammer.example").body.contains(#""source":"isp1""#))
        // A forwarded spam message: read like `thurac intake` reads one, the client its reporter.
        let eml = try String(contentsOf: Self.repo.appendingPathComponent("Tests/MailIntakeTests/Messages/attachment.eml"), encoding: .utf8)
        let forwarded = try Self.call(env, "POST", "/v1/reports", body: eml, contentType: "message/rfc822", from: "127.0.0.21")
        #expect(forwarded.status == 200 && forwarded.json["format"] as? String == "message" && forwarded.json["pending"] as? Int == 11, "\(forwarded.body)")
        try Self.conforms(env, "/v1/reports", "POST", forwarded)
        let explained = try Self.call(env, "GET", "/v1/lookup/203.0.113.7")
        #expect(explained.body.contains("Message-ID <20261130.spam.1@spam-sender.example>") && explained.body.contains("public-127.0.0.21"), "\(explained.body)")
        try Self.conforms(env, "/v1/lookup/{key}", "GET", explained)
        let notMail = try Self.call(env, "POST", "/v1/reports", body: "hello\n", contentType: "message/rfc822", from: "127.0.0.22")
        #expect(notMail.status == 400 && notMail.body.contains("not a mail message"), "\(notMail.body)")
        #expect(!(try Self.call(env, "GET", "/v1/lookup/203.0.113.8").body.contains("public-127.0.0.22")))
        // Bad reports, and the public rate limit (a burst of 10 per address).
        let bad = try Self.call(env, "POST", "/v1/reports", body: #"{"key": "no such key!"}"#, contentType: "application/json", from: "127.0.0.14")
        #expect(bad.status == 400)
        try Self.conforms(env, "/v1/reports", "POST", bad)
        var statuses: [Int] = []
        for _ in 0..<11 {
            statuses.append(try Self.call(env, "POST", "/v1/reports", body: #"{"key": "198.51.100.99"}"#, contentType: "application/json", from: "127.0.0.15").status)
        }
        #expect(statuses.prefix(10).allSatisfy { $0 == 200 } && statuses.last == 429, "\(statuses)")

        // A delisting request: stored, read by id, accepted by the operator: gone from DNS.
        let asked = try Self.call(env, "POST", "/v1/delisting-requests",
                                  body: #"{"key": "198.51.100.77", "reason": "fixed the open relay", "contact": "admin@example.net"}"#)
        #expect(asked.status == 201 && asked.json["status"] as? String == "open", "\(asked.body)")
        try Self.conforms(env, "/v1/delisting-requests", "POST", asked)
        let id = try #require(asked.json["id"] as? Int)
        let status = try Self.call(env, "GET", "/v1/delisting-requests/\(id)")
        #expect(status.status == 200 && status.json["contact"] == nil, "the requester's view leaves the contact out")
        try Self.conforms(env, "/v1/delisting-requests/{id}", "GET", status)
        #expect(try Self.call(env, "GET", "/v1/delisting-requests").status == 401)
        #expect(try Self.call(env, "GET", "/v1/delisting-requests", token: env.tokens["isp1"]).status == 403)
        let list = try Self.call(env, "GET", "/v1/delisting-requests?status=open", token: env.tokens["ops"])
        #expect(list.status == 200 && list.body.contains("admin@example.net"))
        try Self.conforms(env, "/v1/delisting-requests", "GET", list)
        #expect(try Self.call(env, "POST", "/v1/delisting-requests/\(id)/accept", token: env.tokens["isp1"], body: #"{"answer": "ok"}"#).status == 403)
        let accepted = try Self.call(env, "POST", "/v1/delisting-requests/\(id)/accept", token: env.tokens["ops"],
                                     body: #"{"answer": "relay closed, confirmed by scan"}"#)
        #expect(accepted.status == 200 && accepted.json["status"] as? String == "accepted", "\(accepted.body)")
        try Self.conforms(env, "/v1/delisting-requests/{id}/accept", "POST", accepted)
        let twice = try Self.call(env, "POST", "/v1/delisting-requests/\(id)/reject", token: env.tokens["ops"], body: #"{"answer": "no"}"#)
        #expect(twice.status == 409)
        try Self.conforms(env, "/v1/delisting-requests/{id}/reject", "POST", twice)
        #expect(eventually { !Self.listed(env, "198.51.100.77") }, "delisted on the running server")
        // Who and why, in the audit log (read from the store's SQLite file) ...
        let audit = try CLITests.run("/usr/bin/env", [
            "python3", "-c",
            "import sqlite3, sys\nfor r in sqlite3.connect(sys.argv[1]).execute('SELECT actor, action, subject, detail FROM audit ORDER BY id'): print('|'.join(map(str, r)))",
            env.dir + "/thurac.db",
        ])
        #expect(audit.out.contains("operator:ops|delisting.accept|198.51.100.77|#\(id): relay closed, confirmed by scan"), "\(audit.out) \(audit.err)")
        #expect(audit.out.contains("operator:ops|delist|198.51.100.77|request #\(id): relay closed"), "\(audit.out)")
        // ... and in the lookup.
        let lookup = try CLITests.thurac(["lookup", "198.51.100.77", "--config", env.config])
        #expect(lookup.out.contains("delisted") && lookup.out.contains("operator:ops") && lookup.out.contains("request #\(id): relay closed"), "\(lookup.out)")
        // The requester reads the answer; the CLI shows the same request.
        #expect(try Self.call(env, "GET", "/v1/delisting-requests/\(id)").json["answer"] as? String == "relay closed, confirmed by scan")
        let cli = try CLITests.thurac(["requests", "list", "--status", "accepted", "--config", env.config])
        #expect(cli.status == 0 && cli.out.contains("#\(id) 198.51.100.77 accepted"), "\(cli.out) \(cli.err)")
        // A rejection from the CLI.
        let other = try Self.call(env, "POST", "/v1/delisting-requests", body: #"{"key": "192.0.2.1", "reason": "not us"}"#)
        let otherID = try #require(other.json["id"] as? Int)
        let rejected = try CLITests.thurac(["requests", "reject", "\(otherID)", "--answer", "seen in our trap today", "--config", env.config])
        #expect(rejected.status == 0 && rejected.out.contains("rejected"), "\(rejected.err)")
        #expect(try Self.call(env, "GET", "/v1/delisting-requests/\(otherID)").json["status"] as? String == "rejected")
        #expect(!(try CLITests.thurac(["lookup", "192.0.2.1", "--config", env.config]).out.contains("delisted")), "a rejected request changes nothing")
    }

    /// What a user trying the API found (issue 13): refusals leave nothing behind, say what is
    /// wrong without echoing megabytes, and every error, 404 and 405 included, is JSON.
    @Test func refusalsLeaveNothingAndSayWhatIsWrong() throws {
        let env = try Env()
        defer { env.server.stop() }
        let isp1 = try #require(env.tokens["isp1"])
        func publicSources() throws -> String { try CLITests.thurac(["sources", "list", "--public", "--config", env.config]).out }

        // A refused public report makes no source: broken JSON, a bad key.
        let broken = try Self.call(env, "POST", "/v1/reports", body: #"{"key": "#, contentType: "application/json", from: "127.0.0.31")
        #expect(broken.status == 400 && (broken.json["details"] as? [String]) == ["the body is not valid JSON"], "\(broken.body)")
        let noKey = try Self.call(env, "POST", "/v1/reports", body: #"{"reason": "spam"}"#, contentType: "application/json", from: "127.0.0.31")
        #expect(noKey.status == 400 && (noKey.json["details"] as? [String]) == ["'key' is missing"], "\(noKey.body)")
        let badKey = try Self.call(env, "POST", "/v1/reports", body: #"{"key": "not a key"}"#, contentType: "application/json", from: "127.0.0.32")
        #expect(badKey.status == 400, "\(badKey.body)")
        let afterRefusals = try publicSources()
        #expect(!afterRefusals.contains("public-127.0.0.31") && !afterRefusals.contains("public-127.0.0.32"), "\(afterRefusals)")
        let good = try Self.call(env, "POST", "/v1/reports", body: #"{"key": "198.51.100.60"}"#, contentType: "application/json", from: "127.0.0.33")
        #expect(good.status == 200 && good.json["pending"] as? Int == 1, "\(good.body)")
        #expect(try publicSources().contains("public-127.0.0.33\tpublic"))

        // Long input is quoted cut short; a CSV without a key column says so once.
        let long = String(repeating: "x", count: 3000)
        let cut = try Self.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: "192.0.2.70\n\(long)\n")
        let detail = (cut.json["details"] as? [String])?.first ?? ""
        #expect(cut.status == 400 && detail.count < 300 && detail.contains("(3000 characters)"), "\(detail)")
        let noColumn = try Self.call(env, "POST", "/v1/feeds/isp1?format=csv", token: isp1, body: "address,reason\n192.0.2.71,a\n192.0.2.72,b\n192.0.2.73,c\n")
        let said = noColumn.json["details"] as? [String] ?? []
        #expect(noColumn.status == 400 && said.count == 1 && said[0].contains("needs a 'key' column"), "\(noColumn.body)")
        try Self.conforms(env, "/v1/feeds/{source}", "POST", noColumn)

        // Unknown paths and wrong methods: JSON, 405 with Allow.
        for (method, path, status, allow) in [
            ("GET", "/nothing/here", 404, nil), ("GET", "/v1/reports", 405, "POST"), ("POST", "/healthz", 405, "GET"),
            ("GET", "/v1/delisting-requests/7/accept", 405, "POST"), ("DELETE", "/v1/delisting-requests", 405, "POST, GET"),
        ] as [(String, String, Int, String?)] {
            let a = try Self.call(env, method, path)
            #expect(a.status == status && a.json["error"] is String && a.headers["content-type"] == "application/json", "\(method) \(path): \(a.status) \(a.body)")
            #expect(a.headers["allow"] == allow, "\(method) \(path): \(a.headers)")
        }

        // Reports and delisting requests have buckets of their own; every 429 says when to retry.
        var last = Answer(status: 0, body: "")
        for _ in 0..<11 {
            last = try Self.call(env, "POST", "/v1/reports", body: #"{"key": "198.51.100.61"}"#, contentType: "application/json", from: "127.0.0.40")
        }
        #expect(last.status == 429 && Int(last.headers["retry-after"] ?? "") ?? 0 >= 1, "\(last.status) \(last.headers)")
        try Self.conforms(env, "/v1/reports", "POST", last)
        let request = #"{"key": "198.51.100.61", "reason": "our server, fixed"}"#
        #expect(try Self.call(env, "POST", "/v1/delisting-requests", body: request, from: "127.0.0.40").status == 201, "not slowed by the reports")
        for _ in 0..<5 { last = try Self.call(env, "POST", "/v1/delisting-requests", body: request, from: "127.0.0.40") }
        #expect(last.status == 429 && Int(last.headers["retry-after"] ?? "") ?? 0 >= 1, "\(last.status) \(last.headers)")
        try Self.conforms(env, "/v1/delisting-requests", "POST", last)
        // Over its limit, a delisting request is 413.
        let huge = #"{"key": "198.51.100.62", "reason": ""# + String(repeating: "a", count: 70_000) + #""}"#
        let tooLarge = try Self.call(env, "POST", "/v1/delisting-requests", body: huge, from: "127.0.0.41")
        #expect(tooLarge.status == 413 && tooLarge.json["error"] is String, "\(tooLarge.status)")
        try Self.conforms(env, "/v1/delisting-requests", "POST", tooLarge)
        // A report over --http-max-body (4096 here, below the 1 MiB report limit) names that limit.
        let bigReport = #"{"key": "198.51.100.63", "reason": ""# + String(repeating: "a", count: 5000) + #""}"#
        let reportTooLarge = try Self.call(env, "POST", "/v1/reports", body: bigReport, contentType: "application/json", from: "127.0.0.42")
        #expect(reportTooLarge.status == 413 && reportTooLarge.json["error"] as? String == "a report is at most 4 KiB", "\(reportTooLarge.body)")

        // Every metric family has its HELP line.
        let metrics = try Self.call(env, "GET", "/metrics").body
        for line in metrics.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let name = line.split(separator: " ")[2]
            #expect(metrics.contains("# HELP \(name) "), "\(name) has no HELP line")
        }
    }
}
