import Foundation
import TestSupport
import Testing

/// The portal's operator console on a running `thurac serve`: an account made with `thurac
/// operators add`, sign-in with its rate limit, the session cookie (in the store: it survives a
/// restart), a delisting request accepted from the dashboard with the CSRF token, the key gone
/// from DNS, the audit log naming the operator, and sign-out.
@Suite(.serialized)
struct OperatorConsoleTests {
    @Test func anOperatorSignsInAndAcceptsARequest() throws {
        let env = try APITests.Env()
        defer { env.server.stop() }
        let add = try CLITests.run("/bin/sh", ["-c", "echo 'correct horse battery' | \"$0\" operators add alice --config \"$1\"", thuracBinary, env.config])
        #expect(add.status == 0, "\(add.err)")

        // Nothing of the console without a session.
        let anonymous = try APITests.call(env, "GET", "/operator?lang=en")
        #expect(anonymous.status == 303 && anonymous.headers["location"] == "/operator/login?lang=en")
        let form = try APITests.call(env, "GET", "/operator/login?lang=en")
        PortalPagesTests.html(form, "the sign-in page")
        #expect(form.body.contains("<label for=\"username\">") && form.body.contains("<label for=\"password\">"))
        let token = String((form.headers["set-cookie"] ?? "").dropFirst("thurac_form=".count).prefix(64))
        func post(_ path: String, _ fields: String, from: String = "127.0.0.81", session: String? = nil, csrf: Bool = true) throws -> APITests.Answer {
            var cookies = ["thurac_form=\(token)"]
            if let session { cookies.append("thurac_session=\(session)") }
            return try APITests.call(
                env, "POST", path, body: fields + (csrf ? "&csrf=\(token)" : ""), contentType: "application/x-www-form-urlencoded",
                from: from, headers: ["Cookie: " + cookies.joined(separator: "; ")])
        }

        // Ten wrong passwords from one address: then even the right one is refused there.
        for _ in 0..<10 { #expect(try post("/operator/login?lang=en", "username=alice&password=wrong+guess").status == 401) }
        let blocked = try post("/operator/login?lang=en", "username=alice&password=correct+horse+battery")
        #expect(blocked.status == 429 && blocked.headers["retry-after"] != nil && blocked.body.contains("Too many failed attempts"))
        #expect(try post("/operator/login", "username=alice&password=correct+horse+battery", csrf: false).status == 403, "no token")
        let signedIn = try post("/operator/login?lang=en", "username=alice&password=correct+horse+battery", from: "127.0.0.82")
        let cookie = signedIn.headers["set-cookie"] ?? ""
        #expect(signedIn.status == 303 && signedIn.headers["location"] == "/operator?lang=en", "\(signedIn.status) \(signedIn.body)")
        #expect(cookie.hasPrefix("thurac_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/operator"))
        let session = String(cookie.dropFirst("thurac_session=".count).prefix(64))

        // A request to decide, for a listed key.
        let isp1 = try #require(env.tokens["isp1"])
        #expect(try APITests.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: "198.51.100.99\n").status == 200)
        #expect(eventually { APITests.listed(env, "198.51.100.99") })
        let asked = try APITests.call(env, "POST", "/v1/delisting-requests", body: #"{"key": "198.51.100.99", "reason": "relay fixed", "contact": "admin@example.net"}"#)
        let id = try #require(asked.json["id"] as? Int)

        // The dashboard, after a restart of the server: the session is in the store.
        env.server.stop()
        env.server = try ServerProcess.thurac(["serve", "--config", env.config, "--listen", "127.0.0.1:0"])
        let dashboard = try APITests.call(env, "GET", "/operator?lang=en", headers: ["Cookie: thurac_session=\(session); thurac_form=\(token)"])
        PortalPagesTests.html(dashboard, "the dashboard")
        #expect(dashboard.body.contains("Signed in as <strong>alice</strong>") && dashboard.body.contains("#\(id) "), "\(dashboard.body)")
        #expect(dashboard.body.contains("admin@example.net") && dashboard.body.contains("relay fixed") && dashboard.body.contains("(listed)"))

        // Accepting needs the token; with it the key leaves DNS and the audit log names alice.
        let forged = try post("/operator/requests/\(id)", "answer=ok&decision=accept", session: session, csrf: false)
        #expect(forged.status == 403)
        #expect(try CLITests.thurac(["requests", "list", "--config", env.config]).out.contains("open"), "still open")
        #expect(try post("/operator/requests/\(id)", "answer=ok&decision=maybe", session: session).status == 400, "accept or reject")
        let accepted = try post("/operator/requests/\(id)?lang=en", "answer=thanks%2C+removed&decision=accept", session: session)
        #expect(accepted.status == 303 && accepted.headers["location"] == "/operator?lang=en&done=accepted", "\(accepted.status) \(accepted.body)")
        #expect(eventually { !APITests.listed(env, "198.51.100.99") }, "removed from DNS")
        let audit = try CLITests.run("/usr/bin/python3", ["-c", "import sqlite3,sys; print('\\n'.join('|'.join(map(str, r)) for r in sqlite3.connect(sys.argv[1]).execute('SELECT actor, action, subject FROM audit')))", env.dir + "/thurac.db"])
        #expect(audit.out.contains("operator:alice|delisting.accept|198.51.100.99") && audit.out.contains("operator:alice|operator.signin|alice"), "\(audit.out)")

        // Signing out ends the session.
        let out = try post("/operator/logout?lang=en", "", session: session)
        #expect(out.status == 303 && out.headers["location"] == "/operator/login?lang=en")
        let after = try APITests.call(env, "GET", "/operator", headers: ["Cookie: thurac_session=\(session)"])
        #expect(after.status == 303, "the old cookie no longer signs in")
    }

    /// A signed-in operator's client: the form token and the session cookie.
    struct Console {
        let env: APITests.Env
        let form: String
        let session: String

        init(_ env: APITests.Env, account: String = "alice", password: String = "correct horse battery") throws {
            self.env = env
            let add = try CLITests.run(
                "/bin/sh", ["-c", "echo \"$2\" | \"$0\" operators add \"$3\" --config \"$1\"", thuracBinary, env.config, password, account])
            guard add.status == 0 else { throw HarnessError("operators add: \(add.err)") }
            let page = try APITests.call(env, "GET", "/operator/login")
            form = String((page.headers["set-cookie"] ?? "").dropFirst("thurac_form=".count).prefix(64))
            let signIn = try APITests.call(
                env, "POST", "/operator/login", body: "username=\(account)&password=\(password.replacingOccurrences(of: " ", with: "+"))&csrf=\(form)",
                contentType: "application/x-www-form-urlencoded", headers: ["Cookie: thurac_form=\(form)"])
            guard signIn.status == 303, let cookie = signIn.headers["set-cookie"] else { throw HarnessError("sign-in: \(signIn.status)") }
            session = String(cookie.dropFirst("thurac_session=".count).prefix(64))
        }

        func get(_ path: String) throws -> APITests.Answer {
            try APITests.call(env, "GET", path, headers: ["Cookie: thurac_session=\(session); thurac_form=\(form)"])
        }

        /// A form post; `csrf: false` leaves the token out (a forged post).
        func post(_ path: String, _ fields: [(String, String)], csrf: Bool = true) throws -> APITests.Answer {
            var all = fields
            if csrf { all.append(("csrf", form)) }
            let body = all.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
            return try APITests.call(
                env, "POST", path, body: body, contentType: "application/x-www-form-urlencoded",
                headers: ["Cookie: thurac_session=\(session); thurac_form=\(form)"])
        }
    }

    static func audit(_ env: APITests.Env) throws -> String {
        try CLITests.run(
            "/usr/bin/python3",
            ["-c", "import sqlite3,sys; print('\\n'.join('|'.join(map(str, r)) for r in sqlite3.connect(sys.argv[1]).execute('SELECT actor, action, subject, detail FROM audit')))", env.dir + "/thurac.db"]
        ).out
    }

    /// The review queue, listings, allowlist, sources, audit log and periodic report, each
    /// through its page and form as an operator uses them, checked over DNS and in the audit log.
    @Test func theConsoleReviewsListsAllowsManagesSourcesAndReports() throws {
        let env = try APITests.Env()
        defer { env.server.stop() }
        let c = try Console(env)
        for path in ["/operator/reports", "/operator/listings", "/operator/allowlist", "/operator/sources", "/operator/audit", "/operator/report", "/operator/audit.csv", "/operator/report.csv"] {
            let anonymous = try APITests.call(env, "GET", path)
            #expect(anonymous.status == 303 && anonymous.headers["location"] == "/operator/login", "\(path) needs a session")
        }
        #expect(try APITests.call(env, "POST", "/operator/listings", body: "key=192.0.2.1&category=spam&reason=x", contentType: "application/x-www-form-urlencoded").status == 303)

        // A citizen's report waits in the queue, its evidence shown as text.
        let reported = try APITests.call(
            env, "POST", "/v1/reports", body: #"{"key": "192.0.2.50", "category": "spam", "reason": "<script>alert(1)</script>", "evidence": "Received: from <b>x</b>"}"#,
            from: "127.0.0.91")
        #expect(reported.status == 202 || reported.status == 200, "\(reported.status) \(reported.body)")
        _ = try APITests.call(env, "POST", "/v1/reports", body: #"{"key": "192.0.2.51", "category": "fraud"}"#, from: "127.0.0.92")
        let queue = try c.get("/operator/reports?lang=en")
        PortalPagesTests.html(queue, "the review queue")
        #expect(queue.body.contains("<code>192.0.2.50</code>") && queue.body.contains("<strong>2</strong> keys reported by citizens"), "\(queue.body)")
        #expect(queue.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && queue.body.contains("Received: from &lt;b&gt;x&lt;/b&gt;"))
        let dashboard = try c.get("/operator?lang=en")
        PortalPagesTests.html(dashboard, "the dashboard")
        #expect(dashboard.body.contains("<strong>2</strong> <a href=\"/operator/reports?lang=en\">") && dashboard.body.contains("<svg"), "counts and charts")

        // Confirm needs the form token; with it the key is published under alice's source.
        #expect(try c.post("/operator/reports", [("key", "192.0.2.50"), ("decision", "confirm")], csrf: false).status == 403)
        #expect(!APITests.listed(env, "192.0.2.50"))
        let confirmed = try c.post("/operator/reports?lang=en", [("key", "192.0.2.50"), ("decision", "confirm"), ("note", "seen in our own trap")])
        #expect(confirmed.status == 303 && confirmed.headers["location"] == "/operator/reports?lang=en&done=confirmed", "\(confirmed.status) \(confirmed.body)")
        #expect(eventually { APITests.listed(env, "192.0.2.50") }, "published")
        let dismissed = try c.post("/operator/reports", [("key", "192.0.2.51"), ("decision", "dismiss")])
        #expect(dismissed.status == 303)
        #expect(try c.post("/operator/reports", [("key", "192.0.2.51"), ("decision", "dismiss")]).status == 409, "nothing left to dismiss")
        let after = try c.get("/operator/reports?lang=en&done=confirmed")
        #expect(after.body.contains("No report waits for a review.") && after.body.contains("Confirmed: the key is published"), "\(after.body)")
        let found = try c.get("/operator/listings?lang=en&q=192.0.2.5")
        PortalPagesTests.html(found, "a listings search")
        #expect(found.body.contains("<code>192.0.2.50</code>") && found.body.contains("op-alice") && found.body.contains("<code>192.0.2.51</code>"), "\(found.body)")

        // By hand: list, delist (restorable for the retention shown), restore.
        let bad = try c.post("/operator/listings", [("key", "not a key"), ("category", "spam"), ("reason", "x")])
        #expect(bad.status == 400 && bad.body.contains("not a key"))
        #expect(try c.post("/operator/listings", [("key", "192.0.2.77"), ("category", "fraud"), ("reason", "phishing kit"), ("ttl", "soon")]).status == 400)
        #expect(try c.post("/operator/listings", [("key", "192.0.2.77"), ("category", "fraud"), ("reason", "phishing kit"), ("ttl", "2d")]).status == 303)
        #expect(eventually { APITests.listed(env, "192.0.2.77") })
        #expect(try c.post("/operator/listings/delist", [("key", "192.0.2.77"), ("reason", "")]).status == 400, "a reason is required")
        #expect(try c.post("/operator/listings/delist", [("key", "192.0.2.77"), ("reason", "cleaned up")]).status == 303)
        #expect(eventually { !APITests.listed(env, "192.0.2.77") })
        let history = try c.get("/operator/listings?lang=en&q=192.0.2.77")
        #expect(history.body.contains("restorable until") && history.body.contains("30 days after they ended (the directive requires at least 7)"), "\(history.body)")
        #expect(try c.post("/operator/listings/restore", [("key", "192.0.2.77")]).status == 303)
        #expect(eventually { APITests.listed(env, "192.0.2.77") }, "restored")

        // The allowlist wins over every listing; an entry's reason is exported as text.
        #expect(try c.post("/operator/allowlist", [("key", "192.0.2.77"), ("reason", "=HYPERLINK(\"http://x\")")]).status == 303)
        #expect(eventually { !APITests.listed(env, "192.0.2.77") })
        #expect(try c.get("/operator/allowlist").body.contains("<code>192.0.2.77</code>"))
        #expect(try c.post("/operator/allowlist/remove", [("key", "192.0.2.77")]).status == 303)
        #expect(eventually { APITests.listed(env, "192.0.2.77") })

        // Sources: the token is shown once, on the answer to the form, and works at once.
        let created = try c.post("/operator/sources?lang=en", [("name", "viettel"), ("kind", "isp"), ("ttl", "")])
        #expect(created.status == 201 && created.body.contains("shown only this once"), "\(created.status) \(created.body)")
        let token = try #require(created.body.range(of: #"thr_[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(created.body[$0]) })
        #expect(try APITests.call(env, "POST", "/v1/feeds/viettel", token: token, body: "192.0.2.99\n").status == 200)
        let list = try c.get("/operator/sources")
        #expect(list.body.contains("<code>viettel</code>") && !list.body.contains(token), "the token is never shown again")
        let rotated = try c.post("/operator/sources/token", [("name", "viettel")])
        let second = try #require(rotated.body.range(of: #"thr_[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(rotated.body[$0]) })
        #expect(second != token)
        #expect(try APITests.call(env, "POST", "/v1/feeds/viettel", token: token, body: "192.0.2.98\n").status == 401, "the old token stops working")
        #expect(try c.post("/operator/sources/remove", [("name", "viettel")]).status == 303)
        #expect(try APITests.call(env, "POST", "/v1/feeds/viettel", token: second, body: "192.0.2.98\n").status == 401)
        #expect(try c.post("/operator/sources", [("name", "bad name"), ("kind", "isp")]).status == 409)

        // Everything above is in the audit log under alice; the page filters it, CSV exports it.
        let log = try Self.audit(env)
        for line in ["operator:alice|confirm|192.0.2.50", "operator:alice|dismiss|192.0.2.51", "operator:alice|list|192.0.2.77", "operator:alice|delist|192.0.2.77",
                     "operator:alice|restore|192.0.2.77", "operator:alice|allow.add|192.0.2.77", "operator:alice|source.add|viettel", "operator:alice|source.remove|viettel"] {
            #expect(log.contains(line), "\(line) in \(log)")
        }
        let filtered = try c.get("/operator/audit?lang=en&operator=alice&action=allow")
        PortalPagesTests.html(filtered, "the audit log")
        #expect(filtered.body.contains("allow.add") && filtered.body.contains("allow.remove") && !filtered.body.contains(">restore<"), "\(filtered.body)")
        #expect(try c.get("/operator/audit?since=yesterday").status == 200)
        let csv = try c.get("/operator/audit.csv?key=192.0.2.77")
        #expect(csv.headers["content-type"] == "text/csv; charset=utf-8" && csv.body.contains("at,actor,action,subject,detail"))
        #expect(csv.body.contains(",operator:alice,allow.add,192.0.2.77,\"'=HYPERLINK(\"\"http://x\"\")\""), "a formula is text: \(csv.body)")
        #expect(!csv.body.contains("192.0.2.50"), "filtered by key")

        // The periodic report: the figures of `thurac report`, printable, and as CSV.
        let report = try c.get("/operator/report?lang=en")
        PortalPagesTests.html(report, "the periodic report")
        #expect(report.body.contains("op-alice") && report.body.contains("<svg") && report.body.contains("Reports received by source"))
        #expect(try c.get("/operator/report?lang=en&since=2026-13-01").body.contains("Dates are written YYYY-MM-DD."))
        let figures = try c.get("/operator/report.csv")
        #expect(figures.body.contains("section,name,kind_or_family,category,reports_or_added") && figures.body.contains("reports,op-alice,operator,fraud,1"), "\(figures.body)")

        // Every console page in Vietnamese, the default.
        for path in ["/operator", "/operator/reports", "/operator/listings?q=192.0.2", "/operator/allowlist", "/operator/sources", "/operator/audit", "/operator/report"] {
            let page = try c.get(path)
            PortalPagesTests.html(page, path)
            #expect(page.body.contains("<html lang=\"vi\">") && page.body.contains("Nhật ký thao tác"), "\(path)")
        }
    }
}
