import ListingKeys
import Store

/// What must hold for any feed, however hostile, in every format: checked on every input by the
/// feed fuzz target (Fuzz/FeedFuzz.swift) and by the test that replays its corpus. A violation
/// stops the process (precondition), naming what broke.
public enum FeedInvariants {
    /// An error names the line at fault and quotes it cut short: never the whole input.
    public static let maxMessage = 1024

    /// The formats a feed is read as (rbldnsd data files have a fuzz target of their own).
    public static let formats: [FeedFormat] = [.plain, .csv, .jsonl, .drop, .arf]

    /// Read in every format (the corpus replay).
    public static func check(_ input: [UInt8]) {
        for format in formats { check(input, as: format) }
    }

    /// Read in one format (the fuzz target picks it from the input's first octet).
    public static func check(_ input: [UInt8], as format: FeedFormat) {
        _ = FeedFormat.detect(input[...].prefix(64 << 10))
        if format == .arf { return checkARF(input) }
        do {  // one line format
            var parser = FeedLineParser(format: format, defaultCategory: .spam)
            var lineNumber = 0
            var start = 0
            while start <= input.count {
                var end = start
                while end < input.count, input[end] != 10 { end += 1 }
                lineNumber += 1
                input.withUnsafeBufferPointer { all in
                    let line = UnsafeBufferPointer(rebasing: all[start..<end])
                    do {
                        if let e = try parser.parse(line, line: lineNumber) { entry(e, line: lineNumber) }
                    } catch {
                        let message = "\(error)"
                        precondition(message.utf8.count <= maxMessage, "a \(format) error of \(message.utf8.count) octets: \(message.prefix(200))")
                    }
                }
                start = end + 1
            }
        }
    }

    static func checkARF(_ input: [UInt8]) {
        do {
            let (entries, errors) = try ARFFeed.entries(input, defaultCategory: .spam)
            for e in entries { entry(e, line: 0) }
            for e in errors { precondition(e.message.utf8.count <= maxMessage, "an ARF error of \(e.message.utf8.count) octets") }
        } catch {
            let message = "\(error)"
            precondition(message.utf8.count <= maxMessage, "an ARF refusal of \(message.utf8.count) octets")
        }
    }

    /// A report's key reads back as itself from its text (what the store keeps), and its
    /// fields are what the store can hold.
    static func entry(_ e: FeedEntry, line: Int) {
        precondition(e.line == line, "an entry of line \(e.line) read from line \(line)")
        let key = e.report.key
        precondition((try? KeySpec(parsing: key.description)) == key, "the key '\(key)' does not read back as itself")
        if let ttl = e.report.ttl { precondition(ttl >= 0, "a negative TTL") }
    }
}
