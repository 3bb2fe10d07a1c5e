/// One CSV line (RFC 4180): fields with a comma, a quote or a line break are quoted.
public enum CSV {
    /// `spreadsheet`: for files people open in a spreadsheet (the console's exports), a field
    /// that would start a formula (`=`, `+`, `-`, `@`, tab, CR) gets a leading `'`, so a
    /// reason written by a reporter is shown as text and never run (OWASP "CSV injection").
    public static func line(_ fields: [String], spreadsheet: Bool = false) -> String {
        fields.map { field(spreadsheet ? neutral($0) : $0) }.joined(separator: ",") + "\n"
    }

    public static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return s }
        var out = "\""
        for c in s {
            if c == "\"" { out += "\"\"" } else { out.append(c) }
        }
        return out + "\""
    }

    static func neutral(_ s: String) -> String {
        guard let c = s.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(c) else { return s }
        return "'" + s
    }
}
