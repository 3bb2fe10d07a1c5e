import Foundation
import ListingKeys
import MailIntake
import Store
import Testing

/// Forwarded spam as it arrives: message vectors under `Messages/`, one expectation each.
@Suite struct ForwardedSpamTests {
    static let messages = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Messages")
    static let suffixes = try! PublicSuffixList()
    static let settings: IntakeSettings = {
        var s = IntakeSettings(trustedRelays: try! TrustedRelays(["198.51.100.0/24", ".vnpt.vn", "mx.fpt.example"]), suffixes: suffixes)
        s.maxDomains = 50
        return s
    }()

    static func load(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: messages.appendingPathComponent(name)))
    }

    static func analyse(_ name: String, forwarder: String = "citizen@gmail.com") throws -> [SpamAnalysis] {
        ForwardedSpam.analyse(MIMEEntity.parse(try load(name)), forwarder: forwarder, settings: settings)
    }

    struct Expected: Sendable, CustomStringConvertible {
        var file: String
        var found: SpamAnalysis.Found
        var source: String?
        var senders: [String]
        var domains: [String]
        var label: String? = nil
        var description: String { file }
    }

    @Test(arguments: [
        Expected(
            file: "attachment.eml", found: .attachment, source: "203.0.113.7",
            senders: ["bounce@bulk.spam-sender.example", "promo@spam-sender.example"],
            domains: ["example.com.vn", "second-spam.example", "bit.ly", "evil-redirect.example", "spam-host.example", "xn--khuyn-mi-xza0557e.vn"],
            label: "[QC]"),
        Expected(
            file: "nested.eml", found: .attachment, source: "203.0.113.7",
            senders: ["bounce@bulk.spam-sender.example", "promo@spam-sender.example"],
            domains: ["example.com.vn", "second-spam.example", "bit.ly", "evil-redirect.example", "spam-host.example", "xn--khuyn-mi-xza0557e.vn"],
            label: "[QC]"),
        Expected(file: "arf.eml", found: .arf, source: "198.18.7.9", senders: ["sender@arf-spammer.example"], domains: ["arf-landing.example"]),
        Expected(file: "inline.eml", found: .inline, source: nil, senders: ["winner@prize-scam.example"], domains: ["prize-scam.example"]),
        Expected(file: "not-mime.eml", found: .inline, source: nil, senders: ["deals@plain-spammer.example"], domains: ["plain-deals.example"]),
        Expected(file: "ipv6.eml", found: .attachment, source: "2001:db8:5::7", senders: ["v6@spam6.example"], domains: ["v6-landing.example"]),
        Expected(file: "private-hop.eml", found: .attachment, source: nil, senders: [], domains: []),
        Expected(
            file: "windows-1258.eml", found: .attachment, source: "203.0.113.80", senders: ["sale@giam-gia.example.vn"],
            domains: ["example.vn"], label: "[ADV]"),
    ])
    func vectors(_ e: Expected) throws {
        let all = try Self.analyse(e.file)
        let a = try #require(all.first, "nothing found in \(e.file)")
        #expect(all.count == 1)
        #expect(a.found == e.found)
        #expect(a.sourceIP?.description == e.source, "\(a.sourceNote ?? "")")
        #expect(a.senders == e.senders)
        #expect(a.domains == e.domains)
        #expect(a.advertisingLabel == e.label)
    }

    @Test func forgedLowerHopsAndTheForwardersOwnTextAreIgnored() throws {
        let a = try #require(try Self.analyse("attachment.eml").first)
        // 192.0.2.99 in the third (forged) hop; gmail.com in the forwarder's own words.
        #expect(a.hop?.addressText == "203.0.113.7")
        #expect(!a.domains.contains("gmail.com") && !a.domains.contains("vnpt.vn"))
        #expect(a.subject == "[QC] Khuyến mãi lớn")
        #expect(a.messageID == "<20261130.spam.1@spam-sender.example>")
    }

    @Test func vietnameseInWindows1258IsDecoded() throws {
        let a = try #require(try Self.analyse("windows-1258.eml").first)
        #expect(a.subject?.precomposedStringWithCanonicalMapping == "[ADV] Giảm giá")
    }

    @Test func aPrivateFirstUntrustedHopIsNeverReported() throws {
        let a = try #require(try Self.analyse("private-hop.eml").first)
        #expect(a.sourceIP == nil)
        #expect(a.sourceNote?.contains("192.168.10.5 is private") == true, "\(a.sourceNote ?? "")")
    }

    @Test func notAMessageAtAll() throws {
        #expect(!MIMEEntity.looksLikeMessage(try Self.load("not-a-message.txt")))
        #expect(!MIMEEntity.looksLikeMessage([]))
        #expect(MIMEEntity.looksLikeMessage(try Self.load("not-mime.eml")))
    }

    /// A message with 5,000 links: the cap on domains holds, and every link was looked at.
    @Test func theDomainCapHolds() throws {
        let links = (0..<5000).map { "http://host\($0).spam\($0 % 700).example/x" }.joined(separator: "\n")
        let raw = Array("From: a@b.example\nSubject: x\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: message/rfc822\n\nFrom: s@spam.example\nSubject: many\n\n\(links)\n--z--\n".utf8)
        let a = try #require(ForwardedSpam.analyse(MIMEEntity.parse(raw), forwarder: "a@b.example", settings: Self.settings).first)
        #expect(a.domains.count == 50)
        #expect(a.domains.first == "spam0.example")
        #expect(a.linksSeen == 5000)
    }

    /// A 10 MB message (a large attachment inside the spam) is read whole, and its text found.
    @Test func aTenMegabyteMessage() throws {
        let blob = String(repeating: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n", count: 280_000)
        var raw = "From: a@b.example\nSubject: x\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: message/rfc822\n\n"
        raw += "Received: from big.example (big.example [203.0.113.99]) by mx1.vnpt.vn\nFrom: s@big-spam.example\nContent-Type: multipart/mixed; boundary=y\n\n"
        raw += "--y\nContent-Type: text/plain\n\nsee http://big-spam.example/\n--y\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n\(blob)--y--\n--z--\n"
        #expect(raw.utf8.count > 10_000_000)
        let a = try #require(ForwardedSpam.analyse(MIMEEntity.parse(Array(raw.utf8)), forwarder: "a@b.example", settings: Self.settings).first)
        #expect(a.sourceIP?.description == "203.0.113.99")
        #expect(a.domains == ["big-spam.example"])
    }
}

