import ListingKeys
import Testing

@Suite struct ISOTimeTests {
    @Test(arguments: [
        (0, "1970-01-01T00:00:00Z"), (951_782_400, "2000-02-29T00:00:00Z"), (1_795_987_682, "2026-11-29T21:28:02Z"),
        (-1, "1969-12-31T23:59:59Z"), (4_102_444_799, "2099-12-31T23:59:59Z"),
    ])
    func isoTimesAreComputedRight(_ t: Int, _ text: String) {
        #expect(ISOTime.format(t) == text)
    }
}
