@testable import Listings
import Testing

/// The radix sort against the standard one, on the shapes it meets: interval keys (address in
/// the high half, position in the low), shared digits, duplicates, extremes, short arrays.
@Suite struct RadixSortTests {
    @Test(arguments: [0, 1, 2, 255, 256, 257, 1000, 70_000])
    func sortsAsTheStandardSortDoes(count: Int) {
        var rng = SystemRandomNumberGenerator()
        let shapes: [[UInt64]] = [
            (0..<count).map { _ in UInt64.random(in: 0...UInt64.max, using: &rng) },
            (0..<count).map { i in UInt64(UInt32.random(in: 0...UInt32.max, using: &rng)) << 32 | UInt64(i) },
            (0..<count).map { _ in UInt64.random(in: 0...7, using: &rng) },
            (0..<count).map { i in UInt64(count - i) << 40 },
            (0..<count).map { i in i % 2 == 0 ? UInt64.max : 0 },
        ]
        for keys in shapes {
            var radix = keys
            RadixSort.sort(&radix)
            #expect(radix == keys.sorted())
        }
    }

    /// Sorting by the high half only keeps the low halves' order among equal high halves.
    @Test(arguments: [10, 300, 50_000])
    func sortingByTheHighHalfIsStable(count: Int) {
        var rng = SystemRandomNumberGenerator()
        let keys = (0..<count).map { _ in UInt64(UInt32.random(in: 0...99, using: &rng)) << 32 | UInt64(UInt32.random(in: 0...UInt32.max, using: &rng)) }
        var radix = keys
        RadixSort.sort(&radix, lowestBit: 32)
        let expected = keys.enumerated().sorted { ($0.element >> 32, $0.offset) < ($1.element >> 32, $1.offset) }.map(\.element)
        #expect(radix == expected)
    }
}
