import Foundation
import TestSupport
import Testing

/// The web portal's public pages on a running `thurac serve`, over real HTTP: the home page and
/// its search, the lookup page of a listed and an unlisted key in both languages, refusals as
/// pages (not JSON, not a 500), escaping, and the security headers on every HTML answer.
@Suite(.serialized)
struct PortalPagesTests {
    static func html(_ a: APITests.Answer, _ why: String, status: Int = 200) {
        #expect(a.status == status, "\(why): \(a.status)")
        #expect(a.headers["content-type"] == "text/html; charset=utf-8", "\(why): \(a.headers)")
        #expect(a.headers["content-security-policy"]?.contains("default-src 'none'") == true, "\(why): no CSP")
        #expect(!a.body.contains("<script"), "\(why): no script")
        #expect(!a.body.contains("{{"), "\(why): no template left unrendered")
        // A word missing from a language shows as its key (`console_reason`): none may.
        let key = #"\b(site|nav|home|search|lookup|col|category|kind|state|family|error|report|form|delisting|stats|operator|console|done|other|footer|until)_[a-z_]+\b"#
        #expect(a.body.range(of: key, options: .regularExpression).map { String(a.body[$0]) } == nil, "\(why): an untranslated key")
    }

    @Test func homeSearchAndLookupInBothLanguages() throws {
        let env = try APITests.Env()
        defer { env.server.stop() }
        // Vietnamese by default, English on ?lang=en or on Accept-Language.
        let home = try APITests.call(env, "GET", "/")
        Self.html(home, "home")
        #expect(home.body.contains("<html lang=\"vi\">") && home.body.contains("<title>"))
        #expect(home.body.contains("<label for=\"q\">") && home.body.contains("name=\"q\""), "a labelled search box")
        #expect(home.body.contains("href=\"/lookup/127.0.0.1\""), "the visitor's own address, one click away")
        #expect(home.body.contains("bl.ninhthuan.gov.vn"), "the zones to use")
        let english = try APITests.call(env, "GET", "/?lang=en")
        Self.html(english, "home in English")
        #expect(english.body.contains("<html lang=\"en\">") && english.body.contains("Is your address or domain blocked?"))
        #expect(english.body.contains("name=\"lang\" value=\"en\""), "the search keeps the chosen language")
        let accepted = try APITests.call(env, "GET", "/", headers: ["Accept-Language: en-GB,en;q=0.9"])
        #expect(accepted.body.contains("<html lang=\"en\">"))

        // The search form redirects to the key's stable page.
        let search = try APITests.call(env, "GET", "/lookup?q=+198.51.100.0%2F24+&lang=en")
        #expect(search.status == 303 && search.headers["location"] == "/lookup/198.51.100.0%2F24?lang=en", "\(search.status) \(search.headers)")
        let empty = try APITests.call(env, "GET", "/lookup?q=")
        Self.html(empty, "an empty search", status: 400)

        // A listed address (an ISP's feed) and an unlisted one.
        let isp1 = try #require(env.tokens["isp1"])
        #expect(try APITests.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: "198.51.100.9 open relay\n").status == 200)
        let listed = try APITests.call(env, "GET", "/lookup/198.51.100.9?lang=en")
        Self.html(listed, "a listed address")
        #expect(listed.body.contains("198.51.100.9 is listed"), "\(listed.body)")
        #expect(listed.body.contains("bl.ninhthuan.gov.vn") && listed.body.contains("127.0.0.2") && listed.body.contains("spam"))
        #expect(listed.body.contains("an Internet service provider"), "the kind of source")
        #expect(!listed.body.contains("isp1"), "never the source itself")
        #expect(!listed.body.contains("through"), "listed itself, not through a wider listing")
        // An address inside a listed range: published through it.
        #expect(try APITests.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: "203.0.113.0/24\n").status == 200)
        let inside = try APITests.call(env, "GET", "/lookup/203.0.113.77?lang=en")
        #expect(inside.body.contains("203.0.113.77 is listed") && inside.body.contains("(through 203.0.113.0/24)"), "\(inside.body)")
        let vi = try APITests.call(env, "GET", "/lookup/198.51.100.9")
        #expect(vi.body.contains("198.51.100.9 đang bị chặn") && vi.body.contains("thư rác"), "\(vi.body)")
        let clean = try APITests.call(env, "GET", "/lookup/192.0.2.200?lang=en")
        Self.html(clean, "an unlisted address")
        #expect(clean.body.contains("192.0.2.200 is not listed"))
        let domain = try APITests.call(env, "GET", "/lookup/example.org?lang=en")
        #expect(domain.body.contains("example.org is not listed"))

        // Not a key: a page that says so, the input escaped.
        let bad = try APITests.call(env, "GET", "/lookup/%3Cscript%3Ealert(1)%3C%2Fscript%3E?lang=en")
        Self.html(bad, "not a key", status: 400)
        #expect(bad.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && bad.body.contains("is not an IP address"), "\(bad.body)")

        // Unknown pages are the portal's HTML 404 for a browser; the API's stay JSON, and a
        // program that does not ask for HTML gets JSON everywhere.
        let missing = try APITests.call(env, "GET", "/no/such/page?lang=en", headers: ["Accept: text/html,application/xhtml+xml,*/*;q=0.8"])
        Self.html(missing, "an unknown page", status: 404)
        #expect(missing.body.contains("No such page"))
        let offsite = try APITests.call(env, "GET", "//evil.example/x", headers: ["Accept: text/html"])
        #expect(!offsite.body.contains("href=\"//evil.example"), "no link off the site: \(offsite.body)")
        let api = try APITests.call(env, "GET", "/v1/no-such")
        #expect(api.status == 404 && api.headers["content-type"] == "application/json" && api.json["error"] is String)
        let script = try APITests.call(env, "GET", "/no/such/page")
        #expect(script.status == 404 && script.headers["content-type"] == "application/json")
        let css = try APITests.call(env, "GET", "/static/portal.css")
        #expect(css.status == 200 && css.headers["content-type"] == "text/css; charset=utf-8")
    }

