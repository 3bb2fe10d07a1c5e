import ArgumentParser
import DNSTransport
import Foundation
import Logging
import RBLDatasets
import Responder

/// `thurac rbldnsd`: takes rbldnsd(8)'s own command line, so init scripts run unchanged.
struct RbldnsdCompat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rbldnsd",
        abstract: "Run with rbldnsd's command line: [-b addr/port] [-n] [-t ttl] [-c check] [-e] [-q] [-p pidfile] [-l logfile] [-s statsfile] [-a|-A] [-v] zone:type:file...",
        discussion: "-u, -r, -w, -f, -4, -6, -C and -x/-X are accepted; -u, -r, -f and -x do not apply and are ignored.")

    @Argument(parsing: .allUnrecognized, help: "rbldnsd options and zone:type:file specifications.")
    var arguments: [String] = []

    func run() throws {
        var endpoints: [UDPWorkers.Endpoint] = []
        var zones: [ZoneSpec] = []
        var foreground = false
        var quiet = false
        var pidFile: String?
        var logFile: String?
        var statsFile: String?
        var check: Double = 60
        var load = LoadOptions()
        var versionLevel = 0
        var workdir: String?
        var i = 0
        func value(_ flag: String) throws -> String {
            i += 1
            guard i < arguments.count else { throw CommandFailure("option \(flag) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            let a = arguments[i]
            if a.hasPrefix("-") && a.count > 1 {
                // Flags may be bundled (-nq) and values attached (-b127.0.0.1/53), as getopt allows.
                var chars = Array(a.dropFirst())
                while !chars.isEmpty {
                    let c = chars.removeFirst()
                    let attached = String(chars)
                    func arg() throws -> String {
                        if !attached.isEmpty { chars = []; return attached }
                        return try value("-\(c)")
                    }
                    switch c {
                    case "b":
                        let spec = try arg()
                        let parts = spec.split(separator: "/", maxSplits: 1)
                        guard let port = parts.count == 2 ? UInt16(parts[1]) : 53 else {
                            throw CommandFailure("invalid -b \(spec) (address/port)")
                        }
                        endpoints.append(.init(host: String(parts[0]), port: port))
                    case "n": foreground = true
                    case "q": quiet = true
                    case "e": load.acceptHostBits = true
                    case "p": pidFile = try arg()
                    case "l": logFile = try arg()
                    case "s": statsFile = try arg()
                    case "w": workdir = try arg()
                    case "c":
                        let v = try arg()
                        guard let t = DatasetLoader.parseTime(Array(v.utf8)) else { throw CommandFailure("invalid -c \(v)") }
                        check = Double(t)
                    case "t":
                        let v = try arg()
                        let f = v.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
                        func t(_ k: Int) throws -> UInt32? {
                            guard k < f.count, !f[k].isEmpty else { return nil }
                            guard let x = DatasetLoader.parseTime(Array(f[k].utf8)) else { throw CommandFailure("invalid -t \(v)") }
                            return x
                        }
                        if let d = try t(0) { load.defaultTTL = d }
                        if let m = try t(1) { load.minTTL = m }
                        if let m = try t(2) { load.maxTTL = m }
                    case "v": versionLevel += 1
                    case "a", "A", "4", "6", "C", "f", "d": break
                    case "u", "r", "x", "X": _ = try arg()
                    case "h": throw CleanExit.helpRequest(self)
                    default: throw CommandFailure("unknown option -\(c)")
                    }
                }
            } else {
                do { zones.append(try ZoneSpec(parsing: a)) } catch { throw CommandFailure("\(error)") }
            }
            i += 1
        }
        guard !endpoints.isEmpty else { throw CommandFailure("no address to listen on (-b address/port)") }
        guard !zones.isEmpty else { throw CommandFailure("no zones given (zone:type:file...)") }
        if let w = workdir { guard FileManager.default.changeCurrentDirectoryPath(w) else { throw CommandFailure("cannot chdir to \(w)") } }

        if !foreground {
            try daemonize()
        }
        let logger = makeLogger()
        var cfg = DNSServer.Configuration(endpoints: endpoints)
        cfg.checkInterval = check
        cfg.statsPath = statsFile.map { $0.hasPrefix("+") ? String($0.dropFirst()) : $0 }
        if let l = logFile { cfg.queryLogPath = l.hasPrefix("+") ? String(l.dropFirst()) : l }
        cfg.responder.versionText =
            versionLevel == 0 ? Array("thurac (rbldnsd-compatible)".utf8) : versionLevel == 1 ? Array("rbldnsd".utf8) : nil
        let server: DNSServer
        do { server = try DNSServer(configuration: cfg, source: DatasetCatalog(specs: zones, options: load), logger: logger) } catch {
            if quiet { Foundation.exit(1) }
            throw CommandFailure("\(error)")
        }
        try server.start()
        if let p = pidFile { try "\(getpid())\n".write(toFile: p, atomically: true, encoding: .utf8) }
        runUntilSignalled(server)
    }

    /// rbldnsd goes to the background unless -n. Forking a threaded Swift process is unsafe, so
    /// we start ourselves again with -n in a new session and exit.
    func daemonize() throws {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let p = Process()
        p.executableURL = me
        p.arguments = ["rbldnsd", "-n"] + arguments
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        Foundation.exit(0)
    }
}
