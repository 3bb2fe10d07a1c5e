import ListingKeys

/// What must hold for any input, however hostile: checked by the fuzz target on every input
/// and by the test that replays its corpus. A violation stops the process (precondition).
public enum MailInvariants {
    public static func check(_ bytes: [UInt8], settings: IntakeSettings) {
        let message = MIMEEntity.parse(bytes)
        var entities = 0
        message.walk { e in
            entities += 1
            precondition(e.body.startIndex >= 0, "a body outside its input")
            _ = e.text
            for (name, value) in e.headers {
                precondition(!name.isEmpty && !name.contains(":"), "a header name with a colon")
                _ = EncodedWords.decode(value)
                if name == "received" {
                    let hop = ReceivedHop(value)
                    if let a = hop.address, let text = hop.addressText {
                        precondition((try? KeySpec(parsing: text).key) == a, "a hop's address is not its text")
                    }
                }
            }
        }
        precondition(entities <= MIMEEntity.maxParts + 1 + MIMEEntity.maxDepth, "more parts than the limit")
        for a in ForwardedSpam.analyse(message, forwarder: "fuzz@example.net", settings: settings) {
            precondition(a.domains.count <= settings.maxDomains, "the domain cap did not hold")
            for d in a.domains {
                precondition(settings.suffixes.registrableDomain(d) == d, "a reported domain that is not registrable: \(d)")
                precondition(LinkHosts.isHostName(d) && !settings.neverReported.contains(d), "a bad or excluded domain: \(d)")
            }
            if let ip = a.sourceIP { precondition(SpecialAddresses.why(ip) == nil, "a private source address: \(ip)") }
            for s in a.senders { precondition(s.contains("@") && s == s.lowercased(), "a sender that is not a lower-case address") }
            precondition(a.sourceIP == nil || a.hop != nil || a.found == .arf, "a source without its hop")
        }
    }
}
