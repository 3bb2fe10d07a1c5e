import DNSTransport
import Glibc
import NIOCore
import NIOPosix

/// The threads of the HTTP API and the portal: their event loops and a pool for store work
/// (SQLite). They run at a lower priority than DNS (nice +10 per thread; a thread may always
/// lower its own): on a busy machine the kernel runs the UDP workers first, so pages wait
/// instead of queries (with the portal under load on 2 cores, DNS at 20,000 q/s: p99 4.7 ms at
/// nice 0, 3.4 ms so; docs/BENCHMARKS.md "Portal").
enum HTTPThreads {
    static let niceness: Int32 = 10

    static let eventLoops: MultiThreadedEventLoopGroup = {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(4, UsableCores.count())))
        for loop in group.makeIterator() { loop.execute { lowerThisThread() } }
        return group
    }()

    /// More threads than cores: a sign-in's bcrypt (a quarter of a second) must not hold up
    /// the store reads queued behind it.
    static let storeWork: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(8, min(16, 2 * UsableCores.count())))
        pool.start()
        return pool
    }()

    /// On Linux the nice value is per thread, and `who` 0 is the calling thread (kernel/sys.c).
    static func lowerThisThread() {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
    }
}

/// Store work (SQLite) off the event loop, for the API and the pages: the loop keeps answering
/// meanwhile.
public func offLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await HTTPThreads.storeWork.runIfActive {
        HTTPThreads.lowerThisThread()
        return try body()
    }
}

public func offLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    // The pool stops only at exit; were it stopped, the work runs here instead.
    (try? await HTTPThreads.storeWork.runIfActive {
        HTTPThreads.lowerThisThread()
        return body()
    }) ?? body()
}
