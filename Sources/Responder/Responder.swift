import DNSWire
import Listings

/// What happened to one query, for counters and the query log.
public struct ResponseSummary: Sendable {
    /// Octets of the response in the buffer; 0 means "send nothing".
    public var length: Int
    /// Index into `snapshot.zones`, or -1 when no zone matched.
    public var zoneIndex: Int
    public var rcode: RCode
    public var answerCount: Int
    /// The key was listed (a positive answer from the data, not apex metadata).
    public var listed: Bool
    /// Not answered here: a zone transfer or a TSIG-signed message, for the transfer handler.
    public var handedOff = false
    /// The question's type (0 when the packet had no question we read).
    public var qtype: UInt16 = 0
    /// Where the echoed question ends in the response (the header's end when there is none).
    public var questionEnd = WireLimits.headerLength
    /// The parsed query of a handed-off message: the transfer code reads it instead of parsing
    /// the message again.
    public var handedOffQuery: Query? = nil

    public static let dropped = ResponseSummary(length: 0, zoneIndex: -1, rcode: .noError, answerCount: 0, listed: false)
    static func handOff(_ query: Query) -> ResponseSummary {
        ResponseSummary(
            length: 0, zoneIndex: -1, rcode: .noError, answerCount: 0, listed: false, handedOff: true, qtype: query.type.rawValue,
            handedOffQuery: query)
    }
}

public struct ResponderOptions: Sendable {
    /// UDP payload size we advertise and accept at most (RFC 6891 §6.2.5).
    public var udpPayloadSize: Int
    /// TXT answer to `version.bind`/`version.server` CH TXT; nil answers REFUSED.
    public var versionText: [UInt8]?
    /// Zone transfers and TSIG-signed messages are answered by a transfer handler: hand them
    /// off (`ResponseSummary.handedOff`) instead of refusing transfers and ignoring TSIG.
    public var handOffTransfers = false

    public init(udpPayloadSize: Int = WireLimits.advertisedUDPPayload, versionText: [UInt8]? = Array("thurac".utf8)) {
        self.udpPayloadSize = udpPayloadSize
        self.versionText = versionText
    }
}

/// Answers one query in place: parse, find the zone, decide listed/not listed, write the answer.
/// Allocates nothing and takes no lock; the snapshot it reads is immutable.
public struct Responder: Sendable {
    public var options: ResponderOptions

    public init(options: ResponderOptions = ResponderOptions()) {
        self.options = options
    }

