import CZlib
import Glibc

/// Reads a whole data file, gunzipping on the fly when it is gzip-compressed (zlib's gzread
/// passes plain files through unchanged).
enum FileReader {
    static func read(_ path: String) throws(DatasetError) -> [UInt8] {
        guard let gz = gzopen(path, "rb") else { throw DatasetError(file: path, "unable to open file") }
        defer { gzclose(gz) }
        // Read straight into the result, sized from the file (a compressed file grows it as needed),
        // so a large dataset is neither copied chunk by chunk nor reallocated again and again.
        var capacity = max(fileSize(path) ?? 0, 1 << 16) + 1
        var out = [UInt8](repeating: 0, count: capacity)
        var used = 0
        while true {
            if used == capacity {
                capacity *= 2
                out.append(contentsOf: repeatElement(0, count: capacity - out.count))
            }
            let n = out.withUnsafeMutableBytes { gzread(gz, $0.baseAddress! + used, UInt32(capacity - used)) }
            if n < 0 { throw DatasetError(file: path, "error reading file (corrupt compressed data?)") }
            if n == 0 { break }
            used += Int(n)
        }
        out.removeLast(out.count - used)
        return out
    }
}

extension FileReader {
    static func fileSize(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_size)
    }

    static func modificationTime(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_mtim.tv_sec)
    }
}
