import CZlib
import Glibc

/// Reads a whole data file, gunzipping on the fly when it is gzip-compressed (zlib's gzread
/// passes plain files through unchanged).
enum FileReader {
    static func read(_ path: String) throws(DatasetError) -> [UInt8] {
        guard let gz = gzopen(path, "rb") else { throw DatasetError(file: path, "unable to open file") }
        defer { gzclose(gz) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw DatasetError(file: path, "error reading file (corrupt compressed data?)") }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        return out
    }
}

extension FileReader {
    static func modificationTime(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_mtim.tv_sec)
    }
}