    public func respond(
        packet: UnsafeMutableRawBufferPointer, length: Int, overTCP: Bool, client: ClientAddress,
        snapshot: ServingSnapshot
    ) -> ResponseSummary {
        let query: Query
        switch QueryParser.parse(UnsafeRawBufferPointer(rebasing: packet[0..<length])) {
        case .success(let q): query = q
        case .failure(.drop): return .dropped
        case .failure(.formatError(let end)):
            return errorResponse(packet, questionEnd: end, rcode: .formErr)
        case .failure(.notImplemented(let end)):
            return errorResponse(packet, questionEnd: end, rcode: .notImp)
        }
        if options.handOffTransfers, query.tsigOffset != nil || query.type == .axfr || query.type == .ixfr { return .handOff(query) }

        // Size limits: the client's EDNS buffer (at least 512, at most ours), 512 without EDNS,
        // 65535 over TCP. Room for our OPT is kept back while the sections are written.
        var limit: Int
        if overTCP {
            limit = WireLimits.maxTCPMessage
        } else if query.edns.present {
            limit = max(WireLimits.classicUDPPayload, min(Int(query.edns.udpPayloadSize), options.udpPayloadSize))
        } else {
            limit = WireLimits.classicUDPPayload
        }
        let optRoom = query.edns.present ? ResponseWriter.optLength : 0
        var w = ResponseWriter(buffer: packet, limit: limit - optRoom, position: query.questionEnd)
        w.setCount(Header.anCount, 0)
        w.setCount(Header.nsCount, 0)
        w.setCount(Header.arCount, 0)

        if query.edns.present && query.edns.version > 0 {
            // RFC 6891 §6.1.3: BADVERS, with our highest version (0) in the OPT.
            return finish(&w, query: query, rcode: .badVers, authoritative: false, zoneIndex: -1, listed: false)
        }

        if query.class != .in && query.class != .any {
            if query.class == .chaos { return answerChaos(&w, query: query) }
            return finish(&w, query: query, rcode: .refused, authoritative: false, zoneIndex: -1, listed: false)
        }

        let p = UnsafeRawBufferPointer(packet)
        let nameStart = query.questionNameOffset
        // Find the zone: longest origin that is a label-aligned suffix of the question name.
        var zoneIndex = -1
        var originStart = 0
        for (i, zone) in snapshot.zones.enumerated() where zone.originLabelCount <= query.labelCount {
            let start = labelOffset(p, from: nameStart, skipping: query.labelCount - zone.originLabelCount)
            if equalFolded(p, at: start, to: zone.origin) {
                zoneIndex = i
                originStart = start
                break
            }
        }
        guard zoneIndex >= 0 else {
            return finish(&w, query: query, rcode: .refused, authoritative: false, zoneIndex: -1, listed: false)
        }
        let zone = snapshot.zones[zoneIndex]

        // Access lists: the global one, then the zone's (rbldnsd order: ignore, refuse, empty, always).
        var ignoreData = false
        var always: (table: ValueTable, ref: ValueRef)? = nil
        var aclVerdict = ACLVerdict.pass
        if let acl = snapshot.globalACL { applyACL(acl, client: client, &aclVerdict, &ignoreData, &always) }
        if let acl = zone.acl { applyACL(acl, client: client, &aclVerdict, &ignoreData, &always) }
        switch aclVerdict {
        case .ignore: return .dropped
        case .refuse:
            return finish(&w, query: query, rcode: .refused, authoritative: false, zoneIndex: zoneIndex, listed: false)
        case .pass: break
        }

        if query.type == .axfr || query.type == .ixfr {
            // Without a transfer handler (rbldnsd mode) nobody may transfer.
            return finish(&w, query: query, rcode: .refused, authoritative: false, zoneIndex: zoneIndex, listed: false)
        }

        // AA only for class IN: a QCLASS=ANY answer covers classes we are not authoritative for.
        let inClass = query.class == .in
        let relativeLabels = query.labelCount - zone.originLabelCount
        var ctx = AnswerContext(query: query, zone: zone, overflow: false)

        if relativeLabels == 0 {
            switch query.type {
            case .soa, .any: addSOA(&w, &ctx, originStart: originStart, section: Header.anCount, ttl: zone.soa.ttl)
            case .ns: addNS(&w, &ctx, originStart: originStart)
            default: break
            }
        }

        // Pick the subzone (combined datasets), longest first.
        var found = relativeLabels == 0
        var listed = false
        for sub in zone.subzones where sub.labelCount <= relativeLabels {
            let subStart = labelOffset(p, from: nameStart, skipping: relativeLabels - sub.labelCount)
            guard equalFoldedLabels(p, at: subStart, length: originStart - subStart, to: sub.labels) else { continue }
            let keyLabels = relativeLabels - sub.labelCount
            let keyLength = subStart - nameStart
            if keyLabels == 0 { found = true }
            for ds in sub.datasets {
                if let records = ds.records, let range = records.entry(p, from: nameStart, count: keyLength) {
                    found = true
                    addRecords(&w, &ctx, records: records, range: range)
                }
                if ignoreData || keyLabels == 0 { continue }
                if lookupDataset(ds, &w, &ctx, p: p, keyStart: nameStart, keyLength: keyLength, keyLabels: keyLabels) {
                    found = true
                    listed = true
                } else if !found && isEmptyNonTerminal(ds, p: p, keyStart: nameStart, keyLength: keyLength, keyLabels: keyLabels) {
                    found = true
                }
            }
            if let always, keyLabels > 0 {
                // rbldnsd: the ACL's value answers for every query; `$` is the client's address.
                found = true
                listed = true
                switch client {
                case .v4(let a): addValues(&w, &ctx, table: always.table, ref: always.ref, key: .ipv4(a), ttl: zone.soa.ttl)
                case .v6(let a): addValues(&w, &ctx, table: always.table, ref: always.ref, key: .ipv6(a), ttl: zone.soa.ttl)
                case .unknown: break
                }
            }
            break
        }

        if ctx.overflow {
            // RFC 2181 §9: never a partial RRset; an empty truncated answer makes the client use TCP.
            w.rewind(to: query.questionEnd)
            w.setCount(Header.anCount, 0)
            w.setCount(Header.nsCount, 0)
            w.setCount(Header.arCount, 0)
            return finish(
                &w, query: query, rcode: .noError, authoritative: inClass, zoneIndex: zoneIndex, listed: listed,
                truncated: true)
        }
        if !found {
            addSOA(&w, &ctx, originStart: originStart, section: Header.nsCount, ttl: zone.soa.negativeTTL)
            return finish(&w, query: query, rcode: .nxDomain, authoritative: inClass, zoneIndex: zoneIndex, listed: false)
        }
        if w.count(Header.anCount) == 0 {
            addSOA(&w, &ctx, originStart: originStart, section: Header.nsCount, ttl: zone.soa.negativeTTL)
        } else {
            equaliseTTLs(&w, from: query.questionEnd)
        }
        return finish(&w, query: query, rcode: .noError, authoritative: inClass, zoneIndex: zoneIndex, listed: listed)
    }

