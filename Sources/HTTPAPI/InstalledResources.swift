import Foundation

/// Where a module's resources were installed: `<target>.resources` beside the executable (as
/// SwiftPM lays them out). Unlike SwiftPM's `Bundle.module`, which stops the process when the
/// directory is missing (a binary copied without it), this answers nil and the caller says
/// what is off.
public enum InstalledResources {
    public static func directory(_ bundle: String) -> URL? {
        let besideExecutable = Bundle.main.bundleURL.appendingPathComponent("\(bundle).resources")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: besideExecutable.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        return besideExecutable
    }
}
