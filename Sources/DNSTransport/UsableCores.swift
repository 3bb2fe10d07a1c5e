import Foundation
import Glibc

/// How many CPUs this process may run on: the CPUs of its affinity mask (`taskset`, systemd's
/// `CPUAffinity=`) and no more than its cgroup's CPU quota allows (`cpu.max`, Docker's
/// `--cpus`, systemd's `CPUQuota=`), rounded up. Foundation's `activeProcessorCount` counts
/// every online CPU, so `taskset -c 0 thurac serve` started two UDP workers fighting for one.
public enum UsableCores {
    public static func count() -> Int {
        var n = affinityCount() ?? ProcessInfo.processInfo.activeProcessorCount
        if let quota = cgroupQuota() { n = min(n, quota) }
        return max(1, n)
    }

    /// The affinity mask's CPUs, as the kernel lists them in /proc/self/status
    /// (`Cpus_allowed_list:\t0-3,8`): Glibc's `sched_getaffinity` is not visible to Swift.
    static func affinityCount() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return nil }
        return cpuCount(list: String(line.dropFirst("Cpus_allowed_list:".count)))
    }

    /// "0-3,8" is 5 CPUs; nil when it is not such a list.
    static func cpuCount(list: String) -> Int? {
        var n = 0
        for part in list.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1).map { Int($0) }
            guard let first = bounds.first ?? nil, let last = bounds.last ?? nil, last >= first else { return nil }
            n += last - first + 1
        }
        return n > 0 ? n : nil
    }

    /// The quota of the process's cgroup in whole CPUs, rounded up; nil when unlimited.
    static func cgroupQuota() -> Int? {
        // cgroup v2: "0::/path" in /proc/self/cgroup, the limit in <path>/cpu.max.
        if let own = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
            let line = own.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        {
            let path = String(line.dropFirst(3))
            for dir in ["/sys/fs/cgroup" + path, "/sys/fs/cgroup"] {
                if let text = try? String(contentsOfFile: dir + "/cpu.max", encoding: .utf8) { return quota(cpuMax: text) }
            }
        }
        // cgroup v1.
        if let q = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us", encoding: .utf8),
            let p = try? String(contentsOfFile: "/sys/fs/cgroup/cpu/cpu.cfs_period_us", encoding: .utf8)
        {
            return quota(cpuMax: q.trimmingCharacters(in: .whitespacesAndNewlines) + " " + p)
        }
        return nil
    }

    /// `cpu.max` ("max 100000", "150000 100000") as whole CPUs, rounded up; v1's quota is -1
    /// when unlimited.
    static func quota(cpuMax text: String) -> Int? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, let quota = Int(parts[0]), let period = Int(parts[1]), quota > 0, period > 0 else { return nil }
        return (quota + period - 1) / period
    }
}
