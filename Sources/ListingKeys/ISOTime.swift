/// ISO 8601 instants as the CLI (`--now`) and feeds write them: `2026-11-29`,
/// `2026-11-29T10:00:00Z`, with fractions and `±hh:mm` offsets. Parsed by hand: a formatter per
/// CSV line would cost more than the rest of the line.
public enum ISOTime {
    public static func parse(_ text: String) -> Int? {
        let s = Array(text.utf8)
        var i = 0
        func number(_ digits: Int) -> Int? {
            guard i + digits <= s.count else { return nil }
            var v = 0
            for k in i..<(i + digits) {
                let d = s[k] &- 48
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            i += digits
            return v
        }
        func expect(_ c: Character) -> Bool {
            guard i < s.count, s[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let y = number(4), expect("-"), let mo = number(2), (1...12).contains(mo), expect("-"),
            let d = number(2), (1...daysIn(month: mo, year: y)).contains(d)
        else { return nil }
        var seconds = 0
        if i == s.count { return days(y, mo, d) * 86400 }
        guard expect("T") || expect("t") || expect(" "), let h = number(2), h < 24, expect(":"), let mi = number(2), mi < 60
        else { return nil }
        seconds = h * 3600 + mi * 60
        if expect(":") {
            guard let sec = number(2), sec <= 60 else { return nil }
            seconds += min(sec, 59)
            if expect(".") || expect(",") {
                let start = i
                while i < s.count, s[i] &- 48 < 10 { i += 1 }
                guard i > start else { return nil }
            }
        }
        var offset = 0
        if expect("Z") || expect("z") {
        } else if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            let sign = s[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = number(2), oh < 24 else { return nil }
            _ = expect(":")
            guard let om = number(2), om < 60 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil  // a time without a zone is ambiguous
        }
        guard i == s.count else { return nil }
        return days(y, mo, d) * 86400 + seconds - offset
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    static func days(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `2026-11-29T10:00:00Z` (UTC), computed: a date formatter per call costs more than a dump
    /// row (H. Hinnant's civil_from_days).
    public static func format(_ t: Int) -> String {
        let days = t >= 0 ? t / 86400 : (t - 86399) / 86400
        let secs = t - days * 86400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60))Z"
    }
}
