/// Limits applied to everything read off the wire. Each one is a named constant with its reason,
/// so a reader can check the parser against the RFCs without hunting for magic numbers.
public enum WireLimits {
    /// RFC 1035 §2.3.4: a label is at most 63 octets; the two high bits of a length byte mark a pointer.
    public static let maxLabelLength = 63
    /// RFC 1035 §2.3.4: a name in wire form, length bytes and root included, is at most 255 octets.
    public static let maxNameLength = 255
    /// The fixed DNS header (RFC 1035 §4.1.1).
    public static let headerLength = 12
    /// Without EDNS a UDP response must fit in 512 octets (RFC 1035 §4.2.1).
    public static let classicUDPPayload = 512
    /// The payload size we advertise: the DNS Flag Day 2020 value, which avoids IP fragmentation.
    public static let advertisedUDPPayload = 1232
    /// A TCP message carries a 16-bit length (RFC 1035 §4.2.2, RFC 7766).
    public static let maxTCPMessage = 65535
    /// Compression pointers are only followed backwards, so a name can be followed through at most
    /// this many pointers before it must have ended; more means a loop or a hostile packet.
    public static let maxPointerHops = 64
    /// A TXT character-string holds at most 255 octets (RFC 1035 §3.3).
    public static let maxCharacterString = 255
}
