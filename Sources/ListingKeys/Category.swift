/// Why a key is listed. Each category answers with its own 127.0.0.x code (SPEC §2; the
/// mapping is configurable per zone, these are the defaults).
public enum Category: String, Sendable, CaseIterable, Codable {
    case spam, fraud, malware, advertising, harmful, manual

    public var defaultReturnCode: UInt32 {
        switch self {
        case .spam: return 0x7F00_0002
        case .fraud: return 0x7F00_0003
        case .malware: return 0x7F00_0004
        case .advertising: return 0x7F00_0005
        case .harmful: return 0x7F00_0006
        case .manual: return 0x7F00_0009
        }
    }

    /// A small number per category (hashing, compact storage).
    public var code: UInt8 { UInt8(Category.allCases.firstIndex(of: self)!) }

    /// The stored name, from raw bytes (the store's rows); nil for anything else.
    public init?(bytes: UnsafeBufferPointer<UInt8>) {
        // The first letter tells them apart; the rest is checked.
        let c: Category
        switch bytes.first {
        case UInt8(ascii: "s"): c = .spam
        case UInt8(ascii: "f"): c = .fraud
        case UInt8(ascii: "m"): c = bytes.count > 1 && bytes[1] == UInt8(ascii: "a") && bytes.count == 6 ? .manual : .malware
        case UInt8(ascii: "a"): c = .advertising
        case UInt8(ascii: "h"): c = .harmful
        default: return nil
        }
        guard c.rawValue.utf8.elementsEqual(bytes) else { return nil }
        self = c
    }

    public init(parsing text: String) throws(KeyError) {
        guard let c = Category(rawValue: text.lowercased()) else {
            throw KeyError(
                "unknown category \(quoted(text)) (expected \(Category.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = c
    }
}

/// Durations as the CLI and feeds write them: `90s`, `30m`, `12h`, `7d`, `2w`.
public enum DurationText {
    public static func seconds(_ text: String) throws(KeyError) -> Int {
        guard let unit = text.last, let n = Int(text.dropLast()), n >= 0 else {
            throw KeyError("\(quoted(text)) is not a duration (write 90s, 30m, 12h, 7d or 2w)")
        }
        switch unit {
        case "s": return n
        case "m": return n * 60
        case "h": return n * 3600
        case "d": return n * 86400
        case "w": return n * 604_800
        default: throw KeyError("\(quoted(text)) is not a duration (write 90s, 30m, 12h, 7d or 2w)")
        }
    }

    /// The largest whole unit of a duration up to days: 604800 is "7d", 90000 is "25h".
    public static func text(_ seconds: Int) -> String {
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] where seconds >= size && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
