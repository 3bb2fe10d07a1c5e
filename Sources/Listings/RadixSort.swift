/// Sorts 64-bit integers by their bits from `lowestBit` up (LSD radix sort, 11 bits a pass: the
/// counts stay in the first-level cache, and the scatter writes to 2,048 places at once instead
/// of 65,536: three passes over a million keys take less time than two of 16 bits),
/// stably: keys equal in those bits keep their order. The IPv4 interval keys of a dataset
/// (start << 32 | position, in position order) sort by their start in three linear passes
/// instead of n log n comparisons (the standard sort was the largest single item in a profile
/// of loading an exported list). A pass over a digit every key shares is skipped.
enum RadixSort {
    static func sort(_ keys: inout [UInt64], lowestBit: Int = 0) {
        let n = keys.count
        guard n > 256 else {
            let mask: UInt64 = lowestBit == 0 ? .max : ~((1 << UInt64(lowestBit)) - 1)
            // The same stable order for short arrays: by the sorted bits, then as they were.
            keys = keys.enumerated().sorted { ($0.element & mask, $0.offset) < ($1.element & mask, $1.offset) }.map(\.element)
            return
        }
        var scratch = [UInt64](repeating: 0, count: n)
        let digit = 11
        let digitMask = (1 << digit) - 1
        var counts = [Int](repeating: 0, count: 1 << digit)
        keys.withUnsafeMutableBufferPointer { a in
            scratch.withUnsafeMutableBufferPointer { b in
                var (source, target) = (a, b)
                var inTarget = false
                for shift in stride(from: lowestBit, to: 64, by: digit) {
                    for i in 0..<counts.count { counts[i] = 0 }
                    for k in source { counts[Int(truncatingIfNeeded: k >> UInt64(shift)) & digitMask] += 1 }
                    // Every key has the same digit here: nothing to move.
                    if counts[Int(truncatingIfNeeded: source[0] >> UInt64(shift)) & digitMask] == n { continue }
                    var total = 0
                    for i in 0..<counts.count { (counts[i], total) = (total, total + counts[i]) }
                    for k in source {
                        let d = Int(truncatingIfNeeded: k >> UInt64(shift)) & digitMask
                        target[counts[d]] = k
                        counts[d] += 1
                    }
                    swap(&source, &target)
                    inTarget.toggle()
                }
                // The sorted keys are in `source`; bring them home when that is the scratch.
                if inTarget { for i in 0..<n { a[i] = b[i] } }
            }
        }
    }
}
