extension StringProtocol {
    /// The text without leading and trailing blanks (tab and the Unicode space separators, as
    /// Foundation's `.whitespaces`), without a trip through NSString: header parsing trims
    /// every field of every message, and Foundation's version was a tenth of intake's time.
    func trimmingWhitespace() -> String {
        let scalars = Substring(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !Self.isBlank($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !Self.isBlank($0) })!
        return String(Substring(scalars[first...last]))
    }

    private static func isBlank(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII { return s == " " || s == "\t" }
        return s.properties.generalCategory == .spaceSeparator
    }
}