/// Received fields as real servers write them.
@Suite struct ReceivedHopTests {
    @Test(arguments: [
        ("from mail.example (unknown [203.0.113.7]) by mx1.vnpt.vn (Postfix) with ESMTP id X", "203.0.113.7", nil as String?, "mx1.vnpt.vn"),
        ("from helo.example (rdns.example.net [203.0.113.8]) by mx.example", "203.0.113.8", "rdns.example.net", "mx.example"),
        ("from rdns.example.org ([203.0.113.9] helo=whatever) by mx.example with esmtp (Exim 4.96)", "203.0.113.9", "rdns.example.org", "mx.example"),
        ("from spam6.example ([IPv6:2001:db8:5::7] helo=spam6.example) by mx.fpt.example", "2001:db8:5::7", "spam6.example", "mx.fpt.example"),
        ("from EXCH01.corp.example (10.1.2.3) by EXCH02.corp.example (10.1.2.4) with Microsoft SMTP Server", "10.1.2.3", nil, "exch02.corp.example"),
        ("from unknown (HELO bogus) (203.0.113.10) by qmail.example with SMTP", "203.0.113.10", nil, "qmail.example"),
        ("by localhost with local; Mon, 30 Nov 2026 08:00:00 +0700", nil, nil, nil),
        ("from [192.0.2.1] (may.be.forged [198.51.100.3] (may be forged)) by sendmail.example", "198.51.100.3", "may.be.forged", "sendmail.example"),
    ] as [(String, String?, String?, String?)])
    func parses(_ field: String, _ address: String?, _ host: String?, _ by: String?) {
        let hop = ReceivedHop(field)
        #expect(hop.addressText == address)
        #expect(hop.host == host)
        #expect(hop.by == by)
    }