    // MARK: - data

    enum ACLVerdict { case pass, refuse, ignore }

    /// rbldnsd's precedence across the global and the zone ACL: ignore, then refuse, then empty,
    /// then an always-listed value (the global one first).
    private func applyACL(
        _ acl: AccessList, client: ClientAddress, _ verdict: inout ACLVerdict, _ ignoreData: inout Bool,
        _ always: inout (table: ValueTable, ref: ValueRef)?
    ) {
        guard let a = acl.action(for: client) else { return }
        switch acl.actions[a] {
        case .ignore: verdict = .ignore
        case .refuse: if verdict != .ignore { verdict = .refuse }
        case .empty: ignoreData = true
        case .pass: break
        case .always(let ref): if always == nil { always = (acl.alwaysValues, ref) }
        }
    }

    @usableFromInline
    struct AnswerContext {
        var query: Query
        var zone: Zone
        var overflow: Bool
    }

    /// Looks the key up in one dataset and writes its answers. Returns true when listed.
    private func lookupDataset(
        _ ds: ZoneDataset, _ w: inout ResponseWriter, _ ctx: inout AnswerContext, p: UnsafeRawBufferPointer,
        keyStart: Int, keyLength: Int, keyLabels: Int
    ) -> Bool {
        var listed = false
        if ds.hasIPv4 && keyLabels == 4 {
            var a: UInt32 = 0
            if parseReversedIPv4(p, from: keyStart, labels: 4, octets: &a) {
                let (ref, table) = Self.ipv4(ds, a)
                if ref.isListed {
                    listed = true
                    addValues(&w, &ctx, table: table, ref: ref, key: .ipv4(a), ttl: ds.ttl)
                }
            }
        }
        let ipv4InIPv6 = ds.hasIPv4 && ds.answersIPv4InIPv6
        if (ds.hasIPv6 || ipv4InIPv6) && keyLabels == 32 {
            var a: UInt128 = 0
            if parseReversedNibbles(p, from: keyStart, labels: 32, address: &a) {
                // rbldnsd datasets: IPv4-mapped (::ffff:0:0/96) and 6to4 (2002::/16) addresses are
                // looked up in the IPv4 data (a mapped one only there).
                let mapped = ipv4InIPv6 && a >> 32 == 0xFFFF
                if ds.hasIPv6 && !mapped {
                    let (ref, table) = Self.ipv6(ds, a)
                    if ref.isListed {
                        listed = true
                        addValues(&w, &ctx, table: table, ref: ref, key: .ipv6(a), ttl: ds.ttl)
                    }
                }
                if ipv4InIPv6 && (mapped || a >> 112 == 0x2002) {
                    let v4 = UInt32(truncatingIfNeeded: mapped ? a : a >> 80)
                    let (ref, table) = Self.ipv4(ds, v4)
                    if ref.isListed {
                        listed = true
                        addValues(&w, &ctx, table: table, ref: ref, key: .ipv4(v4), ttl: ds.ttl)
                    }
                }
            }
        }
        if let domains = ds.domains {
            let delta = ds.delta?.domains
            let match = delta.map { domains.lookup(p, from: keyStart, count: keyLength, over: $0) }
                ?? domains.lookup(p, from: keyStart, count: keyLength)
            if let m = match, m.ref.isListed {
                listed = true
                addValues(
                    &w, &ctx, table: m.fromDelta ? delta!.values : domains.values, ref: m.ref,
                    key: .name(offset: m.nameOffset, length: m.nameLength), ttl: ds.ttl)
            }
        }
        return listed
    }

