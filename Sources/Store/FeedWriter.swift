import Dispatch
import GRDBSQLite
import ListingKeys

/// Takes the reports of one feed while its transaction is open (see `ListingStore.ingest`).
/// Reports are held in runs of at most `runLength`, each sorted by key and written to a
/// temporary table through one prepared statement: memory stays bounded whatever the feed's
/// length, and sorted runs land in neighbouring B-tree pages instead of random ones (about
/// twice as fast as writing in feed order).
///
/// A full run is written on a second thread while the feed's thread reads and sorts the next
/// one (a 1 M-line feed: 2.8 s of reading, sorting and writing become about 2 s). The
/// connection is never used by both: the feed's thread touches it only after `settle()`, and
/// the staging thread only between a hand-off and the next wait.
public final class FeedWriter {
    struct Staged {
        var key: String
        var category: String
        var excluded: Bool
        var reason: String?
        var evidence: String?
        var seen: Int
        var ttl: Int?
        var sequence: Int
    }

    /// One run being written on the staging thread, with the connection's handles (never used
    /// by two threads at once, see above); its array comes back emptied, for reuse.
    final class StagingJob: @unchecked Sendable {
        var run: [Staged]
        var error: (any Error)?
        let statement: OpaquePointer
        let connection: OpaquePointer
        let done = DispatchSemaphore(value: 0)
        init(run: [Staged], statement: OpaquePointer, connection: OpaquePointer) {
            (self.run, self.statement, self.connection) = (run, statement, connection)
        }
    }

    let statement: OpaquePointer
    let connection: OpaquePointer
    let allowlist: KeyCover
    let defaultTTL: Int?
    let now: Int
    let runLength: Int
    var run: [Staged] = []
    var staging: StagingJob?
    lazy var stager = DispatchQueue(label: "thurac.feed-staging")
    var counts = IngestCounts()
    /// Lines taken (not allowlisted).
    public private(set) var accepted = 0

    init(connection: OpaquePointer, statement: OpaquePointer, allowlist: KeyCover, defaultTTL: Int?, now: Int, runLength: Int) {
        self.connection = connection
        self.statement = statement
        self.allowlist = allowlist
        self.defaultTTL = defaultTTL
        self.now = now
        self.runLength = runLength
        run.reserveCapacity(min(runLength, 1 << 16))
    }

    /// Lines of the feed that could not be used (they are counted, never applied).
    public func reject(_ n: Int = 1) { counts.rejected += n }

    public func add(_ r: ReportInput) throws {
        if !allowlist.isEmpty && allowlist.covers(r.key.key) {
            counts.allowlisted += 1
            return
        }
        let (seen, ttl) = (r.seen ?? now, r.ttl ?? defaultTTL)
        if let ttl, seen + ttl <= now {
            counts.stale += 1
            return
        }
        run.append(
            Staged(
                key: r.key.description, category: r.category.rawValue, excluded: r.key.excluded, reason: r.reason,
                evidence: r.evidence, seen: seen, ttl: ttl, sequence: accepted))
        accepted += 1
        if run.count >= runLength { try handOff() }
    }

    /// Sorts the full run and has the staging thread write it, once the one before is written.
    func handOff() throws {
        Self.sort(&run)
        var spare = try settle()
        spare.reserveCapacity(run.count)
        let job = StagingJob(run: run, statement: statement, connection: connection)
        run = spare
        staging = job
        stager.async {
            do { try Self.write(&job.run, statement: job.statement, connection: job.connection) } catch { job.error = error }
            job.done.signal()
        }
    }

    /// Waits for the run being staged, if any: afterwards nothing but the caller uses the
    /// connection. Returns that run's emptied array; throws what writing it threw.
    @discardableResult
    func settle() throws -> [Staged] {
        guard let job = staging else { return [] }
        job.done.wait()
        staging = nil
        if let error = job.error { throw error }
        return job.run
    }

    /// Writes what is held, on the caller's thread, after the run being staged.
    func flush() throws {
        try settle()
        Self.sort(&run)
        try Self.write(&run, statement: statement, connection: connection)
    }

    /// Feed order among equal keys, so the last line still wins.
    static func sort(_ run: inout [Staged]) {
        run.sort { ($0.key, $0.category, $0.sequence) < ($1.key, $1.category, $1.sequence) }
    }

    /// Writes a sorted run through the staging statement and empties it (capacity kept).
    static func write(_ run: inout [Staged], statement s: OpaquePointer, connection: OpaquePointer) throws(StoreError) {
        defer { run.removeAll(keepingCapacity: true) }
        for r in run {
            sqlite3_reset(s)
            sqlite3_bind_int(s, 2, r.excluded ? 1 : 0)
            sqlite3_bind_int64(s, 6, Int64(r.seen))
            bind(s, 7, r.ttl)
            bind(s, 8, r.ttl.map { r.seen + $0 })
            // The texts are bound in place for the one step that reads them (no copy into
            // SQLite's memory: three allocations a line fewer on the staging thread).
            let staged = bound(s, 1, r.key) {
                bound(s, 3, r.category) {
                    bound(s, 4, r.reason) { bound(s, 5, r.evidence) { sqlite3_step(s) == SQLITE_DONE } }
                }
            }
            guard staged else {
                sqlite3_reset(s)
                sqlite3_clear_bindings(s)
                throw StoreError("cannot stage the feed: \(String(cString: sqlite3_errmsg(connection)))")
            }
        }
        sqlite3_reset(s)
        // Nothing bound may point at texts that are gone.
        sqlite3_clear_bindings(s)
    }

    /// Binds `text` (or NULL) to parameter `i` without copying it, for the duration of `body`
    /// only: SQLite reads a bound text when the statement steps, and `body` is where it does.
    static func bound(_ s: OpaquePointer, _ i: Int32, _ text: String?, _ body: () -> Bool) -> Bool {
        guard var text else {
            sqlite3_bind_null(s, i)
            return body()
        }
        return text.withUTF8 { utf8 in
            sqlite3_bind_text(s, i, utf8.baseAddress, Int32(utf8.count), nil)
            return body()
        }
    }

    static func bind(_ s: OpaquePointer, _ i: Int32, _ value: Int?) {
        guard let value else { sqlite3_bind_null(s, i); return }
        sqlite3_bind_int64(s, i, Int64(value))
    }
}
