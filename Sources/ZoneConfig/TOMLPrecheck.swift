/// The inputs toml++ (inside TOMLKit 0.6.0, the only version we can build with) stops the
/// process on, with an assertion, instead of reporting them: found by the configuration fuzz
/// target, refused here first with their line. toml++ fixed these upstream later; everything
/// else that is wrong is left to its own, fuller messages.
/// - a table header without a name (`[` then a newline, `[[[`, `[=`);
/// - a closing bracket of the other kind inside an array or an inline table (`x = [1, }`).
///
/// One pass over the text: strings (basic, literal, and their multi-line forms) and comments
/// are skipped, so brackets in them count for nothing; a header is a `[` that starts a line
/// outside any value.
enum TOMLPrecheck {
    static func refusal(_ bytes: [UInt8]) -> (line: Int, why: String)? {
        let n = bytes.count
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        var open: [UInt8] = []  // the `[` and `{` of the values open here
        var lineStart = true
        var header = false  // in a table header: its brackets are not values
        func at(_ k: Int) -> UInt8 { k < n ? bytes[k] : 10 }
        while i < n {
            let c = bytes[i]
            switch c {
            case 10:
                line += 1
                lineStart = true
                header = false
                i += 1
                continue
            case 32, 9, 13:
                i += 1
                continue
            case UInt8(ascii: "#"):
                while i < n, bytes[i] != 10 { i += 1 }
                continue
            case 0x22, 0x27:  // " and '
                lineStart = false
                if at(i + 1) == c && at(i + 2) == c {
                    i += 3
                    while i < n, !(bytes[i] == c && at(i + 1) == c && at(i + 2) == c) {
                        if bytes[i] == 10 { line += 1 }
                        i += c == 0x22 && bytes[i] == 0x5C ? 2 : 1
                    }
                    i += 3
                } else {
                    i += 1
                    while i < n, bytes[i] != c, bytes[i] != 10 { i += c == 0x22 && bytes[i] == 0x5C ? 2 : 1 }
                    if at(i) == c { i += 1 }
                }
                continue
            default:
                break
            }
            if lineStart && open.isEmpty && c == UInt8(ascii: "[") {
                var j = i + 1
                if at(j) == UInt8(ascii: "[") { j += 1 }
                while at(j) == 32 || at(j) == 9 { j += 1 }
                let d = at(j)
                let letter = d | 0x20 >= 0x61 && d | 0x20 <= 0x7A
                guard letter || (d >= 0x30 && d <= 0x39) || d == 0x2D || d == 0x5F || d == 0x22 || d == 0x27 else {
                    return (line, "a table header needs a name: [section] or [[zone]]")
                }
                header = true
            } else if !header {
                switch c {
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    open.append(c)
                case UInt8(ascii: "]"):
                    if open.last == UInt8(ascii: "{") { return (line, "']' inside an inline table: it ends with '}'") }
                    _ = open.popLast()
                case UInt8(ascii: "}"):
                    if open.last == UInt8(ascii: "[") { return (line, "'}' inside an array: it ends with ']'") }
                    _ = open.popLast()
                default:
                    break
                }
            }
            lineStart = false
            i += 1
        }
        return nil
    }
}
