import DNSWire
import Listings

/// Answers what the in-place responder hands off (`ResponseSummary.handedOff`): zone transfers
/// and TSIG-signed messages. Runs off the query fast path; allocating is fine here.
public protocol TransferHandler: Sendable {
    /// The answer to a datagram, nil to send nothing. `query` is the responder's parse of it.
    func answerDatagram(_ message: [UInt8], query: Query, client: ClientAddress, snapshot: ServingSnapshot) -> [UInt8]?
    /// Answers a message received over TCP with one or more messages (an AXFR streams many).
    /// `send` blocks while the connection is backed up and returns false once it is gone.
    /// Called on a thread of its own, never on an event loop.
    func answerStream(_ message: [UInt8], query: Query, client: ClientAddress, snapshot: ServingSnapshot, send: ([UInt8]) -> Bool)
}
