import Foundation
import ListingKeys
import Store

/// Reads a feed and applies it to the store: parse every line first (bad lines are listed and
/// skipped), then apply the good ones in one transaction. A feed with no usable line at all and
/// at least one bad one is rejected whole.
public struct FeedIngestor {
    public let store: ListingStore
    public init(store: ListingStore) { self.store = store }

    public struct Result: Sendable {
        public var counts: IngestCounts
        public var errors: [FeedLineError]
        public var format: FeedFormat
    }

    public func ingest(
        text: String, source: String, format: FeedFormat?, category: Category, ttl: Int?, now: Int
    ) throws -> Result {
        let f = format ?? FeedFormat.detect(text)
        let (entries, errors) = FeedParser.parse(text, format: f, defaultCategory: category)
        if entries.isEmpty && !errors.isEmpty {
            throw StoreError("no usable line in the feed (\(errors.count) bad; first: \(errors[0]))")
        }
        let reports = entries.map {
            ReportInput(key: $0.key, category: $0.category, reason: $0.reason, ttl: $0.ttl, seen: $0.seen)
        }
        let counts = try store.ingest(reports, source: source, ttlOverride: ttl, now: now, rejected: errors.count)
        return Result(counts: counts, errors: errors, format: f)
    }
}
