import DNSTransport
import DNSWire
import Foundation
import ListingKeys
import Listings
import Logging
import Publishing
import Responder
import ZoneConfig

/// thurac as a primary (SPEC §3 "Zone transfer"): AXFR (RFC 5936) and IXFR (RFC 1995) over
/// TCP, TSIG (RFC 8945) on transfers and on any signed query, NOTIFY (RFC 1996) on every new
/// serial. Transfers go only to the addresses and keys a zone's configuration names; everyone
/// else is REFUSED, a bad signature NOTAUTH.
///
/// AXFR streams the zone as `ZoneExport` writes it, message by message, from the snapshot the
/// request arrived with: nothing of the size of the zone is held. IXFR sends the differences
/// kept for the last serials (`IXFRHistory`, made as each snapshot is published from the keys
/// the store's journal says changed), or the whole zone when the client is older than that.
public final class TransferService: TransferHandler {
    struct ZoneSettings: Sendable {
        let definition: ZoneDefinition
        let transfer: TransferConfig?
        let key: TSIGKey?
    }

    let zones: [String: ZoneSettings]
    let keys: [[UInt8]: TSIGKey]
    let responder: Responder
    let logger: Logger
    let history: IXFRHistory
    let notifier: NotifySender
    let clock: @Sendable () -> UInt64
    /// Largest message sent (RFC 5936 §2.2 allows 65535; smaller ones keep memory and latency low).
    static let messageSize = 16_384

