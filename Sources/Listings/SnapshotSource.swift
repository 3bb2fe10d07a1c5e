/// Where a server's snapshots come from: rbldnsd dataset files, or the listings store.
/// The server asks for the first snapshot at start, then every check interval (and on SIGHUP)
/// for a newer one; building happens off the query path.
public protocol SnapshotSource: AnyObject {
    /// The first snapshot. Throws when the data cannot be loaded at all.
    func initialSnapshot(now: Int) throws -> (snapshot: ServingSnapshot, diagnostics: [String])
    /// A newer snapshot when the data changed (always when `force`), nil when nothing changed.
    /// Throws when a rebuild failed; the server keeps the current snapshot.
    func refreshedSnapshot(now: Int, force: Bool) throws -> (snapshot: ServingSnapshot?, diagnostics: [String])
    /// Entries behind the current snapshot, for the log.
    var entryCount: Int { get }
}
