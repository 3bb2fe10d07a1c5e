/// Byte offsets and flag bits of the DNS header (RFC 1035 §4.1.1), and accessors over raw memory.
public enum Header {
    public static let id = 0
    public static let flags1 = 2
    public static let flags2 = 3
    public static let qdCount = 4
    public static let anCount = 6
    public static let nsCount = 8
    public static let arCount = 10

    // flags1: QR | Opcode(4) | AA | TC | RD
    public static let qr: UInt8 = 0x80
    public static let opcodeMask: UInt8 = 0x78
    public static let aa: UInt8 = 0x04
    public static let tc: UInt8 = 0x02
    public static let rd: UInt8 = 0x01
    // flags2: RA | Z | AD | CD | RCODE(4)
    public static let ra: UInt8 = 0x80
    public static let ad: UInt8 = 0x20
    public static let cd: UInt8 = 0x10
    public static let rcodeMask: UInt8 = 0x0F
}

extension UnsafeRawBufferPointer {
    @inlinable
    public func readUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    @inlinable
    public func readUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8
            | UInt32(self[offset + 3])
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable
    public func writeUInt16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    @inlinable
    public func writeUInt32(_ value: UInt32, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 24)
        self[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        self[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    @inlinable
    public func readUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }
}
