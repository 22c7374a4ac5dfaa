"""Crafting and parsing the oracle's probe packets (IPv4 and IPv6, TCP / UDP / ICMP echo).

Every probe carries a number `pid` (1..32767, unique within a batch) where NAT never
touches it: the IPv4 identification field, or the IPv6 flow label. The kernel's own packets
carry IP ID 0 or a hashed value (IPv4) and flow label 0 (IPv6, auto_flowlabels=0), so a
number alone is not proof: `is_probe` also checks what only the probe carries (TCP
sequence number, UDP payload tag, ICMP echo identifier).
"""
import socket
import struct

PROTO_NUM = {"tcp": 6, "udp": 17, "icmp": 1}
ICMP6 = 58
TCP_FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}
UDP_TAG = b"dfoprobe"   # payload of a UDP probe: tag + pid
REPLY_TAG = b"dforeply"  # what the oracle's UDP listeners put in its place in their answer


def family_of(addr):
    return 6 if ":" in addr else 4


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def _pseudo(src, dst, proto, length):
    if family_of(src) == 4:
        return socket.inet_pton(socket.AF_INET, src) + socket.inet_pton(socket.AF_INET, dst) + \
            struct.pack("!BBH", 0, proto, length)
    return socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + \
        struct.pack("!I3xB", length, proto)


def _ip(src, dst, proto, payload, pid):
    if family_of(src) == 4:
        # header checksum left 0: the kernel fills it in for IP_HDRINCL sockets
        return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), pid, 0x4000, 64, proto, 0,
                           socket.inet_aton(src), socket.inet_aton(dst)) + payload
    return struct.pack("!IHBB16s16s", (6 << 28) | (pid & 0xFFFFF), len(payload), proto, 64,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload


def flags_bits(flags):
    try:
        return sum(TCP_FLAG_BITS[c] for c in set(flags.upper()))
    except KeyError as e:
        raise ValueError(f"unknown TCP flag {e.args[0]!r} in {flags!r} (use letters of FSRPAUEC)") from None


def probe_seq(pid):
    return (pid << 16) & 0xFFFFFFFF


def tcp(src, dst, sport, dport, seq, ack, flags, pid):
    opts = struct.pack("!BBH", 2, 4, 1400) if flags & 0x02 else b""  # an MSS option on SYNs, like a real stack
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, ((20 + len(opts)) // 4) << 4, flags, 64240, 0, 0) + opts
    seg = seg[:16] + struct.pack("!H", csum(_pseudo(src, dst, 6, len(seg)) + seg)) + seg[18:]
    return _ip(src, dst, 6, seg, pid)


def udp(src, dst, sport, dport, pid):
    payload = UDP_TAG + struct.pack("!H", pid)
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    seg = seg[:6] + struct.pack("!H", csum(_pseudo(src, dst, 17, len(seg)) + seg) or 0xFFFF) + seg[8:]
    return _ip(src, dst, 17, seg, pid)


def echo(src, dst, pid):
    v6 = family_of(src) == 6
    body = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, pid, 1) + UDP_TAG
    c = csum((_pseudo(src, dst, ICMP6, len(body)) if v6 else b"") + body)
    body = body[:2] + struct.pack("!H", c) + body[4:]
    return _ip(src, dst, ICMP6 if v6 else 1, body, pid)


def build(p):
    """p: normalized probe (pid, proto, src, dst, sport, dport, flags)."""
    if p["proto"] == "tcp":
        return tcp(p["src"], p["dst"], p["sport"], p["dport"], p["seq"], p["ack"], p["flagbits"], p["pid"])
    if p["proto"] == "udp":
        return udp(p["src"], p["dst"], p["sport"], p["dport"], p["pid"])
    return echo(p["src"], p["dst"], p["pid"])


def rst_for(p, ack_of_synack):
    """RST that tears down the half-open connection a SYN-ACK answered."""
    return tcp(p["src"], p["dst"], p["sport"], p["dport"], ack_of_synack, 0, 0x04, 0x8000 | p["pid"])


# ------------------------------------------------------------------ parsing
def parse(b, full=True):
    """IPv4/IPv6 packet (from the network header on) -> dict, or None.
    Keys: fam, src, dst, pid (IP ID / flow label), proto (tcp|udp|icmp|num), sport, dport,
    seq, ack, flags (tcp), payload (udp), type, code, echo_id, inner (icmp errors)."""
    if len(b) < 20:
        return None
    ver = b[0] >> 4
    if ver == 4:
        ihl = (b[0] & 0xF) * 4
        ident, proto = struct.unpack_from("!H", b, 4)[0], b[9]
        p = {"fam": 4, "src": socket.inet_ntoa(b[12:16]), "dst": socket.inet_ntoa(b[16:20]), "pid": ident}
        l4 = b[ihl:]
    elif ver == 6 and len(b) >= 40:
        first, _, proto = struct.unpack_from("!IHB", b, 0)
        p = {"fam": 6, "src": socket.inet_ntop(socket.AF_INET6, b[8:24]),
             "dst": socket.inet_ntop(socket.AF_INET6, b[24:40]), "pid": first & 0xFFFFF}
        l4 = b[40:]
    else:
        return None
    icmp_proto = 1 if ver == 4 else ICMP6
    p["proto"] = {6: "tcp", 17: "udp", icmp_proto: "icmp"}.get(proto, proto)
    if proto in (6, 17) and len(l4) >= 4:
        p["sport"], p["dport"] = struct.unpack_from("!HH", l4)
        if proto == 6 and len(l4) >= 14:
            p["seq"], p["ack"] = struct.unpack_from("!II", l4, 4)
            p["flags"] = l4[13]
        if proto == 17:
            p["payload"] = bytes(l4[8:8 + len(UDP_TAG) + 2])
    elif proto == icmp_proto and len(l4) >= 4:
        p["type"], p["code"] = l4[0], l4[1]
        if p["type"] in ((8, 0) if ver == 4 else (128, 129)):
            if len(l4) >= 6:
                p["echo_id"] = struct.unpack_from("!H", l4, 4)[0]
        elif full and len(l4) > 8:
            p["inner"] = parse(l4[8:], full=False)
    return p


def is_echo_request(pk):
    return pk.get("type") == (8 if pk["fam"] == 4 else 128)


def is_echo_reply(pk):
    return pk.get("type") == (0 if pk["fam"] == 4 else 129)


def is_probe(p, pk):
    """Is the parsed packet pk the probe p itself (possibly NATed)?"""
    if pk["pid"] != p["pid"] or pk["proto"] != p["proto"] or pk["fam"] != p["fam"]:
        return False
    if p["proto"] == "tcp":
        return pk.get("seq") == p["seq"] and pk.get("flags") == p["flagbits"]
    if p["proto"] == "udp":
        # our listeners answer with REPLY_TAG, and the kernel's own datagrams carry neither
        return pk.get("payload") == UDP_TAG + struct.pack("!H", p["pid"])
    return is_echo_request(pk) and pk.get("echo_id") == p["pid"]


def brief(pk):
    def hp(a, port):
        if port is None:
            return a
        return f"[{a}]:{port}" if ":" in a else f"{a}:{port}"
    return f'{pk["proto"]} {hp(pk["src"], pk.get("sport"))} > {hp(pk["dst"], pk.get("dport"))}'


def norm_addr(a):
    """Canonical text of an IP address (ValueError if it is none)."""
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    try:
        return socket.inet_ntop(fam, socket.inet_pton(fam, a))
    except OSError:
        raise ValueError(f"not an IP address: {a!r}") from None
