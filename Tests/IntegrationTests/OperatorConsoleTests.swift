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
        #expect(accepted.status == 303 && accepted.headers["location"] == "/operator?lang=en", "\(accepted.status) \(accepted.body)")
        #expect(eventually { !APITests.listed(env, "198.51.100.99") }, "removed from DNS")
        let audit = try CLITests.run("/usr/bin/python3", ["-c", "import sqlite3,sys; print('\\n'.join('|'.join(map(str, r)) for r in sqlite3.connect(sys.argv[1]).execute('SELECT actor, action, subject FROM audit')))", env.dir + "/thurac.db"])
        #expect(audit.out.contains("operator:alice|delisting.accept|198.51.100.99") && audit.out.contains("operator:alice|operator.signin|alice"), "\(audit.out)")

        // Signing out ends the session.
        let out = try post("/operator/logout?lang=en", "", session: session)
        #expect(out.status == 303 && out.headers["location"] == "/operator/login?lang=en")
        let after = try APITests.call(env, "GET", "/operator", headers: ["Cookie: thurac_session=\(session)"])
        #expect(after.status == 303, "the old cookie no longer signs in")
    }
}
