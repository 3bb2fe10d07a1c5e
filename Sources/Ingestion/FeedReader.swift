import CZlib
import Glibc
import ListingKeys

/// Reads a feed line by line in fixed-size chunks, so memory stays flat whatever its length.
/// gzip-compressed feeds are read through zlib (plain files pass through unchanged).
public final class FeedReader {
    public let name: String
    /// The file on disk, when the feed is one (formats read by path, like rbldnsd data files).
    public let path: String?
    let file: gzFile?
    var buffer: [UInt8]
    var start = 0
    var end = 0
    var eof = false
    var startChecked = false
    /// Lines handed out so far (the current line's number).
    public private(set) var lineNumber = 0
    /// Size on disk when known (for progress); bytes consumed so far.
    public let size: Int?

    /// `path` "-" reads standard input.
    public init(path: String, chunk: Int = 1 << 20) throws(FeedError) {
        name = path == "-" ? "<stdin>" : path
        self.path = path == "-" ? nil : path
        let fd = path == "-" ? dup(0) : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FeedError("\(path): cannot open (\(String(cString: strerror(errno))))") }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw FeedError("\(path): is a directory")
        }
        size = (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
        guard let gz = gzdopen(fd, "rb") else {
            close(fd)
            throw FeedError("\(path): cannot open")
        }
        gzbuffer(gz, 1 << 17)
        file = gz
        buffer = [UInt8](repeating: 0, count: chunk)
    }

    /// A feed already in memory (an API request body, a test).
    public init(bytes: [UInt8], name: String) {
        self.name = name
        path = nil
        file = nil
        size = bytes.count
        buffer = bytes + [0]
        end = bytes.count
        eof = true
        skipByteOrderMark()
    }

    deinit { if let file { gzclose(file) } }

    /// Bytes of the underlying file consumed so far.
    public var position: Int { file.map { Int(gzoffset($0)) } ?? start }

    /// The first bytes of the feed, without consuming them (format detection).
    public func peek(_ n: Int = 65536) throws(FeedError) -> ArraySlice<UInt8> {
        while end - start < n && !eof { try fill() }
        return buffer[start..<min(end, start + n)]
    }

    /// Calls `body` with each line (without its line break or a trailing CR); the buffer is only
    /// valid during the call.
    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        while true {
            if let nl = newline() {
                lineNumber += 1
                var stop = nl
                if stop > start && buffer[stop - 1] == 13 { stop -= 1 }
                try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<stop])) }
                start = nl + 1
                continue
            }
            if eof {
                if start < end {
                    lineNumber += 1
                    var stop = end
                    if buffer[stop - 1] == 13 { stop -= 1 }
                    try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<stop])) }
                    start = end
                }
                return
            }
            try fill()
        }
    }

    /// The rest of the feed as bytes (formats that are not line-oriented), up to `limit`.
    public func readAll(limit: Int) throws(FeedError) -> [UInt8] {
        while !eof {
            try fill()
            if end - start > limit { throw FeedError("\(name): larger than \(limit) bytes") }
        }
        defer { start = end }
        return Array(buffer[start..<end])
    }

    func newline() -> Int? {
        guard start < end else { return nil }
        return buffer.withUnsafeBytes { raw -> Int? in
            guard let p = memchr(raw.baseAddress! + start, 10, end - start) else { return nil }
            return UnsafeRawPointer(p) - raw.baseAddress!
        }
    }

    /// Moves the unread tail to the front and reads more; grows the buffer for a very long line.
    func fill() throws(FeedError) {
        if start > 0 {
            if start < end {
                buffer.withUnsafeMutableBytes { raw in
                    _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
                }
            }
            end -= start
            start = 0
        }
        guard let file else {
            eof = true
            return
        }
        if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        let wanted = buffer.count - end
        let n = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress! + end, UInt32(wanted)) }
        if n < 0 {
            var code: Int32 = 0
            let message = gzerror(file, &code).map { String(cString: $0) } ?? "read error"
            throw FeedError("\(name): cannot read (\(message))")
        }
        if n == 0 { eof = true }
        end += Int(n)
        skipByteOrderMark()
    }

    /// Spreadsheets save CSV with a UTF-8 byte order mark; it is not part of the first key.
    func skipByteOrderMark() {
        guard !startChecked, end - start >= 3 || eof else { return }
        startChecked = true
        if end - start >= 3 && buffer[start] == 0xEF && buffer[start + 1] == 0xBB && buffer[start + 2] == 0xBF { start += 3 }
    }
}

/// A feed that cannot be used as a whole: nothing of it is applied.
public struct FeedError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