    /// The HELO name is the client's own word: it never makes a hop trusted.
    @Test func aHeloNameIsNotTrusted() throws {
        let relays = try TrustedRelays(["mx1.vnpt.vn"])
        #expect(!relays.trusts(ReceivedHop("from mx1.vnpt.vn (unknown [203.0.113.7]) by mx2.vnpt.vn")))
        #expect(relays.trusts(ReceivedHop("from x (mx1.vnpt.vn [203.0.113.7]) by mx2.vnpt.vn")))
        let chain = [
            "from a (mx1.vnpt.vn [203.0.113.1]) by store.vnpt.vn", "from mx1.vnpt.vn (unknown [203.0.113.2]) by mx1.vnpt.vn",
            "from x (x [203.0.113.3]) by forged.example",
        ]
        #expect(SourceFinder.source(chain, trusted: relays) == .source(.ipv4(first: 0xCB00_7102, last: 0xCB00_7102), hop: ReceivedHop(chain[1])))
    }
}

/// Names as reported: registrable domains by the Public Suffix List, Unicode names as A-labels.
@Suite struct DomainNameTests {
    @Test(arguments: [
        ("www.example.com.vn", "example.com.vn"), ("example.com.vn", "example.com.vn"), ("com.vn", nil),
        ("a.b.example.co.uk", "example.co.uk"), ("shop.example", "shop.example"), ("x.y.unknowntld", "y.unknowntld"),
        ("foo.bar.ck", "foo.bar.ck"), ("www.ck", "www.ck"), ("a.www.ck", "www.ck"), ("vn", nil), ("gov.vn", nil),
        ("ninhthuan.gov.vn", "ninhthuan.gov.vn"), ("thurac.ninhthuan.gov.vn", "ninhthuan.gov.vn"),
    ] as [(String, String?)])
    func registrableDomains(_ name: String, _ registrable: String?) throws {
        #expect(ForwardedSpamTests.suffixes.registrableDomain(name) == registrable)
    }

    @Test(arguments: [
        ("khuyến-mãi.vn", "xn--khuyn-mi-xza0557e.vn"), ("Bücher.example", "xn--bcher-kva.example"),
        ("giảmgiá.com", "xn--gimgi-1qa6344c.com"), ("plain.example", "plain.example"), ("MÜNCHEN.de", "xn--mnchen-3ya.de"),
    ])
    func idnaALabels(_ unicode: String, _ ascii: String) {
        #expect(IDNA.asciiName(unicode) == ascii)
    }

    @Test func linksAsWritten() {
        let html = #"<a href="http&#58;//user:pw@Evil.Example:8080/x">x</a> <a href='https://bit.ly/abc'>s</a> www.plain.example/x hxxp://defanged.example/ http://203.0.113.5/ip"#
        #expect(LinkHosts.hosts(in: html, html: true, limit: 10) == ["evil.example", "bit.ly", "www.plain.example", "defanged.example"])
    }
}