    /// The dataset's answer for an address, or the delta's where it has one.
    @inline(__always)
    static func ipv4(_ ds: ZoneDataset, _ a: UInt32) -> (ValueRef, ValueTable) {
        if let d = ds.delta {
            let r = d.ipv4.lookup(a)
            if r != .none { return (r, d.ipValues) }
        }
        return (ds.ipv4.lookup(a), ds.ipValues)
    }

    @inline(__always)
    static func ipv6(_ ds: ZoneDataset, _ a: UInt128) -> (ValueRef, ValueTable) {
        if let d = ds.delta {
            let r = d.ipv6.lookup(a)
            if r != .none { return (r, d.ipValues) }
        }
        return (ds.ipv6.lookup(a), ds.ipValues)
    }

    /// The IPv6 spaces whose names rbldnsd answers from IPv4 data, and where the IPv4 address
    /// sits in them: ::ffff:a.b.c.d (the low 32 bits) and 2002:aabb:ccdd::/48 (bits 80-111).
    static let ipv4Spaces: [(first: UInt128, last: UInt128, shift: UInt128)] = [
        (UInt128(0xFFFF) << 32, UInt128(0xFFFF) << 32 | 0xFFFF_FFFF, 0),
        (UInt128(0x2002) << 112, UInt128(0x2002) << 112 | (UInt128(1) << 112 - 1), 80),
    ]

    /// RFC 8020: a name with listed names below it exists; it answers NODATA, not NXDOMAIN.
    private func isEmptyNonTerminal(
        _ ds: ZoneDataset, p: UnsafeRawBufferPointer, keyStart: Int, keyLength: Int, keyLabels: Int
    ) -> Bool {
        if ds.hasIPv4 && keyLabels < 4 {
            var a: UInt32 = 0
            if parseReversedIPv4(p, from: keyStart, labels: keyLabels, octets: &a) {
                let span = UInt32.max >> (8 * UInt32(keyLabels))
                if ds.ipv4.anyListed(from: a, through: a | span) || ds.delta?.ipv4.anyListed(from: a, through: a | span) == true {
                    return true
                }
            }
        }
        if ds.hasIPv6 && keyLabels < 32 {
            var a: UInt128 = 0
            if parseReversedNibbles(p, from: keyStart, labels: keyLabels, address: &a) {
                let span = UInt128.max >> (4 * UInt128(keyLabels))
                if ds.ipv6.anyListed(from: a, through: a | span) || ds.delta?.ipv6.anyListed(from: a, through: a | span) == true {
                    return true
                }
            }
        }
        if ds.hasIPv4 && ds.answersIPv4InIPv6 && keyLabels < 32 {
            // Above the IPv4-mapped and 6to4 names that answer from the IPv4 data.
            var a: UInt128 = 0
            if parseReversedNibbles(p, from: keyStart, labels: keyLabels, address: &a) {
                let last = a | UInt128.max >> (4 * UInt128(keyLabels))
                for space in Self.ipv4Spaces {
                    let lo = max(a, space.first)
                    let hi = min(last, space.last)
                    guard lo <= hi else { continue }
                    let from = UInt32(truncatingIfNeeded: lo >> space.shift)
                    let through = UInt32(truncatingIfNeeded: hi >> space.shift)
                    if ds.ipv4.anyListed(from: from, through: through)
                        || ds.delta?.ipv4.anyListed(from: from, through: through) == true
                    {
                        return true
                    }
                }
            }
        }
        if let domains = ds.domains, domains.isEmptyNonTerminal(p, from: keyStart, count: keyLength) { return true }
        if let delta = ds.delta?.domains, delta.isEmptyNonTerminal(p, from: keyStart, count: keyLength) { return true }
        return false
    }

