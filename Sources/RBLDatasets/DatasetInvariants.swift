/// What must hold for any data file, however hostile, read as each dataset type: checked on
/// every input by the dataset fuzz target (Fuzz/DatasetFuzz.swift) and by the test that replays
/// its corpus. A violation stops the process (precondition), naming what broke.
public enum DatasetInvariants {
    /// Read as every type (the corpus replay).
    public static func check(_ input: [UInt8]) {
        for type in DatasetType.allCases { check(input, as: type) }
    }

    /// Read as one type (the fuzz target picks it from the input's first octet: nine times the
    /// executions).
    public static func check(_ input: [UInt8], as type: DatasetType) {
        let lines = input.reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
        do {  // one scope per read
            let source = DatasetLoader.Source(name: "fuzz", bytes: input)
            let first: LoadedDataset
            do { first = try DatasetLoader.load(type: type, sources: [source], options: LoadOptions(), name: "fuzz") } catch {
                // Refused whole (rbldnsd refuses a zone for some errors): the reason names the file.
                precondition(error.description.contains("fuzz"), "a refusal that does not name its file: \(error)")
                return
            }
            for w in first.warnings {
                precondition(w.line >= 0 && w.line <= lines, "a warning for line \(w.line) of \(lines)")
                precondition(w.message.utf8.count <= 1024, "a warning of \(w.message.utf8.count) octets")
            }
            precondition(first.entryCount >= 0 && first.entryCount <= lines, "\(first.entryCount) entries from \(lines) lines")
            // Reading is deterministic: the same input, the same data and the same diagnostics.
            guard let again = try? DatasetLoader.load(type: type, sources: [source], options: LoadOptions(), name: "fuzz") else {
                preconditionFailure("read once, refused the second time")
            }
            precondition(again.entryCount == first.entryCount && again.warnings.count == first.warnings.count, "a second read differs")
        }
    }
}
