import ArgumentParser
import DNSTransport
import Foundation
import Logging
import RBLDatasets
import Responder

/// `thurac rbldnsd`: takes rbldnsd(8)'s own command line, so init scripts run unchanged.
struct RbldnsdCompat: ParsableCommand {
    /// What `-h` prints: every option rbldnsd(8) has, in its order and words, and what thurac
    /// does with it (tools look for options such as `-6` here to decide what the server can do).
    static let usage = """
        thurac rbldnsd: rbldnsd-compatible DNS blocklist server (thurac)
        Usage is: thurac rbldnsd options zonespec...
        where options are:
         -u user[:group] - run as this user:group (accepted; thurac does not change user)
         -r rootdir - chroot to this directory (accepted; thurac does not chroot)
         -w workdir - working directory with zone files
         -b address[/port] - bind to (listen on) this address (required); a host name
          means every address it has, the port may be a service name (default 53)
         -4 - use IPv4 socket type (only the IPv4 addresses of -b host names)
         -6 - use IPv6 socket type (only the IPv6 addresses of -b host names)
         -t ttl - default TTL value to set in answers (35m); also ttl:min:max
         -v - hide version information in replies to version.bind CH TXT
          (second -v makes thurac refuse such requests completely)
         -e - enable CIDR ranges where prefix is not on the range boundary
          (by default ranges such 127.0.0.1/8 will be rejected)
         -c check - time interval to check for data file updates (1m)
         -p pidfile - write pid to specified file
         -n - do not become a daemon
         -f - fork a child process while reloading zones (accepted; thurac always
          answers during reloads)
         -q - quickstart, load zones after backgrounding
         -l [+]logfile - log queries and answers to this file (+ for unbuffered)
         -s [+]statsfile - write a line with short statistics summary into this
          file every `check' (-c) seconds (with +, thurac still writes totals)
         -a - omit AUTH section from regular replies (thurac always does)
         -A - put AUTH section in every reply (accepted; thurac does not)
         -F facility - log facility for syslog (accepted; thurac logs to standard error)
         -C - disable on-the-fly decompression of dataset files (accepted)
         -x extension - load given extension module (accepted; not supported)
         -X extarg - pass extarg to extension init routine (accepted; not supported)
         -d - dump all zones in BIND format to standard output and exit
          (not supported: use thurac dump --format bind, or serve the store)
         -h - this help
        each zone specified using `name:type:file,file...'
        syntax, repeated names constitute the same zone.
        Available dataset types:
         ip4set - set of (ip4 range, value) pairs
         ip4tset - (trivial) set of ip4 addresses
         ip4trie - set of (ip4cidr, value) pairs
         ip6tset - (trivial) set of ip6 addresses
         ip6trie - set of (ip6cidr, value) pairs
         dnset - set of (domain name, value) pairs
         combined - several datasets/subzones combined
         generic - generic simplified bind-format
         acl - Access Control List dataset
        thurac's own way to serve the same datasets, with its options:
         thurac serve --listen HOST:PORT --zone name:type:file,file... (thurac serve --help)
        """

    static let configuration = CommandConfiguration(
        commandName: "rbldnsd",
        abstract: "Run with rbldnsd's command line: -b address[/port] [-46naAeqCf] [-t ttl] [-c check] [-p pidfile] [-l logfile] [-s statsfile] [-v] zone:type:file...",
        discussion: usage,
        // -h is rbldnsd's, printed as it is (ArgumentParser would rewrap it); --help stays.
        helpNames: [.long])

    @Argument(parsing: .allUnrecognized, help: "rbldnsd options and zone:type:file specifications.")
    var arguments: [String] = []

    func run() throws {
        var binds: [String] = []
        var family: Int32 = AF_UNSPEC
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
                    case "b": binds.append(try arg())
                    case "4": family = AF_INET
                    case "6": family = AF_INET6
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
                    case "a", "A", "C", "f": break
                    case "u", "r", "x", "X", "F": _ = try arg()
                    case "d": throw CommandFailure("-d (dump zones and exit) is not supported; use thurac dump --format bind")
                    case "h":
                        print(Self.usage)
                        throw ExitCode.success
                    default: throw CommandFailure("unknown option -\(c)")
                    }
                }
            } else {
                do { zones.append(try ZoneSpec(parsing: a)) } catch { throw CommandFailure("\(error)") }
            }
            i += 1
        }
        guard !binds.isEmpty else { throw CommandFailure("no address to listen on (-b address/port)") }
        var endpoints: [UDPWorkers.Endpoint] = []
        for spec in binds {
            // address[/port]: a host name is every address it has (of the -4/-6 family), a port
            // may be a service name.
            let parts = spec.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard !parts[0].isEmpty, parts.count == 1 || !parts[1].isEmpty else {
                throw CommandFailure("invalid -b \(spec) (address/port)")
            }
            let found: [UDPWorkers.Endpoint]
            do {
                found = try UDPWorkers.Endpoint.resolving(
                    host: String(parts[0]), port: parts.count == 2 ? String(parts[1]) : "53", family: family)
            } catch { throw CommandFailure("-b \(spec): \(error)") }
            endpoints += found.filter { !endpoints.contains($0) }
        }
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
