/// A problem found in a dataset, with where it was found: `file:line: reason`.
public struct DatasetDiagnostic: Sendable, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int
    public var message: String
    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// A dataset that could not be loaded at all (unreadable file, fatal special entry).
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public var diagnostic: DatasetDiagnostic
    public init(file: String, line: Int = 0, _ message: String) {
        diagnostic = DatasetDiagnostic(file: file, line: line, message: message)
    }
    public var description: String { diagnostic.description }
}

/// The dataset types of rbldnsd(8).
public enum DatasetType: String, Sendable, CaseIterable {
    case ip4set, ip4tset, ip4trie, ip6tset, ip6trie, dnset, generic, combined, acl
}
