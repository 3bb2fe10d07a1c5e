/// One rule of a query ACL (`[acl] rules`, `[[zone]] acl`): what clients in `from` get.
public struct QueryRule: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Answered as usual (and no later rule applies).
        case allow
        /// REFUSED.
        case refuse
        /// No answer at all.
        case ignore
        /// Every name unlisted: NXDOMAIN (or the apex's records).
        case empty
        /// Every name listed with this A record (127.255.255.254: "query through your own
        /// resolver, not a public one", as Spamhaus tells misconfigured users).
        case answer(UInt32)
    }

    public var from: ClientPrefix
    public var action: Action

    public init(from: ClientPrefix, action: Action) {
        self.from = from
        self.action = action
    }

    /// What a fixed answer says in TXT; `$` is the client's address.
    public static let answerText = "Not answered for $: query through your own resolver, not a public one"
}

extension AccessList {
    /// An access list where the first rule that matches a client decides, as the
    /// configuration's rules read (zone rules come before global ones); nil for no rules.
    public static func firstMatch(_ rules: [QueryRule]) -> AccessList? {
        guard !rules.isEmpty else { return nil }
        var actions: [AccessAction] = []
        var values = ValueTableBuilder()
        var v4: [AddressInterval<UInt32>] = []
        var v6: [AddressInterval<UInt128>] = []
        // Laid from the last rule up: each earlier rule covers what comes after it.
        for rule in rules.reversed() {
            let action: AccessAction
            switch rule.action {
            case .allow: action = .pass
            case .refuse: action = .refuse
            case .ignore: action = .ignore
            case .empty: action = .empty
            case .answer(let a):
                action = .always(values.intern(AnswerValue(address: a, template: TemplateCompiler().compile(Array(QueryRule.answerText.utf8)))))
            }
            let ref = ValueRef.value(actions.count)
            actions.append(action)
            let p = rule.from
            if p.isIPv6 {
                let last = p.bits | ~ClientPrefix.mask(p.length, width: 128)
                v6 = IntervalAlgebra.overlay(v6, [AddressInterval(start: p.bits, end: last, ref: ref)])
            } else {
                let first = UInt32(truncatingIfNeeded: p.bits)
                let last = first | ~UInt32(truncatingIfNeeded: ClientPrefix.mask(p.length, width: 32))
                v4 = IntervalAlgebra.overlay(v4, [AddressInterval(start: first, end: last, ref: ref)])
            }
        }
        return AccessList(ipv4: IntervalMap(v4), ipv6: IntervalMap(v6), actions: actions, alwaysValues: values.build())
    }
}
