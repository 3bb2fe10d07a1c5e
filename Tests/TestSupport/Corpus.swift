import Foundation

/// The inputs of a fuzz target's corpus directories (and any vectors beside them), for the tests
/// that replay them with the target's invariants.
public enum Corpus {
    /// Every file of `directories` (relative to `base`), in a stable order.
    public static func inputs(_ directories: [String], under base: URL) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for d in directories {
            let dir = base.appendingPathComponent(d)
            for f in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() {
                out.append(try [UInt8](Data(contentsOf: dir.appendingPathComponent(f))))
            }
        }
        return out
    }
}
