import Foundation
import Glibc

/// Content-Transfer-Encodings (RFC 2045 §6): both decoders skip what does not belong (spam is
/// often malformed) rather than fail.
enum TransferEncoding {
    static func base64(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3 / 4)
        var acc: UInt32 = 0
        var n = 0
        for c in bytes {
            let v: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): v = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): v = 63
            case UInt8(ascii: "="): return finish()
            default: continue
            }
            acc = acc << 6 | v
            n += 1
            if n == 4 {
                out += [UInt8(acc >> 16 & 255), UInt8(acc >> 8 & 255), UInt8(acc & 255)]
                acc = 0
                n = 0
            }
        }
        return finish()
        func finish() -> [UInt8] {
            if n == 2 { out.append(UInt8(acc >> 4 & 255)) }
            if n == 3 { out += [UInt8(acc >> 10 & 255), UInt8(acc >> 2 & 255)] }
            return out
        }
    }

    /// Quoted-printable: `=XX` octets, `=` at a line's end joins it to the next; with `header`,
    /// `_` is a space (RFC 2047 "Q").
    static func quotedPrintable(_ bytes: ArraySlice<UInt8>, header: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        while i < bytes.endIndex {
            let c = bytes[i]
            if c == UInt8(ascii: "=") {
                if i + 2 < bytes.endIndex, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) {
                    out.append(h << 4 | l)
                    i += 3
                    continue
                }
                // Soft line break: `=` then optional spaces then (CR) LF.
                var j = i + 1
                while j < bytes.endIndex && (bytes[j] == 32 || bytes[j] == 9) { j += 1 }
                if j < bytes.endIndex && bytes[j] == 13 { j += 1 }
                if j < bytes.endIndex && bytes[j] == 10 {
                    i = j + 1
                    continue
                }
                if j == bytes.endIndex {
                    i = j
                    continue
                }
                out.append(c)
                i += 1
            } else if header && c == UInt8(ascii: "_") {
                out.append(32)
                i += 1
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }
}

/// Text in a named charset to Unicode: UTF-8 and ASCII directly, anything else through
/// glibc's iconv, which knows the charsets Vietnamese mail comes in (UTF-8, Windows-1258,
/// VISCII, TCVN) beside the rest. An unknown charset, or octets invalid in it, fall back to
/// UTF-8 with replacement characters: text is for finding links, never fatal.
enum Charsets {
    static func decode(_ bytes: [UInt8], charset: String?) -> String {
        let name = (charset ?? "utf-8").trimmingWhitespace().lowercased()
        if ["utf-8", "utf8", "us-ascii", "ascii", ""].contains(name) { return String(decoding: bytes, as: UTF8.self) }
        return convert(bytes, from: name) ?? String(decoding: bytes, as: UTF8.self)
    }

    static func convert(_ bytes: [UInt8], from charset: String) -> String? {
        let cd = iconv_open("UTF-8", charset)
        guard cd != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(cd) }
        var input = bytes.map { CChar(bitPattern: $0) }
        var output = [CChar](repeating: 0, count: bytes.count * 4 + 16)
        let produced: Int? = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                var inPtr: UnsafeMutablePointer<CChar>? = inBuf.baseAddress
                var inLeft = inBuf.count
                var outPtr: UnsafeMutablePointer<CChar>? = outBuf.baseAddress
                var outLeft = outBuf.count
                while inLeft > 0 {
                    if iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft) == -1 {
                        // An invalid octet: skip it and go on (E2BIG cannot happen: 4 per octet).
                        guard errno == EILSEQ || errno == EINVAL, inLeft > 0 else { return nil }
                        inPtr = inPtr.map { $0 + 1 }
                        inLeft -= 1
                    }
                }
                // A stateful charset (Windows-1258 holds a letter back for its tone mark) gives
                // its last characters when told the input has ended.
                _ = iconv(cd, nil, nil, &outPtr, &outLeft)
                return outBuf.count - outLeft
            }
        }
        guard let n = produced else { return nil }
        return String(decoding: output[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// RFC 2047 encoded words in header fields (`=?UTF-8?B?...?=`, `=?windows-1258?Q?...?=`):
/// decoded to Unicode; white space between two encoded words goes (§6.2).
enum EncodedWords {
    static func decode(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var out = ""
        var rest = Substring(value)
        var lastWasEncoded = false
        while let start = rest.range(of: "=?") {
            let before = rest[..<start.lowerBound]
            let afterStart = rest[start.upperBound...]
            // charset ? encoding ? text ?=
            let fields = afterStart.split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4, fields[3].hasPrefix("="), fields[1].count == 1 else {
                out += before + "=?"
                rest = afterStart
                lastWasEncoded = false
                continue
            }
            let charset = String(fields[0].split(separator: "*")[0])
            let payload = Array(fields[2].utf8)
            let bytes = fields[1].lowercased() == "b" ? TransferEncoding.base64(payload[...]) : TransferEncoding.quotedPrintable(payload[...], header: true)
            if !(lastWasEncoded && before.allSatisfy({ $0 == " " || $0 == "\t" })) { out += before }
            out += Charsets.decode(bytes, charset: charset)
            lastWasEncoded = true
            rest = fields[3].dropFirst()
        }
        return out + rest
    }
}
