import DNSTransport
import ServiceLifecycle

/// The DNS server as a service of `thurac serve`'s service group: it already answers when the
/// group starts, and stops when the group shuts down (SIGTERM, SIGINT), with the HTTP API.
struct DNSService: Service {
    let server: DNSServer
    let beforeExit: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        server.stop()
        beforeExit()
    }
}