/// Forwards into a store: one report per key and reporter, the public policy, bound mailboxes,
/// the per-forwarder limit, the kept message.
@Suite struct IntakeStoreTests {
    let store: ListingStore
    let intake: MailIntake
    let t0 = 1_800_000_000

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thurac-intake-\(UUID().uuidString)/t.db").path
        store = try ListingStore(path: path)
        _ = try store.addSource(name: "vnpt", kind: .isp, ttl: nil, now: t0, actor: "test")
        var i = MailIntake(store: store, settings: ForwardedSpamTests.settings)
        i.mailboxes = ["spam@vnpt.vn": "vnpt"]
        i.perHour = 3
        intake = i
    }

    func state(_ key: String) throws -> [String] { try store.listings(key: key).map(\.state) }

    @Test func threeForwardersPublishTheSource() throws {
        let raw = try ForwardedSpamTests.load("attachment.eml")
        for (n, forwarder) in ["a@gmail.com", "b@gmail.com", "c@yahoo.example"].enumerated() {
            let r = try intake.accept(raw, sender: forwarder, recipient: "spam@thurac.ninhthuan.gov.vn", category: nil, now: t0 + n)
            #expect(r.counts != nil, "\(r.summary)")
            #expect(try state("203.0.113.7") == [n < 2 ? "pending" : "published"], "after \(n + 1) forwarder(s)")
        }
        // Labelled [QC]: advertising; the sender's hashed address and domain are reported too.
        #expect(try store.listings(key: "203.0.113.7").map(\.category) == ["advertising"])
        #expect(try state("promo@spam-sender.example") == ["published"])
        #expect(try state("spam-sender.example") == ["published"])
        #expect(try state("example.com.vn") == ["published"])
        // A public lookup names no forwarder; the evidence names the spam and the hop.
        let reporters = try store.reporters(key: "203.0.113.7")
        #expect(reporters.count == 3 && reporters.allSatisfy { $0.source.hasPrefix("mail-") && !$0.source.contains("gmail") })
        let evidence = try #require(reporters.first?.evidence)
        #expect(evidence.contains("Message-ID <20261130.spam.1@spam-sender.example>"), "\(evidence)")
        #expect(evidence.contains("hop: 203.0.113.7 (no name) to mx1.vnpt.vn") && !evidence.contains("victim@"), "\(evidence)")
        // The message is kept, as forwarded.
        let kept = try store.intakeMessages()
        #expect(kept.count == 3 && kept.allSatisfy { $0.record.messageID == "<20261130.spam.1@spam-sender.example>" })
        let first = try #require(try store.intakeMessage(String(kept[2].record.digest.prefix(12))))
        #expect(try MailIntake.decompress(first.record.compressed, size: first.record.size) == raw)
        #expect(first.record.reporter == "a@gmail.com")
    }

    @Test func aMailboxBoundToAnISPPublishesAtOnce() throws {
        let r = try intake.accept(try ForwardedSpamTests.load("ipv6.eml"), sender: "customer@fpt.example", recipient: "Spam@VNPT.vn", category: .malware, now: t0)
        #expect(r.source == "vnpt")
        #expect(try state("2001:db8:5::7") == ["published"])
        #expect(try store.listings(key: "2001:db8:5::7").map(\.category) == ["malware"], "the category asked for wins")
    }

    @Test func theForwarderLimitCountsNothingMore() throws {
        let raw = try ForwardedSpamTests.load("windows-1258.eml")
        for n in 0..<3 {
            #expect(try intake.accept(raw + Array("\n\(n)".utf8), sender: "busy@gmail.com", recipient: nil, category: nil, now: t0 + n).counts != nil)
        }
        let fourth = try intake.accept(raw + Array("\n4".utf8), sender: "busy@gmail.com", recipient: nil, category: nil, now: t0 + 10)
        #expect(fourth.rateLimited && fourth.counts == nil)
        #expect(try store.intakeMessages().count == 3)
        // An hour later it counts again.
        #expect(try intake.accept(raw + Array("\n5".utf8), sender: "busy@gmail.com", recipient: nil, category: nil, now: t0 + 3700).counts != nil)
    }

    @Test func nothingToReportRecordsNothing() throws {
        let r = try intake.accept(try ForwardedSpamTests.load("private-hop.eml"), sender: "x@vnpt.vn", recipient: nil, category: nil, now: t0)
        #expect(r.counts == nil && r.summary.contains("nothing to report"))
        #expect(try store.intakeMessages().isEmpty)
        #expect(try store.sources().map(\.name) == ["vnpt"], "no reporter source made for nothing")
        #expect(throws: IntakeError.notAMessage) {
            try intake.accept(try ForwardedSpamTests.load("not-a-message.txt"), sender: "x@vnpt.vn", recipient: nil, category: nil, now: t0)
        }
    }

    @Test func allowlistedDomainsAreNotReported() throws {
        try store.allow(try KeySpec(parsing: "bit.ly"), reason: "shortener", now: t0, actor: "test")
        let r = try intake.accept(try ForwardedSpamTests.load("attachment.eml"), sender: "a@gmail.com", recipient: nil, category: nil, now: t0)
        #expect(r.counts?.allowlisted == 1, "\(r.summary)")
        #expect(try store.listings(key: "bit.ly").isEmpty)
    }
}

/// The fuzz target's corpus (Fuzz/MailParserFuzz.swift, `Tools/fuzz mail`), replayed with the
/// target's own invariants: parts within the limits, reported domains registrable and not
/// excluded, the cap held, no private source address, a hop for every source.
@Suite struct MailCorpusTests {
    @Test func replaysTheCorpusWithItsInvariants() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        var replayed = 0
        for sub in ["Corpus", "Messages"] {
            let d = dir.appendingPathComponent(sub)
            for f in try FileManager.default.contentsOfDirectory(atPath: d.path).sorted() {
                MailInvariants.check([UInt8](try Data(contentsOf: d.appendingPathComponent(f))), settings: ForwardedSpamTests.settings)
                replayed += 1
            }
        }
        #expect(replayed >= 50)
    }
}
