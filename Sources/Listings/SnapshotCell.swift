import Synchronization

/// Holds the current snapshot. Writers publish a whole new snapshot; readers keep a reference
/// and compare a generation number (one relaxed atomic load) before each batch of queries,
/// taking the lock only on the rare batch after an update. Queries never wait for a rebuild.
public final class SnapshotCell: Sendable {
    private let current: Mutex<ServingSnapshot>
    private let generationCounter: Atomic<UInt64>

    public init(_ initial: ServingSnapshot) {
        current = Mutex(initial)
        generationCounter = Atomic(initial.generation)
    }

    public var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    public func load() -> ServingSnapshot { current.withLock { $0 } }

    public func publish(_ snapshot: ServingSnapshot) {
        current.withLock { $0 = snapshot }
        generationCounter.store(snapshot.generation, ordering: .releasing)
    }

    /// Refreshes a reader's cached snapshot if a newer one was published.
    @inlinable
    public func refresh(_ cached: inout ServingSnapshot) {
        if cached.generation != generation { cached = load() }
    }
}
