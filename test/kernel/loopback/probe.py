#!/usr/bin/env python3
"""Loopback destinations arriving on an ordinary device, in two throw-away namespaces.

A client sends one crafted TCP SYN (AF_PACKET, so its own stack cannot route it
to its own lo) to the host's MAC for 127.0.0.1:22 (IPv4) or [::1]:22 (IPv6).
The host counts the packet in raw PREROUTING and filter INPUT (empty rules that
only count). Prints one JSON object: {case: {"prerouting": n, "input": n}}.
Cases: ipv4 with route_localnet off and on for the device, ipv6, and (the control)
ipv6 to the host's own address.

usage: probe.py PREFIX   (namespace names start with PREFIX; both are deleted)
"""
import json, socket, struct, subprocess, sys, time

PREFIX = sys.argv[1]
HOST, CLIENT = PREFIX + "h", PREFIX + "c"


def sh(*args, input=None):
    return subprocess.run(args, input=input, text=True, capture_output=True, check=True).stdout


def ns(name, *args, input=None):
    return sh("ip", "netns", "exec", name, *args, input=input)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def syn_frame(family, dst_mac, src_mac, to):
    if family == 4:
        src, dst = socket.inet_aton("203.0.113.50"), socket.inet_aton(to)
        pseudo = src + dst + struct.pack("!BBH", 0, 6, 20)
    else:
        src, dst = socket.inet_pton(socket.AF_INET6, "2001:db8:10::50"), socket.inet_pton(socket.AF_INET6, to)
        pseudo = src + dst + struct.pack("!I3xB", 20, 6)
    tcp = struct.pack("!HHIIBBHHH", 40000, 22, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    if family == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return dst_mac + src_mac + b"\x08\x00" + ip + tcp
    ip = struct.pack("!IHBB16s16s", 6 << 28, 20, 6, 64, src, dst)
    return dst_mac + src_mac + b"\x86\xdd" + ip + tcp


def send(family, to):
    mac = bytes.fromhex(ns(HOST, "cat", "/sys/class/net/vh/address").strip().replace(":", ""))
    code = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW); s.bind(('vc',0))\n"
        "sys.stdout.write(s.getsockname()[4].hex())\n"
    )
    own = bytes.fromhex(ns(CLIENT, sys.executable, "-c", code))
    frame = syn_frame(family, mac, own, to)
    ns(CLIENT, sys.executable, "-c",
       "import socket,sys\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW); s.bind(('vc',0)); s.send(bytes.fromhex(sys.argv[1]))",
       frame.hex())
    time.sleep(0.3)


def counts(tool):
    def first(table, chain):
        out = ns(HOST, tool, "-t", table, "-L", chain, "-v", "-n", "-x").splitlines()
        return int(out[2].split()[0])
    return {"prerouting": first("raw", "PREROUTING"), "input": first("filter", "INPUT")}


COUNTING = (
    "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 22\nCOMMIT\n"
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp -m tcp --dport 22\nCOMMIT\n"
)

try:
    sh("ip", "netns", "add", HOST)
    sh("ip", "netns", "add", CLIENT)
    sh("ip", "link", "add", "vh", "netns", HOST, "type", "veth", "peer", "name", "vc", "netns", CLIENT)
    for name, dev, addrs in ((HOST, "vh", ("203.0.113.10/24", "2001:db8:10::10/64")), (CLIENT, "vc", ("203.0.113.50/24", "2001:db8:10::50/64"))):
        for a in addrs:
            sh("ip", "-n", name, "addr", "add", a, "dev", dev, "nodad")
        sh("ip", "-n", name, "link", "set", dev, "up")
        sh("ip", "-n", name, "link", "set", "lo", "up")
    ns(HOST, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.vh.rp_filter=0")
    ns(HOST, "iptables-nft-restore", input=COUNTING)
    ns(HOST, "ip6tables-nft-restore", input=COUNTING)
    def zero(tool):
        ns(HOST, tool, "-t", "raw", "-Z")
        ns(HOST, tool, "-Z")
    result = {}
    send(4, "127.0.0.1")
    result["ipv4"] = counts("iptables-nft")
    ns(HOST, "sysctl", "-qw", "net.ipv4.conf.vh.route_localnet=1")
    zero("iptables-nft")
    send(4, "127.0.0.1")
    result["ipv4-route-localnet"] = counts("iptables-nft")
    send(6, "::1")
    result["ipv6"] = counts("ip6tables-nft")
    # The same frame to the host's own address: proof the frames are well formed.
    zero("ip6tables-nft")
    send(6, "2001:db8:10::10")
    result["ipv6-own-address"] = counts("ip6tables-nft")
    print(json.dumps(result))
finally:
    subprocess.run(["ip", "netns", "del", HOST], capture_output=True)
    subprocess.run(["ip", "netns", "del", CLIENT], capture_output=True)
