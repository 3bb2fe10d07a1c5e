import Foundation
import GRDB

extension ListingStore {
    /// What a person does about a store error that is the machine's, not the input's: a full
    /// disk or one that fails to write. Nil for any other error, which says enough itself.
    /// SQLite has rolled the transaction back in each case, so nothing of the change is kept.
    public static func explain(_ error: any Error, directory: String? = nil) -> String? {
        guard let e = error as? DatabaseError else { return nil }
        let free = directory.flatMap(freeBytes(atPath:))
        let place = directory.map { "the disk holding \($0)" } ?? "the store's disk"
        let room = free.map { " (\(ByteCountFormatter.string(fromByteCount: $0, countStyle: .binary)) free)" } ?? ""
        switch e.resultCode.primaryResultCode {
        case .SQLITE_FULL:
            return "\(place) is full\(room): nothing of this change was written; free space there and run it again"
        case .SQLITE_IOERR, .SQLITE_CANTOPEN:
            // Opening a store in WAL mode writes its shared-memory file, so a full disk shows as an I/O error.
            if let free, free < 1 << 20 {
                return "\(place) is full\(room): nothing was written; free space there and run it again"
            }
            return "\(place) could not be written or read (\(e.message ?? "I/O error")): nothing was written; check the disk and its permissions"
        default:
            return nil
        }
    }

    /// Whether `error` means the store could not be written just now (another writer holds it
    /// past the busy timeout, a read-only or full disk, an I/O error): nothing was applied,
    /// and the same call may succeed later. A mail server should keep the message and retry.
    public static func isUnavailable(_ error: any Error) -> Bool {
        guard let e = error as? DatabaseError else { return false }
        switch e.resultCode.primaryResultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_READONLY, .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_PROTOCOL:
            return true
        default:
            return false
        }
    }

    /// SQLite's own words for a store error ("database or disk is full"), without its code and statement.
    public static func reason(_ error: any Error) -> String {
        (error as? DatabaseError)?.message ?? "\(error)"
    }

    /// The space an unprivileged writer may still use on the file system holding `path`.
    static func freeBytes(atPath path: String) -> Int64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }
}
