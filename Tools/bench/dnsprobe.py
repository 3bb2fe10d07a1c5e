"""One A query over UDP for the benchmark scripts: is an IPv4 address listed in a zone?"""
import socket
import struct


def listed(address, port, zone="bl.ninhthuan.gov.vn", timeout=1):
    """True when the server on 127.0.0.1:port answers the address's A query with records."""
    name = ".".join(reversed(address.split("."))) + "." + zone
    q = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(4096)
    except socket.timeout:
        return False
    finally:
        s.close()
    return struct.unpack(">H", r[6:8])[0] > 0  # ANCOUNT
