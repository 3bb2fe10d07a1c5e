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
                // \DDD: exactly three decimal digits (Int() alone would take "-12" or "+12",
                // and a negative value trapped here; found by the dataset fuzz target).
                let digits = i + 3 < bytes.count ? bytes[(i + 1)...(i + 3)] : []
                let d = digits.count == 3 && digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
                    ? digits.reduce(0) { $0 * 10 + Int($1 - 0x30) } : 256
                if d <= 255 {
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

    /// Walks the name at `start`, the one reader of names on the wire (queries, transfers,
    /// TSIG, NOTIFY, dumps): a compression pointer must point before itself, and what it points
    /// at must end before it too (a name written earlier: this also rules out loops); at most
    /// `WireLimits.maxPointerHops` are followed; label types 0x40 and 0x80 are refused (RFC 6891
    /// §5); the uncompressed name is at most 255 octets. `label` gets each label, without its
    /// length octet. Returns the offset after the name as written (after its first pointer), or
    /// nil when the name is malformed. Allocates nothing.
    @inlinable
    public static func walk(_ p: UnsafeRawBufferPointer, at start: Int, label: (UnsafeRawBufferPointer) -> Void = { _ in }) -> Int? {
        var o = start
        var end: Int? = nil
        var hops = 0
        var length = 1  // the root octet
        // Where the octets of the name may run to: the packet, then the last pointer followed
        // (a pointer into the header that ran on past the record was accepted, found by the
        // TSIG fuzz target).
        var limit = p.count
        while true {
            guard o < limit else { return nil }
            let len = Int(p[o])
            switch len & 0xC0 {
            case 0x00:
                if len == 0 { return end ?? o + 1 }
                length += len + 1
                guard length <= WireLimits.maxNameLength, o + 1 + len <= limit else { return nil }
                label(UnsafeRawBufferPointer(rebasing: p[(o + 1)..<(o + 1 + len)]))
                o += 1 + len
            case 0xC0:
                guard o + 1 < limit, hops < WireLimits.maxPointerHops else { return nil }
                let target = (len & 0x3F) << 8 | Int(p[o + 1])
                guard target < o else { return nil }
                if end == nil { end = o + 2 }
                limit = o
                o = target
                hops += 1
            default:
                return nil
            }
        }
    }

    /// The name at `start` in uncompressed wire form (lower-cased when asked), and the offset
    /// after it as written; nil when malformed.
    public static func read(_ p: UnsafeRawBufferPointer, at start: Int, lowercase: Bool = false) -> (name: [UInt8], end: Int)? {
        var out: [UInt8] = []
        guard
            let end = walk(p, at: start, label: { l in
                out.append(UInt8(l.count))
                for c in l { out.append(lowercase ? lower(c) : c) }
            })
        else { return nil }
        out.append(0)
        return (out, end)
    }

    /// The name at `start` as presentation text without the trailing dot; as much of it as
    /// could be read when it is malformed (this is for logs and dumps).
    public static func text(fromWire p: UnsafeRawBufferPointer, at start: Int) -> String {
        var parts: [String] = []
        _ = walk(p, at: start) { parts.append(labelText($0)) }
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
