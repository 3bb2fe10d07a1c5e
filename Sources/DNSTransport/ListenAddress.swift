import Glibc

extension UDPWorkers.Endpoint {
    /// The sockets to listen on for a host and a port as rbldnsd(8) takes them for `-b`: "Either
    /// numeric IP address or a hostname may be specified, and either port number or service name
    /// is accepted"; a host name with several addresses is listened on at all of them. An empty
    /// host is every address (0.0.0.0 and ::). The results are numeric, in resolver order, once
    /// each. `family` (AF_INET, AF_INET6) keeps one family only, as rbldnsd's -4 and -6 do.
    public static func resolving(host: String, port: String, family: Int32 = AF_UNSPEC) throws -> [UDPWorkers.Endpoint] {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = family
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host.isEmpty ? nil : host, port, &hints, &list)
        guard rc == 0, let first = list else {
            let why = rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc))
            throw TransportError("cannot resolve \(host.isEmpty ? "*" : host) port \(port): \(why)")
        }
        defer { freeaddrinfo(first) }
        var out: [UDPWorkers.Endpoint] = []
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let ai = next {
            next = ai.pointee.ai_next
            guard ai.pointee.ai_family == AF_INET || ai.pointee.ai_family == AF_INET6 else { continue }
            var hostText = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            var portText = [CChar](repeating: 0, count: Int(NI_MAXSERV))
            guard
                getnameinfo(
                    ai.pointee.ai_addr, ai.pointee.ai_addrlen, &hostText, socklen_t(hostText.count), &portText,
                    socklen_t(portText.count), NI_NUMERICHOST | NI_NUMERICSERV) == 0,
                let number = UInt16(String(decoding: portText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            else { continue }
            let e = UDPWorkers.Endpoint(
                host: String(decoding: hostText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), port: number)
            if !out.contains(e) { out.append(e) }
        }
        guard !out.isEmpty else { throw TransportError("no address of that family for \(host) port \(port)") }
        return out
    }
}
