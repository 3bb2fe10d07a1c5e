import DNSWire
import Dispatch
import Glibc
import Listings
import NIOCore
import NIOPosix
import Responder
import Synchronization

/// DNS over TCP (RFC 7766): several queries per connection, answered in order, an idle
/// timeout, and a cap on concurrent connections.
public final class TCPServer: Sendable {
    public let boundPort: Int
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup

    public init(
        host: String, port: Int, cell: SnapshotCell, responder: Responder, counters: QueryCounters, worker: Int,
        queryLog: QueryLog?, transfers: (any TransferHandler)? = nil, idleTimeout: TimeAmount = .seconds(10),
        maxConnections: Int = 512
    ) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connections = ConnectionGate(limit: maxConnections)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard connections.enter() else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in connections.leave() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LengthPrefixDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        DNSQueryHandler(
                            cell: cell, responder: responder, counters: counters, worker: worker, queryLog: queryLog,
                            transfers: transfers))
                }
            }
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw TransportError("cannot bind TCP \(host):\(port): \(error)")
        }
        self.group = group
        boundPort = channel.localAddress?.port ?? port
    }

    public func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

final class ConnectionGate: Sendable {
    private let count = Atomic<Int>(0)
    private let limit: Int
    init(limit: Int) { self.limit = limit }
    func enter() -> Bool {
        if count.add(1, ordering: .relaxed).newValue > limit {
            count.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }
    func leave() { count.subtract(1, ordering: .relaxed) }
}

/// Splits the stream into messages by their 2-octet length prefix (RFC 1035 §4.2.2).
struct LengthPrefixDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            buffer.readableBytes >= 2 + Int(length)
        else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        let message = buffer.readSlice(length: Int(length))!
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }
}

final class DNSQueryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let cell: SnapshotCell
    let responder: Responder
    let counters: QueryCounters
    let worker: Int
    let queryLog: QueryLog?
    let transfers: (any TransferHandler)?
    /// One scratch buffer per connection: the answer is built in it, then copied out.
    var scratch = [UInt8](repeating: 0, count: WireLimits.maxTCPMessage + 2)
    var snapshot: ServingSnapshot
    /// A handed-off message (a zone transfer) is being answered: later messages wait their turn,
    /// so answers stay in order, and the idle timer does not cut a long transfer.
    var busy = false
    var waiting: [ByteBuffer] = []

    /// Handed-off messages are answered here, one at a time per connection.
    static let transferQueue = DispatchQueue(label: "thurac.transfers", attributes: .concurrent)

    init(
        cell: SnapshotCell, responder: Responder, counters: QueryCounters, worker: Int, queryLog: QueryLog?,
        transfers: (any TransferHandler)?
    ) {
        self.cell = cell
        self.responder = responder
        self.counters = counters
        self.worker = worker
        self.queryLog = queryLog
        self.transfers = transfers
        snapshot = cell.load()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = Self.unwrapInboundIn(data)
        if busy {
            // A client that pipelines hundreds of queries behind a zone transfer is not a secondary.
            guard waiting.count < 128 else {
                context.close(promise: nil)
                return
            }
            waiting.append(message)
            return
        }
        answer(context: context, message)
    }

    func answer(context: ChannelHandlerContext, _ received: ByteBuffer) {
        var message = received
        let length = message.readableBytes
        cell.refresh(&snapshot)
        let client = Self.clientAddress(context.channel.remoteAddress)
        let summary = scratch.withUnsafeMutableBytes { raw -> ResponseSummary in
            let body = UnsafeMutableRawBufferPointer(rebasing: raw[2...])
            message.readWithUnsafeReadableBytes { bytes in
                body.copyMemory(from: bytes)
                return bytes.count
            }
            let started = DispatchTime.now().uptimeNanoseconds
            let s = responder.respond(packet: body, length: length, overTCP: true, client: client, snapshot: snapshot)
            counters.recordDuration(worker: worker, nanoseconds: DispatchTime.now().uptimeNanoseconds &- started)
            raw.writeUInt16(UInt16(truncatingIfNeeded: s.length), at: 0)
            if s.length > 0 { queryLog?.log(packet: UnsafeRawBufferPointer(body), summary: s, client: client) }
            return s
        }
        counters.record(worker: worker, summary: summary, bytesIn: length)
        if summary.handedOff, let transfers, let query = summary.handedOffQuery {
            handOff(context: context, Array(scratch[2..<(2 + length)]), query: query, client: client, transfers)
            return
        }
        guard summary.length > 0 else {
            // Nothing worth answering (a response, or garbage): RFC 7766 lets us close.
            context.close(promise: nil)
            return
        }
        var out = context.channel.allocator.buffer(capacity: summary.length + 2)
        scratch.withUnsafeBytes { _ = out.writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<(summary.length + 2)])) }
        context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
        // A client that sends queries and does not read the answers: stop reading its queries
        // until its answers drain, so what is held for it stays bounded; the idle timer closes
        // the connection if they never do.
        if !context.channel.isWritable { reading(context, false) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { reading(context, true) }
        context.fireChannelWritabilityChanged()
    }

    func reading(_ context: ChannelHandlerContext, _ on: Bool) {
        // Turning autoRead back on reads at once.
        try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: on)
    }

    /// Answers on a transfer thread; the connection reads nothing more until it is done.
    func handOff(context: ChannelHandlerContext, _ message: [UInt8], query: Query, client: ClientAddress, _ transfers: any TransferHandler) {
        busy = true
        let channel = context.channel
        let snapshot = self.snapshot
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Self.transferQueue.async {
            var inFlight: [EventLoopFuture<Void>] = []
            transfers.answerStream(message, query: query, client: client, snapshot: snapshot) { reply in
                var out = channel.allocator.buffer(capacity: reply.count + 2)
                out.writeInteger(UInt16(truncatingIfNeeded: reply.count))
                out.writeBytes(reply)
                inFlight.append(channel.writeAndFlush(out))
                // A few messages in flight keep the socket busy without buffering a whole zone.
                guard inFlight.count >= 8 else { return channel.isActive }
                do { try inFlight.removeFirst().wait() } catch { return false }
                return true
            }
            for f in inFlight { try? f.wait() }
            channel.eventLoop.execute {
                let (handler, context) = bound.value
                handler.busy = false
                while !handler.busy, !handler.waiting.isEmpty, channel.isActive {
                    handler.answer(context: context, handler.waiting.removeFirst())
                }
            }
        }
    }

    /// Reads the peer address out of the raw sockaddr (family, port, [flowinfo,] address).
    static func clientAddress(_ address: SocketAddress?) -> ClientAddress {
        guard let address else { return .unknown }
        return address.withSockAddr { ptr, _ -> ClientAddress in
            let raw = UnsafeRawPointer(ptr)
            switch address.protocol {
            case .inet: return .v4(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            case .inet6: return .v6(UInt128(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt128.self)))
            default: return .unknown
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            if !busy { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
