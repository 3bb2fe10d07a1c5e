/// Character-strings (RFC 1035 §3.3): the length-prefixed strings of TXT and HINFO RDATA, in
/// wire and presentation form. The one place they are written: zone export, rbldnsd datasets,
/// dumps, and (streaming, in place) the query path's TXT answers.
public enum CharacterStrings {
    /// Bytes as character-strings of at most 255 octets (one empty string for no bytes).
    public static func wire(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / WireLimits.maxCharacterString + 1)
        var rest = bytes[...]
        repeat {
            let chunk = rest.prefix(WireLimits.maxCharacterString)
            out.append(UInt8(chunk.count))
            out += chunk
            rest = rest.dropFirst(chunk.count)
        } while !rest.isEmpty
        return out
    }

    /// Bytes as character-strings of `wire`, each in presentation form, joined by spaces.
    public static func presentation(text bytes: [UInt8]) -> String {
        presentation(rdata: wire(bytes)).joined(separator: " ")
    }

    /// The character-strings of RDATA in presentation form (RFC 1035 §5.1): each quoted, `"` and
    /// `\` escaped, bytes outside printable ASCII as `\DDD`. A last string cut short by the end
    /// of the RDATA is shown as far as it goes.
    public static func presentation(rdata r: [UInt8]) -> [String] {
        var strings: [String] = []
        var o = 0
        while o < r.count {
            let n = Int(r[o])
            strings.append(quoted(r[(o + 1)..<min(r.count, o + 1 + n)]))
            o += 1 + n
        }
        return strings
    }

    static func quoted(_ chunk: ArraySlice<UInt8>) -> String {
        var s = "\""
        for c in chunk {
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): s += "\\" + String(UnicodeScalar(c))
            case 0x20...0x7E: s += String(UnicodeScalar(c))
            default: s += "\\" + String(repeating: "0", count: 3 - String(c).count) + String(c)
            }
        }
        return s + "\""
    }
}

/// Writes TXT RDATA as a sequence of character-strings, splitting at 255 octets (RFC 1035 §3.3.14,
/// RFC 7208 §3.3), byte by byte so callers can stream a template expansion into it.
public struct CharacterStringWriter {
    @usableFromInline var lengthAt: Int
    @usableFromInline var runLength: Int

    @inlinable
    public init(writer: inout ResponseWriter) {
        lengthAt = writer.position
        runLength = 0
        writer.append(UInt8(0))
    }

    /// Returns false when the packet limit was reached (nothing more was written).
    @inlinable
    public mutating func append(_ byte: UInt8, to writer: inout ResponseWriter) -> Bool {
        if runLength == WireLimits.maxCharacterString {
            guard writer.fits(2) else { return false }
            writer.buffer[lengthAt] = UInt8(runLength)
            lengthAt = writer.position
            writer.append(UInt8(0))
            runLength = 0
        }
        guard writer.fits(1) else { return false }
        writer.append(byte)
        runLength += 1
        return true
    }

    @inlinable
    public mutating func finish(_ writer: inout ResponseWriter) {
        writer.buffer[lengthAt] = UInt8(runLength)
    }
}
