import Glibc

/// An address or CIDR of clients (`[rrl] exempt`, query ACL rules), read the way `inet_pton`
/// reads addresses; the prefix's host bits must be zero, as everywhere else in thurac.
public struct ClientPrefix: Sendable, Equatable, CustomStringConvertible {
    public let isIPv6: Bool
    /// The address, left-aligned in 128 bits for IPv6 and in the low 32 bits for IPv4.
    public let bits: UInt128
    public let length: Int
    public let description: String

    public init(parsing text: String) throws(PrefixError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let address = String(parts[0])
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            isIPv6 = false
            bits = UInt128(UInt32(bigEndian: v4.s_addr))
        } else if inet_pton(AF_INET6, address, &v6) == 1 {
            isIPv6 = true
            bits = withUnsafeBytes(of: &v6) { UInt128(bigEndian: $0.loadUnaligned(as: UInt128.self)) }
        } else {
            throw PrefixError("'\(text)' is not an IPv4 or IPv6 address or CIDR")
        }
        let width = isIPv6 ? 128 : 32
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(parts[1]), (0...width).contains(n) else {
                throw PrefixError("'\(text)': the prefix length must be 0 to \(width)")
            }
            length = n
        } else {
            length = width
        }
        guard bits & ~Self.mask(length, width: width) == 0 else {
            throw PrefixError("'\(text)' has host bits set beyond /\(length)")
        }
        description = text
    }

    /// The network mask of `length` bits in a `width`-bit address (IPv4 in the low 32 bits).
    @inline(__always)
    public static func mask(_ length: Int, width: Int) -> UInt128 {
        guard length > 0 else { return 0 }
        let ones: UInt128 = width == 128 ? ~0 : (1 << UInt128(width)) - 1
        return (ones >> UInt128(width - length)) << UInt128(width - length)
    }

    @inline(__always)
    public func contains(_ client: ClientAddress) -> Bool {
        switch client {
        case .v4(let a): return !isIPv6 && UInt128(a) & Self.mask(length, width: 32) == bits
        case .v6(let a): return isIPv6 && a & Self.mask(length, width: 128) == bits
        case .unknown: return false
        }
    }
}

public struct PrefixError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
