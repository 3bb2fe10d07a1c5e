import Publishing
import Synchronization

/// The differences between a zone's recent serials, for IXFR: one step per published snapshot,
/// bounded in steps and records (the oldest go first); a client older than the first step gets
/// the whole zone. Kept in memory: after a restart the history starts again, and secondaries
/// catch up with one AXFR.
final class IXFRHistory: Sendable {
    struct Step: Sendable {
        var from: UInt32
        var to: UInt32
        var deleted: [ZoneExport.Record]
        var added: [ZoneExport.Record]
    }

    struct ZoneSteps {
        var steps: [Step] = []
        var records = 0
    }

    private let zones = Mutex<[String: ZoneSteps]>([:])
    let maxSteps: Int
    let maxRecords: Int

    init(maxSteps: Int = 10_000, maxRecords: Int = 1_000_000) {
        self.maxSteps = maxSteps
        self.maxRecords = maxRecords
    }

    func append(_ zone: String, _ step: Step) {
        zones.withLock { all in
            var z = all[zone] ?? ZoneSteps()
            if let last = z.steps.last, last.to != step.from { z = ZoneSteps() }
            z.steps.append(step)
            z.records += step.deleted.count + step.added.count
            var drop = 0
            while drop < z.steps.count - 1, z.steps.count - drop > maxSteps || z.records > maxRecords {
                z.records -= z.steps[drop].deleted.count + z.steps[drop].added.count
                drop += 1
            }
            if drop > 0 { z.steps.removeFirst(drop) }
            all[zone] = z
        }
    }

    /// The content before `serial` is unknown: no IXFR from older serials.
    func reset(_ zone: String, at serial: UInt32) {
        zones.withLock { $0[zone] = ZoneSteps() }
    }

    /// The steps leading from `serial` to `current`, nil when the history does not reach back.
    func steps(_ zone: String, from serial: UInt32, to current: UInt32) -> [Step]? {
        zones.withLock { all -> [Step]? in
            guard let steps = all[zone]?.steps, let first = steps.firstIndex(where: { $0.from == serial }),
                steps.last?.to == current
            else { return nil }
            return Array(steps[first...])
        }
    }
}
