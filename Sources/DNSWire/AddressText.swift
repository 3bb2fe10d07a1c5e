/// Addresses as people read them: dotted-quad IPv4 and RFC 5952 IPv6 (lower case, no leading
/// zeros, the longest run of two or more zero groups as `::`, the first such run on a tie). The
/// one place thurac turns an address into text: keys, dumps, logs and warnings all come here.
/// Written without libc or string interpolation: it runs once per address when a dump is made.
public enum AddressText {
    public static func ipv4(_ a: UInt32) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buf in
            var n = 0
            ipv4(a, into: buf, at: &n)
            return String(decoding: UnsafeBufferPointer(rebasing: buf[..<n]), as: UTF8.self)
        }
    }

    public static func ipv6(_ a: UInt128) -> String {
        var groups: (UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &groups) { raw in
            let g = raw.bindMemory(to: UInt16.self)
            for i in 0..<8 { g[i] = UInt16(truncatingIfNeeded: a >> (112 - 16 * UInt128(i))) }
            // The longest run of zero groups, if it is at least two long (RFC 5952 §4.2.2).
            var bestStart = -1
            var bestLength = 0
            var i = 0
            while i < 8 {
                if g[i] != 0 {
                    i += 1
                    continue
                }
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > bestLength && j - i >= 2 { (bestStart, bestLength) = (i, j - i) }
                i = j
            }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 48) { buf in
                var n = 0
                func put(_ c: UInt8) {
                    buf[n] = c
                    n += 1
                }
                func hex(_ v: UInt16) {
                    var started = false
                    for shift in stride(from: 12, through: 0, by: -4) {
                        let d = UInt8(truncatingIfNeeded: v >> UInt16(shift) & 15)
                        if d == 0 && !started && shift > 0 { continue }
                        started = true
                        put(d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10)
                    }
                }
                // ::ffff:a.b.c.d is written with its IPv4 address (RFC 5952 §5), and so is the
                // old IPv4-compatible ::a.b.c.d, as glibc's inet_ntop writes them (store keys
                // are text, so the form must not change).
                if bestStart == 0 && (bestLength == 6 || (bestLength == 5 && g[5] == 0xFFFF)) {
                    put(UInt8(ascii: ":"))
                    put(UInt8(ascii: ":"))
                    if bestLength == 5 {
                        for c in "ffff:".utf8 { put(c) }
                    }
                    ipv4(UInt32(truncatingIfNeeded: a), into: buf, at: &n)
                } else {
                    var k = 0
                    while k < 8 {
                        if k == bestStart {
                            put(UInt8(ascii: ":"))
                            put(UInt8(ascii: ":"))
                            k += bestLength
                            continue
                        }
                        if k > 0 && k != bestStart + bestLength { put(UInt8(ascii: ":")) }
                        hex(g[k])
                        k += 1
                    }
                }
                return String(decoding: UnsafeBufferPointer(rebasing: buf[..<n]), as: UTF8.self)
            }
        }
    }

    static func ipv4(_ a: UInt32, into buf: UnsafeMutableBufferPointer<UInt8>, at n: inout Int) {
        for shift in stride(from: 24, through: 0, by: -8) {
            let o = Int(a >> UInt32(shift) & 255)
            if o >= 100 {
                buf[n] = UInt8(ascii: "0") + UInt8(o / 100)
                n += 1
            }
            if o >= 10 {
                buf[n] = UInt8(ascii: "0") + UInt8(o / 10 % 10)
                n += 1
            }
            buf[n] = UInt8(ascii: "0") + UInt8(o % 10)
            n += 1
            if shift > 0 {
                buf[n] = UInt8(ascii: ".")
                n += 1
            }
        }
    }
}