    private func addValues(
        _ w: inout ResponseWriter, _ ctx: inout AnswerContext, table: ValueTable, ref: ValueRef, key: KeyText,
        ttl: UInt32
    ) {
        let type = ctx.query.type
        let wantA = type == .a || type == .any
        let wantTXT = type == .txt
        guard wantA || wantTXT else { return }
        table.forEachValue(ref) { i in
            if wantA {
                addA(&w, &ctx, address: table.addresses[i], ttl: ttl)
            } else {
                let start = Int(table.templateStarts[i])
                let end = Int(table.templateStarts[i + 1])
                if start < end {
                    table.templates.withUnsafeBytes { t in
                        addTXT(&w, &ctx, template: UnsafeRawBufferPointer(rebasing: t[start..<end]), key: key, ttl: ttl)
                    }
                }
            }
        }
    }

    private func addA(_ w: inout ResponseWriter, _ ctx: inout AnswerContext, address: UInt32, ttl: UInt32) {
        // One record per distinct address (several datasets may list the same code).
        if hasAnswer(w, type: .a, rdata: address, from: ctx.query.questionEnd) { return }
        guard w.fits(16) else { ctx.overflow = true; return }
        w.appendPointer(to: ctx.query.questionNameOffset)
        let at = w.appendRecordHeader(type: .a, class: .in, ttl: ttl)
        w.append(address)
        w.finishRecord(rdlengthAt: at)
        w.incrementCount(Header.anCount)
    }

    private func addTXT(
        _ w: inout ResponseWriter, _ ctx: inout AnswerContext, template: UnsafeRawBufferPointer, key: KeyText,
        ttl: UInt32
    ) {
        let recordStart = w.position
        guard w.fits(13) else { ctx.overflow = true; return }
        w.appendPointer(to: ctx.query.questionNameOffset)
        let at = w.appendRecordHeader(type: .txt, class: .in, ttl: ttl)
        var strings = CharacterStringWriter(writer: &w)
        var fitted = true
        let packet = UnsafeRawBufferPointer(w.buffer)
        for c in template where fitted {
            if c == AnswerValue.keyMarker {
                key.write({ b in if fitted { fitted = strings.append(b, to: &w) } }, packet: packet)
            } else {
                fitted = strings.append(c, to: &w)
            }
        }
        guard fitted else {
            w.rewind(to: recordStart)
            ctx.overflow = true
            return
        }
        strings.finish(&w)
        w.finishRecord(rdlengthAt: at)
        if isDuplicate(w, recordStart: recordStart, from: ctx.query.questionEnd) {
            w.rewind(to: recordStart)
            return
        }
        w.incrementCount(Header.anCount)
    }

    private func addRecords(_ w: inout ResponseWriter, _ ctx: inout AnswerContext, records: RecordTable, range: Range<Int>) {
        let type = ctx.query.type
        for k in range {
            let r = records.records[k]
            guard r.type == type.rawValue || (type == .any && k == range.lowerBound) else { continue }
            guard w.fits(12 + r.rdata.count) else { ctx.overflow = true; return }
            let recordStart = w.position
            w.appendPointer(to: ctx.query.questionNameOffset)
            let at = w.appendRecordHeader(type: RRType(r.type), class: .in, ttl: r.ttl)
            r.rdata.withUnsafeBytes { w.append(bytes: $0) }
            w.finishRecord(rdlengthAt: at)
            if isDuplicate(w, recordStart: recordStart, from: ctx.query.questionEnd) {
                w.rewind(to: recordStart)
                continue
            }
            w.incrementCount(Header.anCount)
        }
    }

    private func addSOA(_ w: inout ResponseWriter, _ ctx: inout AnswerContext, originStart: Int, section: Int, ttl: UInt32) {
        let soa = ctx.zone.soa
        guard w.fits(2 + 10 + soa.mname.count + soa.rname.count + 20) else { ctx.overflow = true; return }
        w.appendPointer(to: originStart)
        let at = w.appendRecordHeader(type: .soa, class: .in, ttl: ttl)
        soa.mname.withUnsafeBytes { w.append(bytes: $0) }
        soa.rname.withUnsafeBytes { w.append(bytes: $0) }
        w.append(soa.serial)
        w.append(soa.refresh)
        w.append(soa.retry)
        w.append(soa.expire)
        w.append(soa.minimum)
        w.finishRecord(rdlengthAt: at)
        w.incrementCount(section)
    }

