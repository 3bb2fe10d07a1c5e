import Listings
import Synchronization

/// Response rate limiting for UDP (RFC-less but standard: BIND's and NSD's RRL). One table of
/// 64-bit atomic accounts shared by every UDP worker, so a client spread over the workers by
/// SO_REUSEPORT is counted once; each account is updated by compare-and-swap, with no lock
/// and no allocation, and the table's size is fixed whatever the number of clients.
///
/// An account is a (client prefix, response kind) pair counted per second: up to the kind's
/// limit is answered in a second, and beyond it every `slip`-th response slips out truncated
/// and the rest are dropped. Two prefixes that land on one slot share its count until one
/// takes it over: an attacker can weaken limiting this way, never stop a client's answers.
public final class ResponseRateLimiter: @unchecked Sendable {
    public enum Verdict: Equatable, Sendable {
        case answer
        case slip
        case drop
    }

    public let settings: RateLimitSettings
    static let slots = 1 << 16
    private let accounts: UnsafeMutablePointer<Atomic<UInt64>>
    /// Per slot, 1 + the second (mod 2^14) of the account's last limited response; 0: never.
    private let lastLimited: UnsafeMutablePointer<Atomic<UInt16>>
    /// Per kind: responses slipped, dropped (or that would have been, in log-only mode).
    private let tallies: UnsafeMutablePointer<Atomic<UInt64>>
    private let limits: (UInt64, UInt64, UInt64, UInt64)
    private let v4Mask: UInt32
    private let v6Mask: UInt128

    public init(settings: RateLimitSettings) {
        self.settings = settings
        accounts = .allocate(capacity: Self.slots)
        lastLimited = .allocate(capacity: Self.slots)
        for i in 0..<Self.slots {
            (accounts + i).initialize(to: Atomic(0))
            (lastLimited + i).initialize(to: Atomic(0))
        }
        tallies = .allocate(capacity: ResponseKind.allCases.count * 2)
        for i in 0..<ResponseKind.allCases.count * 2 { (tallies + i).initialize(to: Atomic(0)) }
        limits = (
            UInt64(settings.limit(.positive)), UInt64(settings.limit(.nodata)), UInt64(settings.limit(.nxdomain)),
            UInt64(settings.limit(.error))
        )
        v4Mask = UInt32(truncatingIfNeeded: ClientPrefix.mask(settings.ipv4PrefixLength, width: 32))
        v6Mask = ClientPrefix.mask(settings.ipv6PrefixLength, width: 128)
    }

    deinit {
        accounts.deallocate()
        lastLimited.deallocate()
        tallies.deallocate()
    }

    // Account layout: tag (24 bits) | kind (2) | second mod 2^14 (14) | count this second (24).
    static let countBits: UInt64 = 24
    static let secondBits: UInt64 = 14
    static let countMask: UInt64 = (1 << countBits) - 1
    static let secondMask: UInt64 = (1 << secondBits) - 1

    @inline(__always)
    func limit(_ kind: ResponseKind) -> UInt64 {
        switch kind {
        case .positive: limits.0
        case .nodata: limits.1
        case .nxdomain: limits.2
        case .error: limits.3
        }
    }

    /// What to do with a response of `kind` to `client` in `second` (any monotonic count of
    /// seconds; the UDP workers read the clock once per batch).
    @inline(__always)
    public func check(_ client: ClientAddress, kind: ResponseKind, second: UInt64) -> Verdict {
        let limit = limit(kind)
        guard limit > 0 else { return .answer }
        var prefix: UInt64
        switch client {
        case .v4(let a): prefix = UInt64(a & v4Mask)
        case .v6(let a):
            let masked = a & v6Mask
            prefix = UInt64(truncatingIfNeeded: masked >> 64) ^ (UInt64(truncatingIfNeeded: masked) &* 0x9E37_79B9_7F4A_7C15) ^ (1 << 63)
        case .unknown: return .answer
        }
        for e in settings.exempt where e.contains(client) { return .answer }
        // A multiply-xorshift mix: the slot from the low bits, the tag from the high ones.
        prefix ^= UInt64(kind.rawValue) &* 0xC2B2_AE3D_27D4_EB4F
        var h = prefix &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        let slot = Int(h & UInt64(Self.slots - 1))
        let head = (h >> 40) << 2 | UInt64(kind.rawValue)  // tag and kind: the account's identity
        let now = second & Self.secondMask
        let account = accounts + slot
        var old = account.pointee.load(ordering: .relaxed)
        var count: UInt64
        while true {
            let same = old >> (Self.secondBits + Self.countBits) == head && (old >> Self.countBits) & Self.secondMask == now
            count = same ? min((old & Self.countMask) + 1, Self.countMask) : 1
            let new = head << (Self.secondBits + Self.countBits) | now << Self.countBits | count
            let (exchanged, current) = account.pointee.compareExchange(
                expected: old, desired: new, ordering: .relaxed)
            if exchanged { break }
            old = current
        }
        guard count > limit else { return .answer }
        (lastLimited + slot).pointee.store(UInt16(now) + 1, ordering: .relaxed)
        let excess = count - limit
        let slipped = settings.slip > 0 && excess % UInt64(settings.slip) == 0
        (tallies + kind.rawValue * 2 + (slipped ? 0 : 1)).pointee.wrappingAdd(1, ordering: .relaxed)
        if settings.logOnly { return .answer }
        return slipped ? .slip : .drop
    }

    /// Responses slipped and dropped so far, per kind (in log-only mode: that would have been).
    public func totals() -> [(kind: ResponseKind, slipped: UInt64, dropped: UInt64)] {
        ResponseKind.allCases.map {
            ($0, (tallies + $0.rawValue * 2).pointee.load(ordering: .relaxed), (tallies + $0.rawValue * 2 + 1).pointee.load(ordering: .relaxed))
        }
    }

    /// Accounts (client prefix and kind) limited within the last `window` seconds.
    public func limitedAccounts(second: UInt64) -> Int {
        let now = second & Self.secondMask
        var n = 0
        for i in 0..<Self.slots {
            let mark = (lastLimited + i).pointee.load(ordering: .relaxed)
            guard mark != 0 else { continue }
            let age = (now &- UInt64(mark - 1)) & Self.secondMask
            if age < UInt64(settings.window) { n += 1 }
        }
        return n
    }

    /// Seconds of a monotonic clock, as `check` wants them.
    public static func second(uptimeNanoseconds: UInt64) -> UInt64 { uptimeNanoseconds / 1_000_000_000 }
}
