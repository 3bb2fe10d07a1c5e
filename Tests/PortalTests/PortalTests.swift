import Foundation
import Testing

@testable import Portal

/// The portal's words and its choice of language, without a server.
@Suite struct PortalTests {
    static let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/Portal/Resources")

    static func table(_ language: String) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(contentsOf: resources.appendingPathComponent("locales/\(language).json")))
    }

    /// Every `{{t.key}}` of every template is in both languages, and both have the same keys:
    /// no page shows a key instead of words.
    @Test func everyTemplateKeyIsTranslated() throws {
        let vi = try Self.table("vi"), en = try Self.table("en")
        #expect(Set(vi.keys) == Set(en.keys), "only in vi: \(Set(vi.keys).subtracting(en.keys)), only in en: \(Set(en.keys).subtracting(vi.keys))")
        let dir = Self.resources.appendingPathComponent("templates")
        var used = Set<String>()
        for f in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            let text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            for m in text.matches(of: /\{\{[#^\/]?t\.([a-z_]+)\}\}/) { used.insert(String(m.1)) }
        }
        #expect(used.count > 20, "the templates use the tables")
        for key in used.sorted() {
            #expect(vi[key]?.isEmpty == false && en[key]?.isEmpty == false, "\(key) is not in both languages")
        }
        // Words the code looks up by name (categories, kinds, states, errors).
        for key in ["category_spam", "category_fraud", "category_malware", "category_advertising", "category_harmful", "category_manual",
            "kind_agency", "kind_isp", "kind_public", "kind_operator", "state_expired", "state_delisted", "state_superseded",
            "error_not_found", "error_method", "error_other", "lookup_listed", "lookup_not_listed", "lookup_not_a_key", "lookup_empty"]
        {
            #expect(vi[key] != nil && en[key] != nil, "\(key)")
        }
    }

    @Test(arguments: [
        (nil, nil, Language.vi, false), ("en", nil, .en, true), ("EN", "vi", .en, true), ("vi", "en-US,en;q=0.9", .vi, true),
        ("fr", "en", .en, false), (nil, "en-US,en;q=0.9,vi;q=0.8", .en, false), (nil, "vi-VN,vi;q=0.9,en;q=0.5", .vi, false),
        (nil, "fr-FR,fr;q=0.9", .vi, false), (nil, "en;q=0.2,vi;q=0.8", .vi, false), (nil, "eng,fr", .vi, false),
        (nil, "en;q=0", .vi, false),
    ] as [(String?, String?, Language, Bool)])
    func theLanguageIsChosen(_ query: String?, _ accept: String?, _ want: Language, _ explicit: Bool) {
        let c = Language.choose(query: query, acceptLanguage: accept)
        #expect(c.language == want && c.explicit == explicit)
    }
}

@Suite struct FormFieldsTests {
    @Test(arguments: [
        ("q=+198.51.100.0%2F24+", "q", " 198.51.100.0/24 "), ("q=a+b%2Bc", "q", "a b+c"), ("lang=en&q=x&q=y", "q", "x"),
        ("q", "q", ""), ("q=%E1%BB%87", "q", "ệ"), ("a=1", "q", nil), ("q=%G1", "q", nil), ("q=%FF", "q", nil), ("q=%4", "q", nil),
    ] as [(String, String, String?)])
    func fieldsAreDecodedAsBrowsersEncodeThem(_ text: String, _ name: String, _ want: String?) {
        #expect(FormFields(text)[name] == want)
    }
}