    private func addNS(_ w: inout ResponseWriter, _ ctx: inout AnswerContext, originStart: Int) {
        let zone = ctx.zone
        for ns in zone.nameservers {
            guard w.fits(12 + ns.count) else { ctx.overflow = true; return }
            w.appendPointer(to: originStart)
            let at = w.appendRecordHeader(type: .ns, class: .in, ttl: zone.nsTTL)
            ns.withUnsafeBytes { w.append(bytes: $0) }
            w.finishRecord(rdlengthAt: at)
            w.incrementCount(Header.anCount)
        }
        // Glue is optional: what does not fit is left out, without TC (RFC 9471 §3 asks TC only
        // for in-domain glue that does not fit, and referrals are not what we answer here).
        for g in zone.glue {
            guard w.fits(10 + g.name.count + g.rdata.count) else { return }
            g.name.withUnsafeBytes { w.append(bytes: $0) }
            let at = w.appendRecordHeader(type: RRType(g.type), class: .in, ttl: g.ttl)
            g.rdata.withUnsafeBytes { w.append(bytes: $0) }
            w.finishRecord(rdlengthAt: at)
            w.incrementCount(Header.arCount)
        }
    }

    private func answerChaos(_ w: inout ResponseWriter, query: Query) -> ResponseSummary {
        let p = UnsafeRawBufferPointer(w.buffer)
        let isVersion =
            (equalFolded(p, at: query.questionNameOffset, to: Self.versionBind)
                || equalFolded(p, at: query.questionNameOffset, to: Self.versionServer))
        guard isVersion, let text = options.versionText, query.type == .txt || query.type == .any else {
            return finish(&w, query: query, rcode: .refused, authoritative: false, zoneIndex: -1, listed: false)
        }
        guard w.fits(2 + 10 + 1 + text.count) else {
            return finish(&w, query: query, rcode: .refused, authoritative: false, zoneIndex: -1, listed: false)
        }
        w.appendPointer(to: query.questionNameOffset)
        let at = w.appendRecordHeader(type: .txt, class: .chaos, ttl: 0)
        w.append(UInt8(text.count))
        text.withUnsafeBytes { w.append(bytes: $0) }
        w.finishRecord(rdlengthAt: at)
        w.incrementCount(Header.anCount)
        return finish(&w, query: query, rcode: .noError, authoritative: true, zoneIndex: -1, listed: false)
    }

    static let versionBind: [UInt8] = [7] + Array("version".utf8) + [4] + Array("bind".utf8) + [0]
    static let versionServer: [UInt8] = [7] + Array("version".utf8) + [6] + Array("server".utf8) + [0]

    // MARK: - finishing

    private func finish(
        _ w: inout ResponseWriter, query: Query, rcode: RCode, authoritative: Bool, zoneIndex: Int, listed: Bool,
        truncated: Bool = false
    ) -> ResponseSummary {
        w.setResponseFlags(authoritative: authoritative, rcode: rcode, keepCD: true, truncated: truncated)
        if query.edns.present {
            // The room was kept back from the limit; this append cannot overflow the buffer.
            var full = ResponseWriter(buffer: w.buffer, limit: w.buffer.count, position: w.position)
            full.appendOPT(payloadSize: UInt16(options.udpPayloadSize), rcode: rcode)
            full.incrementCount(Header.arCount)
            w = full
        }
        return ResponseSummary(
            length: w.position, zoneIndex: zoneIndex, rcode: rcode, answerCount: w.count(Header.anCount),
            listed: listed, qtype: query.type.rawValue, questionEnd: query.questionEnd)
    }

    private func errorResponse(_ packet: UnsafeMutableRawBufferPointer, questionEnd: Int?, rcode: RCode) -> ResponseSummary {
        let end = questionEnd ?? WireLimits.headerLength
        let w = ResponseWriter(buffer: packet, limit: packet.count, position: end)
        w.setCount(Header.qdCount, questionEnd == nil ? 0 : 1)
        w.setCount(Header.anCount, 0)
        w.setCount(Header.nsCount, 0)
        w.setCount(Header.arCount, 0)
        w.setResponseFlags(authoritative: false, rcode: rcode, keepCD: false)
        return ResponseSummary(length: end, zoneIndex: -1, rcode: rcode, answerCount: 0, listed: false, questionEnd: end)
    }

