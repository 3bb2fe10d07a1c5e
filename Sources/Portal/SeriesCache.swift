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
        var refreshing: Bool
    }

    let maximumAge: Int
    /// A computation faster than this is repeated on the request (no stale figures).
    let quick = 0.05
    let entries = Mutex<[String: Entry]>([:])
    /// A computation under way per series and store state (its change counter): later callers
    /// for the same state wait for it instead of starting more; a changed store starts anew.
    let running = Mutex<[String: Task<StatisticsSeries, any Error>]>([:])

    init(maximumAge: Int = 300) { self.maximumAge = maximumAge }

    func current(_ store: ListingStore, now: Int, weeks: Int, days: Int) async throws -> StatisticsSeries {
        let id = "\(weeks)/\(days)"
        let change = try await offLoop { try store.changeCounter() }
        enum Plan { case serve(StatisticsSeries), serveAndRefresh(StatisticsSeries), compute }
        let plan = entries.withLock { e -> Plan in
            guard let entry = e[id] else { return .compute }
            // A clock moved back (tests with --now) makes a new series too.
            let fresh = entry.change == change && (entry.at...(entry.at + maximumAge)).contains(now)
            if fresh { return .serve(entry.series) }
            if entry.took < quick { return .compute }
            if entry.refreshing { return .serve(entry.series) }
            e[id]?.refreshing = true
            return .serveAndRefresh(entry.series)
        }
        switch plan {
        case .serve(let s):
            return s
        case .serveAndRefresh(let s):
            Task { try? await self.compute(store, id: id, now: now, change: change, weeks: weeks, days: days) }
            return s
        case .compute:
            return try await compute(store, id: id, now: now, change: change, weeks: weeks, days: days)
        }
    }

    @discardableResult
    func compute(_ store: ListingStore, id: String, now: Int, change: Int, weeks: Int, days: Int) async throws -> StatisticsSeries {
        let flight = "\(id)@\(change)"
        let task = running.withLock { r -> Task<StatisticsSeries, any Error> in
            if let t = r[flight] { return t }
            let t = Task<StatisticsSeries, any Error> {
                defer { _ = self.running.withLock { $0.removeValue(forKey: flight) } }
                do {
                    let started = ContinuousClock.now
                    let s = try await offLoop { try store.series(now: now, weeks: weeks, days: days) }
                    let d = ContinuousClock.now - started
                    let took = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
                    self.entries.withLock { $0[id] = Entry(series: s, at: now, change: change, took: took, refreshing: false) }
                    return s
                } catch {
                    self.entries.withLock { $0[id]?.refreshing = false }
                    throw error
                }
            }
            r[flight] = t
            return t
        }
        return try await task.value
    }
}
