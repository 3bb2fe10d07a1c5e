/// Input quoted in an error message: whole when short, otherwise its start and its length (a
/// 1 MB line must not make a 1 MB error), with control characters written as escapes so the
/// message stays one line.
public func quoted(_ text: some StringProtocol, limit: Int = 80) -> String {
    var out = "'"
    var shown = 0
    for scalar in text.unicodeScalars {
        if shown == limit { break }
        escaped(scalar, into: &out)
        shown += 1
    }
    out += "'"
    if shown == limit {
        let total = text.unicodeScalars.count
        if total > limit { out.insert("…", at: out.index(before: out.endIndex)); out += " (\(total) characters)" }
    }
    return out
}

/// A message from elsewhere (a library's parse error) that may quote input, made one line:
/// control characters written as escapes.
public func oneLine(_ text: some StringProtocol) -> String {
    var out = ""
    for scalar in text.unicodeScalars { escaped(scalar, into: &out) }
    return out
}

private func escaped(_ scalar: Unicode.Scalar, into out: inout String) {
    if scalar.value < 0x20 || scalar.value == 0x7F {
        out += "\\u{" + String(scalar.value, radix: 16) + "}"
    } else {
        out.unicodeScalars.append(scalar)
    }
}