    /// The report form: its token, a post without it refused with nothing applied, bad input
    /// shown back escaped, and three reporters (three client addresses) publishing an address
    /// in DNS, as `POST /v1/reports` does.
    @Test func reportsFromTheFormFollowThePublicPolicy() throws {
        let env = try APITests.Env()
        defer { env.server.stop() }
        let form = try APITests.call(env, "GET", "/report?key=198.51.100.77&lang=en")
        Self.html(form, "the report form")
        let cookie = form.headers["set-cookie"] ?? ""
        #expect(cookie.hasPrefix("thurac_form=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(cookie)")
        let token = String(cookie.dropFirst("thurac_form=".count).prefix(64))
        #expect(form.body.contains("name=\"csrf\" value=\"\(token)\""), "the token in the form")
        #expect(form.body.contains("value=\"198.51.100.77\""), "the key from the lookup page's link")
        for id in ["key", "category", "reason", "evidence"] { #expect(form.body.contains("<label for=\"\(id)\">"), "a label for \(id)") }

        func post(_ fields: String, token: String?, from: String) throws -> APITests.Answer {
            try APITests.call(
                env, "POST", "/report?lang=en", body: fields + (token.map { "&csrf=\($0)" } ?? ""),
                contentType: "application/x-www-form-urlencoded", from: from, headers: token.map { ["Cookie: thurac_form=\($0)"] } ?? [])
        }
        // Without the token, or with another one: 403, nothing applied.
        let forged = try post("key=198.51.100.77&category=spam", token: nil, from: "127.0.0.51")
        Self.html(forged, "no token", status: 403)
        let other = String(repeating: "ab", count: 32)
        let mismatched = try APITests.call(
            env, "POST", "/report", body: "key=198.51.100.77&category=spam&csrf=\(token)", contentType: "application/x-www-form-urlencoded",
            from: "127.0.0.51", headers: ["Cookie: thurac_form=\(other)"])
        #expect(mismatched.status == 403)
        #expect(try CLITests.thurac(["lookup", "198.51.100.77", "--config", env.config]).out.contains("not listed (no reports)"))
        // Not a key: the form again, with what was typed, escaped.
        let bad = try post("key=nope+nope&category=spam&reason=%3Cscript%3Ealert(1)%3C%2Fscript%3E", token: token, from: "127.0.0.51")
        Self.html(bad, "not a key", status: 400)
        #expect(bad.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;</textarea>") && bad.body.contains("is not an IP address"))
        // Three reporters: pending, pending, then published and answered over DNS.
        for (i, from) in ["127.0.0.51", "127.0.0.52", "127.0.0.53"].enumerated() {
            let r = try post("key=198.51.100.77&category=spam&reason=spam+to+my+inbox&evidence=Received%3A+from+x", token: token, from: from)
            Self.html(r, "report \(i + 1)")
            #expect(r.body.contains("Thank you, your report is recorded"), "\(r.body)")
            #expect(r.body.contains(i < 2 ? "three different people" : "now listed"), "report \(i + 1): \(r.body)")
        }
        #expect(eventually { APITests.listed(env, "198.51.100.77") }, "published in DNS by three reporters")
    }

    /// A mail admin asks for removal from the lookup page's link: the form and its token, the
    /// private status link (which any browser can open, and which a guessed number or secret
    /// cannot), the operator's decision, and the key gone from DNS.
    @Test func aDelistingRequestAndItsPrivateStatusLink() throws {
        let env = try APITests.Env()
        defer { env.server.stop() }
        let isp1 = try #require(env.tokens["isp1"])
        #expect(try APITests.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: "198.51.100.9 open relay\n").status == 200)
        #expect(eventually { APITests.listed(env, "198.51.100.9") })
        let lookup = try APITests.call(env, "GET", "/lookup/198.51.100.9?lang=en")
        #expect(lookup.body.contains("href=\"/delisting?key=198.51.100.9&amp;lang=en\""), "\(lookup.body)")
        let form = try APITests.call(env, "GET", "/delisting?key=198.51.100.9&lang=en")
        Self.html(form, "the delisting form")
        for id in ["key", "reason", "contact"] { #expect(form.body.contains("<label for=\"\(id)\">"), "a label for \(id)") }
        let token = String((form.headers["set-cookie"] ?? "").dropFirst("thurac_form=".count).prefix(64))
        func post(_ fields: String, token: String?) throws -> APITests.Answer {
            try APITests.call(
                env, "POST", "/delisting?lang=en", body: fields + (token.map { "&csrf=\($0)" } ?? ""),
                contentType: "application/x-www-form-urlencoded", from: "127.0.0.61", headers: token.map { ["Cookie: thurac_form=\($0)"] } ?? [])
        }
        #expect(try post("key=198.51.100.9&reason=fixed", token: nil).status == 403)
        let noReason = try post("key=198.51.100.9&reason=+", token: token)
        Self.html(noReason, "no reason", status: 400)
        #expect(noReason.body.contains("Give a reason."))
        #expect(try CLITests.thurac(["requests", "list", "--config", env.config]).out.contains("198.51.100.9") == false, "nothing stored yet")

        let created = try post("key=198.51.100.9&reason=relay+closed+on+2+December&contact=admin%40example.net", token: token)
        Self.html(created, "the request", status: 201)
        let link = try #require(created.body.firstMatch(of: /href="(\/delisting\/(\d+)\/([0-9a-f]{64}))\?lang=en"/), "\(created.body)")
        let (path, id) = (String(link.1), String(link.2))
        #expect(created.body.contains("Request \(id) is recorded"))
        let open = try APITests.call(env, "GET", path)
        Self.html(open, "the status page")
        #expect(open.body.contains("relay closed on 2 December") && open.body.contains("đang chờ Sở xem xét"), "\(open.body)")
        #expect(!open.body.contains("admin@example.net"), "the contact is the Department's only")
        // A guessed secret or number shows nothing of it.
        for guess in ["/delisting/\(id)/\(String(repeating: "0", count: 64))", "/delisting/\(Int(id)! + 1)/\(link.3)", "/delisting/\(id)/short"] {
            let g = try APITests.call(env, "GET", guess + "?lang=en")
            Self.html(g, guess, status: 404)
            #expect(!g.body.contains("relay closed") && !g.body.contains("198.51.100.9"), "\(guess): \(g.body)")
        }
        // The operator accepts it: the key leaves DNS and the requester's page says so.
        #expect(try CLITests.thurac(["requests", "accept", id, "--answer", "thanks, removed", "--config", env.config]).status == 0)
        #expect(eventually { !APITests.listed(env, "198.51.100.9") }, "removed from DNS")
        let answered = try APITests.call(env, "GET", path + "?lang=en")
        #expect(answered.body.contains("accepted: the address is removed") && answered.body.contains("thanks, removed"), "\(answered.body)")
    }

    /// The statistics page's charts plot the store's figures: the last day's listings equal the
    /// listings published now and the weekly reports add up to the reports received, as
    /// `GET /v1/stats` counts them; every bar's height is its value on the chart's scale.
    @Test func theChartsPlotTheStoresFigures() throws {
        let env = try APITests.Env()
        defer { env.server.stop() }
        let isp1 = try #require(env.tokens["isp1"])
        #expect(try APITests.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: "198.51.100.1\n198.51.100.2\nspam.example\n").status == 200)
        let report = #"{"key": "203.0.113.9", "category": "fraud", "reason": "phishing"}"#
        #expect(try APITests.call(env, "POST", "/v1/reports", body: report, contentType: "application/json", from: "127.0.0.71").status == 200)
        let since = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-84 * 86400))
        let figures = try APITests.call(env, "GET", "/v1/stats?since=\(since)").json
        let current = (figures["listings"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["current"] as? Int ?? 0) }
        let received = (figures["reports"] as? [[String: Any]] ?? []).reduce(0) { $0 + ($1["reports"] as? Int ?? 0) }
        #expect(current == 3 && received == 4, "\(figures)")

        let page = try APITests.call(env, "GET", "/stats?lang=en")
        Self.html(page, "statistics")
        let charts = page.body.components(separatedBy: "<svg").dropFirst().map { $0.components(separatedBy: "</svg>")[0] }
        try #require(charts.count == 2, "two charts")
        struct Segment { let period: String, part: String, value: Int, height: Double }
        func segments(_ svg: String) -> [Segment] {
            svg.matches(of: /height="([\d.]+)" fill="#[0-9a-f]+" data-period="([^"]+)" data-part="([a-z]+)" data-value="(\d+)"/).map {
                Segment(period: String($0.2), part: String($0.3), value: Int($0.4)!, height: Double($0.1)!)
            }
        }
        let listings = segments(charts[0]), reports = segments(charts[1])
        let lastDay = listings.map(\.period).max() ?? ""
        #expect(listings.filter { $0.period == lastDay }.reduce(0) { $0 + $1.value } == current, "\(listings)")
        #expect(Set(listings.filter { $0.period == lastDay }.map(\.part)) == ["spam"])
        #expect(reports.reduce(0) { $0 + $1.value } == received, "\(reports)")
        #expect(Set(reports.map(\.part)) == ["isp", "public"])
        for (svg, segs) in zip(charts, [listings, reports]) {
            let top = Double(try #require(svg.firstMatch(of: /data-scale-top="(\d+)"/)).1)!
            for s in segs { #expect(abs(s.height - Double(s.value) * 200 / top) < 0.11, "\(s.period) \(s.part): \(s.height) for \(s.value) of \(top)") }
        }
        #expect(page.body.contains("Reports received each week, by source"), "the charts' titles in the page's language")
        #expect(try APITests.call(env, "GET", "/stats").body.contains("Báo cáo nhận được mỗi tuần"))
    }

    /// A citizen in a real headless Chromium (Debian's, driven by Playwright, JavaScript off)
    /// looks up a listed address, an unlisted one and a domain through the search box, in both
    /// languages; an operator then signs in and accepts a removal request, and the address stops
    /// being answered over DNS; screenshots go to .build/artifacts/portal.
    @Test func aCitizenLooksUpInChromium() throws {
        // The portal behind a reverse proxy on loopback: three browsers are three citizens.
        let env = try APITests.Env(serve: #"trusted_proxies = ["127.0.0.1"]"#)
        defer { env.server.stop() }
        let isp1 = try #require(env.tokens["isp1"])
        #expect(try APITests.call(env, "POST", "/v1/feeds/isp1", token: isp1, body: "198.51.100.9 open relay\n").status == 200)
        let add = try CLITests.run("/bin/sh", ["-c", "echo 'correct horse battery' | \"$0\" operators add alice --config \"$1\"", thuracBinary, env.config])
        #expect(add.status == 0, "\(add.err)")
        let shots = APITests.repo.appendingPathComponent(".build/artifacts/portal").path
        let r = try CLITests.run(
            "/usr/bin/env",
            ["python3", APITests.repo.appendingPathComponent("Tests/IntegrationTests/Portal/browser_check.py").path,
             "http://127.0.0.1:\(env.http)", "198.51.100.9", shots, "\(env.server.port)", "alice", "correct horse battery"])
        #expect(r.status == 0, "\(r.out) \(r.err)")
        // What it printed (the time from accepting a request to DNS's empty answer), kept with
        // the screenshots.
        try? r.out.write(toFile: "\(shots)/browser_check.txt", atomically: true, encoding: .utf8)
        for page in [
            "home-vi", "home-en", "lookup-listed-vi", "lookup-listed-en", "lookup-unlisted-en", "lookup-domain-vi", "report-form-vi", "report-done-en",
            "delisting-form-en", "delisting-created-vi", "delisting-status-en", "stats-vi", "stats-en",
            "operator-login-en", "operator-dashboard-en", "delisting-answered-en", "report-published-en", "console-reports-vi",
            "console-listings-en", "console-audit-vi", "console-report-en", "console-sources-vi", "console-confirmed-en",
        ] {
            #expect(FileManager.default.fileExists(atPath: "\(shots)/\(page).png"), "\(page).png")
        }
    }
}