    /// The answer in `packet` cut to its question, TC set and every section empty: what a rate
    /// limit's slip sends, so a real resolver asks again over TCP (RFC 1035 §4.2.1). Returns the
    /// new length.
    public static func truncateToQuestion(_ packet: UnsafeMutableRawBufferPointer, _ summary: ResponseSummary) -> Int {
        let w = ResponseWriter(buffer: packet, limit: packet.count, position: summary.questionEnd)
        w.setCount(Header.anCount, 0)
        w.setCount(Header.nsCount, 0)
        w.setCount(Header.arCount, 0)
        packet[Header.flags1] |= Header.tc
        return summary.questionEnd
    }

    /// RFC 2181 §5.2: records of one RRset share a TTL; datasets with different TTLs may have
    /// contributed to one, so each type takes the smallest TTL seen.
    private func equaliseTTLs(_ w: inout ResponseWriter, from start: Int) {
        let n = w.count(Header.anCount)
        guard n > 1 else { return }
        equaliseTTLs(w, type: .a, count: n, from: start)
        equaliseTTLs(w, type: .txt, count: n, from: start)
    }

    private func equaliseTTLs(_ w: ResponseWriter, type: RRType, count n: Int, from start: Int) {
        var minTTL = UInt32.max
        var o = start
        for _ in 0..<n {
            if w.buffer.readUInt16(at: o + 2) == type.rawValue {
                minTTL = min(minTTL, UnsafeRawBufferPointer(w.buffer).readUInt32(at: o + 6))
            }
            o += 12 + Int(w.buffer.readUInt16(at: o + 10))
        }
        guard minTTL != UInt32.max else { return }
        o = start
        for _ in 0..<n {
            if w.buffer.readUInt16(at: o + 2) == type.rawValue { w.buffer.writeUInt32(minTTL, at: o + 6) }
            o += 12 + Int(w.buffer.readUInt16(at: o + 10))
        }
    }

    /// Answers written so far all start with a 2-octet pointer, so they can be walked by length.
    private func hasAnswer(_ w: ResponseWriter, type: RRType, rdata: UInt32, from start: Int) -> Bool {
        var o = start
        let p = UnsafeRawBufferPointer(w.buffer)
        for _ in 0..<w.count(Header.anCount) {
            let len = Int(p.readUInt16(at: o + 10))
            if p.readUInt16(at: o + 2) == type.rawValue, len == 4, p.readUInt32(at: o + 12) == rdata { return true }
            o += 12 + len
        }
        return false
    }

    private func isDuplicate(_ w: ResponseWriter, recordStart: Int, from start: Int) -> Bool {
        let p = UnsafeRawBufferPointer(w.buffer)
        let type = p.readUInt16(at: recordStart + 2)
        let len = Int(p.readUInt16(at: recordStart + 10))
        var o = start
        for _ in 0..<w.count(Header.anCount) {
            let l = Int(p.readUInt16(at: o + 10))
            if p.readUInt16(at: o + 2) == type, l == len,
                memcmpEqual(p, o + 12, recordStart + 12, len)
            {
                return true
            }
            o += 12 + l
        }
        return false
    }
}

@inline(__always)
func memcmpEqual(_ p: UnsafeRawBufferPointer, _ a: Int, _ b: Int, _ n: Int) -> Bool {
    var k = 0
    while k < n, p[a + k] == p[b + k] { k += 1 }
    return k == n
}

/// Offset of the label reached after skipping `count` labels of an uncompressed name.
@inline(__always)
func labelOffset(_ p: UnsafeRawBufferPointer, from start: Int, skipping count: Int) -> Int {
    var o = start
    for _ in 0..<count { o += 1 + Int(p[o]) }
    return o
}

/// Case-insensitive comparison of the packet's name at `at` with a lower-cased wire name.
@inline(__always)
func equalFolded(_ p: UnsafeRawBufferPointer, at: Int, to name: [UInt8]) -> Bool {
    guard at + name.count <= p.count else { return false }
    return name.withUnsafeBufferPointer { n in
        var k = 0
        while k < n.count, DomainName.lower(p[at + k]) == n[k] { k += 1 }
        return k == n.count
    }
}

@inline(__always)
func equalFoldedLabels(_ p: UnsafeRawBufferPointer, at: Int, length: Int, to labels: [UInt8]) -> Bool {
    guard length == labels.count else { return false }
    return labels.withUnsafeBufferPointer { n in
        var k = 0
        while k < length, DomainName.lower(p[at + k]) == n[k] { k += 1 }
        return k == length
    }
}
