import DNSWire
import Listings

/// The text that replaces `$` in a TXT template: the queried key as rbldnsd prints it. Written
/// octet by octet straight into the packet, so nothing is formatted into a String.
@usableFromInline
enum KeyText {
    case ipv4(UInt32)
    case ipv6(UInt128)
    /// A name inside the packet (relative labels), printed lower-cased with dots.
    case name(offset: Int, length: Int)

    @inlinable
    func write(_ emit: (UInt8) -> Void, packet: UnsafeRawBufferPointer) {
        switch self {
        case .ipv4(let a):
            for k in 0..<4 {
                if k > 0 { emit(UInt8(ascii: ".")) }
                writeDecimal(UInt8(truncatingIfNeeded: a >> (24 - 8 * k)), emit)
            }
        case .ipv6(let a):
            writeIPv6(a, emit)
        case .name(let offset, let length):
            var o = offset
            let end = offset + length
            var first = true
            while o < end {
                let len = Int(packet[o])
                if !first { emit(UInt8(ascii: ".")) }
                first = false
                for k in 1...max(len, 1) where len > 0 { emit(DomainName.lower(packet[o + k])) }
                o += 1 + len
            }
        }
    }
}

@inlinable
func writeDecimal(_ v: UInt8, _ emit: (UInt8) -> Void) {
    if v >= 100 { emit(UInt8(ascii: "0") + v / 100) }
    if v >= 10 { emit(UInt8(ascii: "0") + (v / 10) % 10) }
    emit(UInt8(ascii: "0") + v % 10)
}

/// RFC 5952 text: lower-case hex, no leading zeros, the longest run (>1) of zero words as `::`.
@inlinable
func writeIPv6(_ a: UInt128, _ emit: (UInt8) -> Void) {
    @inline(__always) func word(_ i: Int) -> UInt16 { UInt16(truncatingIfNeeded: a >> (112 - 16 * i)) }
    var bestStart = -1
    var bestLength = 1
    var i = 0
    while i < 8 {
        if word(i) == 0 {
            var j = i
            while j < 8, word(j) == 0 { j += 1 }
            if j - i > bestLength {
                bestStart = i
                bestLength = j - i
            }
            i = j
        } else {
            i += 1
        }
    }
    let hex: StaticString = "0123456789abcdef"
    i = 0
    while i < 8 {
        if i == bestStart {
            emit(UInt8(ascii: ":"))
            if i == 0 { emit(UInt8(ascii: ":")) }
            i += bestLength
            if i == 8 {
                if bestStart != 0 { emit(UInt8(ascii: ":")) }
                break
            }
            continue
        }
        if i > 0 { emit(UInt8(ascii: ":")) }
        let w = word(i)
        var started = false
        for shift in stride(from: 12, through: 0, by: -4) {
            let n = Int((w >> UInt16(shift)) & 0xF)
            if n != 0 || started || shift == 0 {
                started = true
                emit(hex.utf8Start[n])
            }
        }
        i += 1
    }
}

/// Reads a reversed IPv4 name (`d.c.b.a`, each label 1-3 decimal digits, value <= 255). With
/// fewer than four labels the octets found are the high-order ones (`0.0.127` is 127.0.0.x).
@inlinable
func parseReversedIPv4(_ p: UnsafeRawBufferPointer, from: Int, labels: Int, octets: inout UInt32) -> Bool {
    var o = from
    var value: UInt32 = 0
    for k in 0..<labels {
        let len = Int(p[o])
        guard len >= 1, len <= 3 else { return false }
        var n: UInt32 = 0
        for j in 1...len {
            let c = p[o + j] &- UInt8(ascii: "0")
            guard c < 10 else { return false }
            n = n * 10 + UInt32(c)
        }
        guard n <= 255 else { return false }
        value |= n << (8 * UInt32(k + 4 - labels))
        o += 1 + len
    }
    octets = value
    return true
}

/// Reads a reversed nibble name (RFC 3596 §2.5 style, `b.a.9.8...`), `labels` <= 32 nibbles;
/// the nibbles found are the high-order ones of the result.
@inlinable
func parseReversedNibbles(_ p: UnsafeRawBufferPointer, from: Int, labels: Int, address: inout UInt128) -> Bool {
    var o = from
    var value: UInt128 = 0
    for k in 0..<labels {
        guard p[o] == 1 else { return false }
        let c = DomainName.lower(p[o + 1])
        let n: UInt8
        if c &- UInt8(ascii: "0") < 10 {
            n = c - UInt8(ascii: "0")
        } else if c &- UInt8(ascii: "a") < 6 {
            n = c - UInt8(ascii: "a") + 10
        } else {
            return false
        }
        // The first label is the lowest-order nibble of the labels given.
        value |= UInt128(n) << (4 * UInt128(k + 32 - labels))
        o += 2
    }
    address = value
    return true
}
