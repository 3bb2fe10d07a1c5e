import Foundation
import ListingKeys
import Store

/// Reads a feed and applies it to the store in one transaction, as it reads: bad lines are
/// reported (and counted as rejected) and skipped; a feed that cannot be read, or that has
/// rejected lines and not one usable line, applies nothing.
public struct FeedIngestor {
    public let store: ListingStore
    public init(store: ListingStore) { self.store = store }

    public struct Result: Sendable {
        public var counts: IngestCounts
        public var format: FeedFormat
    }

    /// How far a feed has been read, for a progress display.
    public struct Progress: Sendable {
        public var bytes: Int
        public var size: Int?
        public var lines: Int
    }

    /// `refuseBadLines`: one bad line refuses the whole feed (the API: nothing of a rejected
    /// request is applied); otherwise bad lines are skipped, as `thurac ingest` does.
    /// `newPublicReporter`: the source is a public reporter's, made with the feed when new
    /// (see `ListingStore.ingest`).
    public func ingest(
        _ reader: FeedReader, source: String, format: FeedFormat?, category: Category, ttl: Int?, now: Int,
        policy: Policy = Policy(), newPublicReporter: String? = nil, refuseBadLines: Bool = false,
        badLine: (FeedLineError) -> Void = { _ in }, progress: ((Progress) -> Void)? = nil
    ) throws -> Result {
        let f = try format ?? FeedFormat.detect(reader.peek())
        var rejected = 0
        let counts = try store.ingest(source: source, ttlOverride: ttl, now: now, policy: policy, newPublicReporter: newPublicReporter) { writer in
            func reject(_ e: FeedLineError) {
                writer.reject()
                rejected += 1
                badLine(e)
            }
            func add(_ e: FeedEntry) throws {
                try writer.add(e.report)
            }
            switch f {
            case .plain, .csv, .jsonl, .drop:
                var parser = FeedLineParser(format: f, defaultCategory: category)
                try reader.forEachLine { line in
                    let n = reader.lineNumber
                    do {
                        if let e = try parser.parse(line, line: n) { try add(e) }
                    } catch let e as KeyError {
                        reject(FeedLineError(line: n, message: e.description))
                    }
                    if let progress, n & 0xFFFF == 0 { progress(Progress(bytes: reader.position, size: reader.size, lines: n)) }
                }
            case .arf:
                let (entries, errors) = try ARFFeed.entries(reader.readAll(limit: 16 << 20), defaultCategory: category)
                errors.forEach(reject)
                try entries.forEach(add)
            case .rbldnsd:
                let type = try RbldnsdFeed.type(of: reader.peek())
                let (entries, errors) = try Self.withPath(reader) { path throws(FeedError) in
                    try RbldnsdFeed.entries(path: path, type: type, defaultCategory: category)
                }
                errors.forEach(reject)
                try entries.forEach(add)
            }
            // Thrown inside the store's transaction: it rolls back.
            if refuseBadLines && rejected > 0 { throw FeedError("\(rejected) bad line(s): nothing was applied") }
        }
        return Result(counts: counts, format: f)
    }

    /// A whole feed given as text (tests, small API bodies).
    public func ingest(
        text: String, source: String, format: FeedFormat?, category: Category, ttl: Int?, now: Int,
        badLine: (FeedLineError) -> Void = { _ in }
    ) throws -> Result {
        try ingest(
            FeedReader(bytes: Array(text.utf8), name: "<text>"), source: source, format: format, category: category, ttl: ttl,
            now: now, badLine: badLine)
    }

    /// rbldnsd's parser reads files: a feed from standard input or memory is spooled to one.
    static func withPath<T>(_ reader: FeedReader, _ body: (String) throws(FeedError) -> T) throws(FeedError) -> T {
        if let path = reader.path { return try body(path) }
        let bytes = try reader.readAll(limit: 1 << 30)
        let path = NSTemporaryDirectory() + "thurac-feed-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw FeedError("cannot spool the feed to \(path)")
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }
}
