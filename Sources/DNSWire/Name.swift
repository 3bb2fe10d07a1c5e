/// Domain-name helpers for code off the query path (configuration, tests, logs). The query path
/// compares names in place in the packet and never builds one of these.
public enum DomainName {
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// Presentation text to uncompressed wire form. Accepts a trailing dot or not; `@` and the
    /// empty string are the root. Escapes `\.` and `\DDD` are understood.
    public static func wire(fromText text: String, lowercase: Bool = false) throws(Error) -> [UInt8] {
        var out: [UInt8] = []
        var label: [UInt8] = []
        let bytes = Array(text.utf8)
        if bytes.isEmpty || bytes == [UInt8(ascii: ".")] || bytes == [UInt8(ascii: "@")] { return [0] }
        var i = 0
        func flush() throws(Error) {
            guard !label.isEmpty else { throw Error(description: "empty label in '\(text)'") }
            guard label.count <= WireLimits.maxLabelLength else {
                throw Error(description: "label longer than 63 octets in '\(text)'")
            }
            out.append(UInt8(label.count))
            out.append(contentsOf: label)
            label.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            var c = bytes[i]
            if c == UInt8(ascii: ".") {
                try flush()
                i += 1
                if i == bytes.count { break }
                continue
            }
            if c == UInt8(ascii: "\\"), i + 1 < bytes.count {
                if i + 3 < bytes.count, let d = Int(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self)),
                    d <= 255
                {
                    c = UInt8(d)
                    i += 4
                } else {
                    c = bytes[i + 1]
                    i += 2
                }
            } else {
                i += 1
            }
            if lowercase, c >= 0x41, c <= 0x5A { c |= 0x20 }
            label.append(c)
        }
        if !label.isEmpty { try flush() }
        out.append(0)
        guard out.count <= WireLimits.maxNameLength else {
            throw Error(description: "name longer than 255 octets: '\(text)'")
        }
        return out
    }

    /// Wire form (uncompressed, from `start`) to presentation text without the trailing dot.
    public static func text(fromWire p: UnsafeRawBufferPointer, at start: Int) -> String {
        var parts: [String] = []
        var o = start
        var hops = 0
        while o < p.count {
            let len = Int(p[o])
            if len == 0 { break }
            if len & 0xC0 == 0xC0 {
                guard o + 1 < p.count, hops < WireLimits.maxPointerHops else { break }
                o = (len & 0x3F) << 8 | Int(p[o + 1])
                hops += 1
                continue
            }
            guard o + 1 + len <= p.count else { break }
            parts.append(labelText(UnsafeRawBufferPointer(rebasing: p[(o + 1)..<(o + 1 + len)])))
            o += 1 + len
        }
        return parts.joined(separator: ".")
    }

    public static func text(fromWire bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { text(fromWire: $0, at: 0) }
    }

    static func labelText(_ label: UnsafeRawBufferPointer) -> String {
        var s = ""
        for c in label {
            switch c {
            case UInt8(ascii: "."), UInt8(ascii: "\\"):
                s.append("\\")
                s.append(Character(Unicode.Scalar(c)))
            case 0x21...0x7E:
                s.append(Character(Unicode.Scalar(c)))
            default:
                let d = String(c)
                s.append("\\" + String(repeating: "0", count: 3 - d.count) + d)
            }
        }
        return s
    }

    /// ASCII lower-casing of one octet, the only case folding DNS knows (RFC 4343).
    @inlinable @inline(__always)
    public static func lower(_ c: UInt8) -> UInt8 {
        (c &- 0x41) < 26 ? c | 0x20 : c
    }
}
