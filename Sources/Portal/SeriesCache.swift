import HTTPAPI
import Store
import Synchronization

/// The statistics series behind the charts of `/stats`, the dashboard and the periodic report.
/// It reads every listing (a 1.6 M-listing store takes seconds), so a series is kept while the
/// store has not changed (its change counter) and for at most `maximumAge` seconds. When it
/// must be made again: a store that answered quickly last time is read again at once (the
/// figures are always current there, tests included); a big one serves the last figures while
/// one task computes the next, so a page never waits for it after the first.
final class SeriesCache: Sendable {
    struct Entry {
        var series: StatisticsSeries
        var at: Int
        var change: Int
        /// How long the last computation took (seconds).
        var took: Double
    }

    let maximumAge: Int
    /// A computation faster than this is repeated on the request (no stale figures).
    let quick = 0.05
    let entries = Mutex<[String: Entry]>([:])
    /// The computation under way per series and store state (its change counter): callers
    /// for the same state share it; a changed store starts anew.
    let running = Mutex<[String: Task<StatisticsSeries, any Error>]>([:])

    init(maximumAge: Int = 300) { self.maximumAge = maximumAge }

    func current(_ store: ListingStore, now: Int, weeks: Int, days: Int) async throws -> StatisticsSeries {
        let id = "\(weeks)/\(days)"
        let change = try await offLoop { try store.changeCounter() }
        let kept = entries.withLock { $0[id] }
        if let entry = kept {
            // A clock moved back (tests with --now) makes a new series too.
            if entry.change == change && (entry.at...(entry.at + maximumAge)).contains(now) { return entry.series }
            if entry.took >= quick {
                _ = computation(store, id: id, now: now, change: change, weeks: weeks, days: days)
                return entry.series
            }
        }
        return try await computation(store, id: id, now: now, change: change, weeks: weeks, days: days).value
    }

    /// The computation of this series for this store state: the one under way, or a new one.
    func computation(_ store: ListingStore, id: String, now: Int, change: Int, weeks: Int, days: Int) -> Task<StatisticsSeries, any Error> {
        let flight = "\(id)@\(change)"
        return running.withLock { r in
            if let t = r[flight] { return t }
            let t = Task<StatisticsSeries, any Error> {
                defer { _ = self.running.withLock { $0.removeValue(forKey: flight) } }
                let started = ContinuousClock.now
                let s = try await offLoop { try store.series(now: now, weeks: weeks, days: days) }
                let d = ContinuousClock.now - started
                let took = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
                self.entries.withLock { $0[id] = Entry(series: s, at: now, change: change, took: took) }
                return s
            }
            r[flight] = t
            return t
        }
    }
}