    public init(
        config: ThuracConfig, responder options: ResponderOptions, logger: Logger,
        clock: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970) }
    ) {
        var keys: [[UInt8]: TSIGKey] = [:]
        for k in config.keys.values {
            let key = TSIGKey(k)
            keys[key.name] = key
        }
        var zones: [String: ZoneSettings] = [:]
        for z in config.zones {
            let t = config.transfers[z.name]
            let key = t?.key.flatMap { name in keys.values.first { $0.text == name } }
            zones[z.name.lowercased()] = ZoneSettings(definition: z, transfer: t, key: key)
        }
        self.zones = zones
        self.keys = keys
        var o = options
        o.handOffTransfers = false
        responder = Responder(options: o)
        self.logger = logger
        self.clock = clock
        history = IXFRHistory()
        notifier = NotifySender(logger: logger, keys: keys)
    }

    public func stop() { notifier.stop() }

    /// A new snapshot is served: keep the difference of each transferable zone for IXFR and
    /// tell its secondaries. `changedKeys` are the keys whose listings differ (nil: unknown,
    /// which ends the IXFR history: older clients get the whole zone).
    public func published(old: ServingSnapshot, new: ServingSnapshot, changedKeys: [ListingKey]?) {
        for zone in new.zones {
            guard let settings = zones[zone.originText.lowercased()], let transfer = settings.transfer else { continue }
            guard let before = old.zones.first(where: { $0.origin == zone.origin }), before.soa.serial != zone.soa.serial else { continue }
            if let keys = changedKeys {
                let mine = keys.filter { PublishedZones.role(of: $0) == settings.definition.role }
                let started = Date()
                let diff = ZoneExport.changes(from: Self.listings(before), to: Self.listings(zone), keys: mine)
                history.append(
                    zone.originText.lowercased(),
                    IXFRHistory.Step(from: before.soa.serial, to: zone.soa.serial, deleted: diff.deleted, added: diff.added))
                if !diff.deleted.isEmpty || !diff.added.isEmpty {
                    logger.debug(
                        "\(zone.originText) serial \(zone.soa.serial): -\(diff.deleted.count) +\(diff.added.count) records in \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
                }
            } else {
                history.reset(zone.originText.lowercased(), at: zone.soa.serial)
            }
            if !transfer.notify.isEmpty {
                notifier.notify(zone: zone.origin, name: zone.originText, soa: zone.soa, targets: transfer.notify, key: settings.key)
            }
        }
    }

    /// Sends NOTIFY for the current serial of every zone with secondaries (at start).
    public func notifyAll(_ snapshot: ServingSnapshot) {
        for zone in snapshot.zones {
            guard let settings = zones[zone.originText.lowercased()], let t = settings.transfer, !t.notify.isEmpty else { continue }
            notifier.notify(zone: zone.origin, name: zone.originText, soa: zone.soa, targets: t.notify, key: settings.key)
        }
    }

    static func listings(_ zone: Zone) -> ZoneDataset { zone.subzones[0].datasets[0] }

    // MARK: - TransferHandler

    public func answerDatagram(_ message: [UInt8], query: Query, client: ClientAddress, snapshot: ServingSnapshot) -> [UInt8]? {
        var reply: [UInt8]? = nil
        answer(message, query, client: client, snapshot: snapshot, overTCP: false) { m in
            reply = m
            return false
        }
        return reply
    }

    public func answerStream(_ message: [UInt8], query: Query, client: ClientAddress, snapshot: ServingSnapshot, send: ([UInt8]) -> Bool) {
        answer(message, query, client: client, snapshot: snapshot, overTCP: true, send: send)
    }

    /// For callers without the responder's parse (tests, tools): the message is parsed here, by
    /// the same parser; one that is not a query gets FORMERR, or nothing.
    public func answerStream(_ message: [UInt8], client: ClientAddress, snapshot: ServingSnapshot, send: ([UInt8]) -> Bool) {
        switch message.withUnsafeBytes({ QueryParser.parse($0) }) {
        case .success(let query): answerStream(message, query: query, client: client, snapshot: snapshot, send: send)
        case .failure(.drop): return
        case .failure: if let reply = Self.reply(to: message, rcode: 1) { _ = send(reply) }
        }
    }

    /// Signs the answers to a signed request: the first with the request's MAC as prior MAC,
    /// each later one with the MAC before it (RFC 8945 §5.3.1).
    struct Signer {
        let key: TSIGKey
        var prior: [UInt8]
        var first = true

        mutating func sign(_ message: inout [UInt8], now: UInt64) {
            prior = TSIG.sign(&message, key: key, prior: prior, time: now, timersOnly: !first)
            first = false
        }
    }

    func answer(_ message: [UInt8], _ query: Query, client: ClientAddress, snapshot: ServingSnapshot, overTCP: Bool, send: ([UInt8]) -> Bool) {
        let now = clock()
        var signer: Signer? = nil
        var request = message
        // The parser found no TSIG record: nothing to verify.
        switch query.tsigOffset == nil ? .unsigned : TSIG.verify(message, keys: keys, now: now) {
        case .unsigned: break
        case .malformed:
            if let reply = Self.reply(to: message, rcode: 1) { _ = send(reply) }
            return
        case .failed(let code, let key, let t):
            logger.warning("TSIG \(code) from \(client.text) (key \(DomainName.text(fromWire: t.key)))")
            guard var reply = Self.reply(to: TSIG.unsigned(message, t), rcode: 9) else { return }
            if code == .badTime, let key {
                TSIG.sign(&reply, key: key, prior: t.mac, time: now, error: code.rawValue, other: TSIG.time48(now))
            } else {
                TSIG.appendRecord(&reply, keyName: t.key, time: t.timeSigned, mac: [], error: code.rawValue, other: [])
            }
            _ = send(reply)
            return
        case .valid(let key, let t):
            signer = Signer(key: key, prior: t.mac)
            request = TSIG.unsigned(message, t)
        }
        // The question as the responder parsed it (signing leaves the question as it was).
        let name = (WireLimits.headerLength..<(WireLimits.headerLength + query.questionNameLength)).map { DomainName.lower(message[$0]) }
        let q = (name: name, type: query.type.rawValue, rclass: query.class.rawValue, end: query.questionEnd)
        if query.type == .axfr || query.type == .ixfr {
            withoutActuallyEscaping(send) { send in
                transfer(request, q, client: client, snapshot: snapshot, overTCP: overTCP, signer: signer, now: now, send: send)
            }
            return
        }
        // Any other signed query: answered as usual, then signed.
        var buffer = [UInt8](repeating: 0, count: WireLimits.maxTCPMessage)
        buffer.replaceSubrange(0..<request.count, with: request)
        let summary = buffer.withUnsafeMutableBytes {
            responder.respond(packet: $0, length: request.count, overTCP: overTCP, client: client, snapshot: snapshot)
        }
        guard summary.length > 0 else { return }
        var reply = Array(buffer[0..<summary.length])
        signer?.sign(&reply, now: now)
        _ = send(reply)
    }

    func transfer(
        _ request: [UInt8], _ q: (name: [UInt8], type: UInt16, rclass: UInt16, end: Int), client: ClientAddress,
        snapshot: ServingSnapshot, overTCP: Bool, signer: Signer?, now: UInt64, send: @escaping ([UInt8]) -> Bool
    ) {
        var signer = signer
        func refuse(_ rcode: UInt16, _ why: String) {
            logger.notice("\(q.type == RRType.axfr.rawValue ? "AXFR" : "IXFR") of \(DomainName.text(fromWire: q.name)) from \(client.text) \(why)")
            guard var reply = Self.reply(to: request, rcode: rcode) else { return }
            signer?.sign(&reply, now: now)
            _ = send(reply)
        }
        guard q.rclass == 1 else { return refuse(5, "refused: class \(q.rclass)") }
        guard let zone = snapshot.zones.first(where: { $0.origin == q.name }) else {
            let inside = snapshot.zones.contains { q.name.count > $0.origin.count && q.name.suffix($0.origin.count).elementsEqual($0.origin) }
            return refuse(inside ? 9 : 5, "refused: not a zone's origin")
        }
        let settings = zones[zone.originText.lowercased()]
        guard let transfer = settings?.transfer, transfer.permitsAnyone else { return refuse(5, "refused: no transfers configured") }
        if !transfer.allow.isEmpty, !Self.allowed(client, transfer.allow) { return refuse(5, "refused: address not allowed") }
        if let required = settings?.key {
            guard let used = signer?.key else { return refuse(5, "refused: not signed with key \(required.text)") }
            guard used.name == required.name else { return refuse(5, "refused: signed with key \(used.text), not \(required.text)") }
        }
        let isIXFR = q.type == RRType.ixfr.rawValue
        var stream = Stream(request: request, questionEnd: q.end, signer: signer, now: now, send: send)
        let soa = Self.soaRData(zone.soa)
        if !overTCP {
            // RFC 1995 §2: over UDP the SOA alone says "use TCP" (and AXFR needs TCP anyway).
            guard isIXFR else { return refuse(5, "refused over UDP") }
            _ = stream.add([], type: RRType.soa.rawValue, ttl: zone.soa.ttl, rdata: soa)
            _ = stream.finish()
            return
        }
        if isIXFR, let clientSerial = Self.clientSerial(request) {
            if clientSerial == zone.soa.serial || Self.serial(clientSerial, isNewerThan: zone.soa.serial) {
                // Up to date (or ahead of us): the SOA alone.
                _ = stream.add([], type: RRType.soa.rawValue, ttl: zone.soa.ttl, rdata: soa)
                _ = stream.finish()
                logger.info("IXFR of \(zone.originText) to \(client.text): serial \(clientSerial) is current")
                return
            }
            if let steps = history.steps(zone.originText.lowercased(), from: clientSerial, to: zone.soa.serial) {
                var ok = stream.add([], type: RRType.soa.rawValue, ttl: zone.soa.ttl, rdata: soa)
                let ttl = Self.listings(zone).ttl
                var changed = 0
                for step in steps where ok {
                    var old = zone.soa
                    old.serial = step.from
                    ok = ok && stream.add([], type: RRType.soa.rawValue, ttl: zone.soa.ttl, rdata: Self.soaRData(old))
                    for r in step.deleted where ok { ok = stream.add(r.owner, type: r.type, ttl: ttl, rdata: r.rdata) }
                    old.serial = step.to
                    ok = ok && stream.add([], type: RRType.soa.rawValue, ttl: zone.soa.ttl, rdata: Self.soaRData(old))
                    for r in step.added where ok { ok = stream.add(r.owner, type: r.type, ttl: ttl, rdata: r.rdata) }
                    changed += step.deleted.count + step.added.count
                }
                ok = ok && stream.add([], type: RRType.soa.rawValue, ttl: zone.soa.ttl, rdata: soa)
                if ok { ok = stream.finish() }
                logger.info(
                    "IXFR of \(zone.originText) to \(client.text): serial \(clientSerial) to \(zone.soa.serial), \(steps.count) steps, \(changed) records\(ok ? "" : " (connection lost)")")
                return
            }
        }
        // AXFR, or an IXFR older than the history: the whole zone (RFC 1995 §4).
        let started = Date()
        var count = 0
        var ok = stream.add([], type: RRType.soa.rawValue, ttl: zone.soa.ttl, rdata: soa)
        for ns in zone.nameservers where ok { ok = stream.add([], type: RRType.ns.rawValue, ttl: zone.nsTTL, rdata: ns) }
        if let apex = settings?.definition.apex {
            for (name, list) in apex.records.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                for r in list where ok { ok = stream.add(name, type: r.type, ttl: r.ttl, rdata: r.rdata) }
            }
        }
        let ds = Self.listings(zone)
        if ok {
            ZoneExport.records(ds) { r in
                guard ok else { return }
                ok = stream.add(r.owner, type: r.type, ttl: ds.ttl, rdata: r.rdata)
                count += 1
            }
        }
        ok = ok && stream.add([], type: RRType.soa.rawValue, ttl: zone.soa.ttl, rdata: soa)
        if ok { ok = stream.finish() }
        logger.info(
            "\(isIXFR ? "IXFR (as AXFR)" : "AXFR") of \(zone.originText) serial \(zone.soa.serial) to \(client.text): \(count) records, \(stream.messages) messages in \(String(format: "%.2f", Date().timeIntervalSince(started))) s\(ok ? "" : " (connection lost)")")
    }

    /// Transfer messages: as many records as fit in `messageSize`, each message signed when the
    /// request was.
    struct Stream {
        let header: [UInt8]
        let question: [UInt8]
        var signer: Signer?
        let now: UInt64
        let send: ([UInt8]) -> Bool
        var current: MessageBuilder
        var records = 0
        var messages = 0

        init(request: [UInt8], questionEnd: Int, signer: Signer?, now: UInt64, send: @escaping ([UInt8]) -> Bool) {
            header = Array(request[0..<4])
            question = Array(request[12..<questionEnd])
            self.signer = signer
            self.now = now
            self.send = send
            current = Self.empty(header, question)
        }

        static func empty(_ header: [UInt8], _ question: [UInt8]) -> MessageBuilder {
            // QR and AA set; opcode, RD kept from the request.
            let flags = (UInt16(header[2]) << 8 | UInt16(header[3])) & 0x7900 | 0x8400
            var m = MessageBuilder(id: UInt16(header[0]) << 8 | UInt16(header[1]), flags: flags, capacity: TransferService.messageSize)
            m.bytes += question
            m.bump(4)
            return m
        }

        mutating func add(_ owner: [UInt8], type: UInt16, ttl: UInt32, rdata: [UInt8]) -> Bool {
            // Room for the TSIG record (about 100 octets with a long key name).
            if records > 0, current.count + MessageBuilder.size(relative: owner, rdata: rdata) > TransferService.messageSize - 400 {
                guard flush() else { return false }
            }
            current.record(relative: owner, type: type, ttl: ttl, rdata: rdata)
            records += 1
            return true
        }

        mutating func flush() -> Bool {
            var m = current.bytes
            signer?.sign(&m, now: now)
            current = Self.empty(header, question)
            records = 0
            messages += 1
            return send(m)
        }

        mutating func finish() -> Bool { records > 0 ? flush() : true }
    }

    // MARK: - helpers

    /// A header-only answer to `request` (its question echoed) with `rcode`.
    static func reply(to request: [UInt8], rcode: UInt16) -> [UInt8]? {
        guard request.count >= 12 else { return nil }
        let reader = MessageReader(request)
        var m = MessageBuilder(id: reader.id, flags: reader.flags & 0x7900 | 0x8000 | rcode)
        if let q = reader.question() { m.question(q.name, type: q.type, class: q.rclass) }
        return m.bytes
    }

    /// The serial of the SOA in an IXFR request's authority section.
    static func clientSerial(_ request: [UInt8]) -> UInt32? {
        let reader = MessageReader(request)
        guard reader.count(2) >= 1, let records = reader.records() else { return nil }
        guard let soa = records.dropFirst(reader.count(1)).first, soa.type == RRType.soa.rawValue,
            let (_, afterMName) = reader.name(at: soa.rdata.lowerBound), let (_, afterRName) = reader.name(at: afterMName)
        else { return nil }
        return reader.u32(afterRName)
    }

    /// RFC 1982 serial number arithmetic.
    static func serial(_ a: UInt32, isNewerThan b: UInt32) -> Bool {
        a != b && (a &- b) < 0x8000_0000
    }

    static func soaRData(_ soa: SOAData) -> [UInt8] {
        var r = soa.mname + soa.rname
        for v in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] {
            r += [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)]
        }
        return r
    }

    static func allowed(_ client: ClientAddress, _ allow: [ListingKey]) -> Bool {
        allow.contains { k in
            switch (k, client) {
            case (.ipv4(let f, let l), .v4(let a)): return f <= a && a <= l
            case (.ipv6(let p, let n), .v6(let a)): return n == 0 || (a ^ p) >> (128 - n) == 0
            case (.ipv4(let f, let l), .v6(let a)) where a >> 32 == 0xFFFF:
                // An IPv4 client on an IPv6 socket (::ffff:a.b.c.d).
                return f <= UInt32(truncatingIfNeeded: a) && UInt32(truncatingIfNeeded: a) <= l
            default: return false
            }
        }
    }
}

extension TSIGKey {
    /// A key of the configuration's keys file.
    init(_ config: TSIGKeyConfig) { self.init(name: config.name, secret: config.secret) }
}
