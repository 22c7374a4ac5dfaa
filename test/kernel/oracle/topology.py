"""Docker-host topology in network namespaces, built from a JSON spec.

  spec = {
    "family": "ipv4" | "ipv6" | "dual",                       # optional, inferred from the addresses
    "hostInterfaces": [{"name": "eth0", "address": "203.0.113.10/24"},       # or "addresses": [...]
                       {"name": "eth1", "addresses": ["192.0.2.1/24", "2001:db8::1/64"]}],
    "bridges": [{"name": "docker0", "address": "172.17.0.1/16", "hairpin": false,
                 "containers": ["172.17.0.2", ["172.17.0.3", "fd00::3"], {"addresses": ["172.17.0.4"]}]}],
    "externalClients": [{"interface": "eth0", "addresses": ["203.0.113.50/24", "198.51.100.7/32"],
                         "routes": ["192.0.2.0/24"], "gateway": true}],
    "listen": {"tcp": [80, 8080, 22], "udp": [53]},
    "hostListen": {"tcp": [22], "udp": []},                    # optional, default = listen
    "bridgeNfCall": true                                       # bridge-nf-call-ip(6)tables, default true
  }

Namespaces (P = prefix, e.g. "dfo1234t1-"):
  P+"host"   the Docker host: every hostInterfaces entry (a veth to its external client, or a
             veth to a silent stub namespace P+"s<i>" if no client is attached: this
             kernel has no dummy driver), every bridge, ip_forward=1, rp_filter=0
  P+"x<i>"   one external client per externalClients entry, veth "eth0" <-> host's interface;
             default route via the host's address on that link. The host routes each
             non-on-link client address (its prefix) and each `routes` prefix via the client's
             on-link address, and its default route via the `gateway` client (default: the first).
  P+"c<i>"   one per container (a string = one address, or a list of addresses, e.g. v4 + v6):
             veth "eth0" <-> host port "veth<b>x<c>" enslaved to the bridge; prefix length of
             the bridge address of the same family; default route via the bridge address.
             "hairpin": true sets hairpin mode on the bridge ports, as Docker does with
             --userland-proxy=false (without it a bridge never sends a frame back out of the
             port it came in on: a container cannot reach itself through a published port).
Listeners (in the oracle process itself, so nothing to kill): TCP accept+close, UDP echo
(replying from the address the datagram was sent to), in every container and on the host.
Neighbour entries are permanent (no ARP/ND), IPv6 addresses skip DAD.
"""
import ipaddress
import os
import select
import socket
import struct
import time

import nsutil
from nsutil import run, socket_in, sysctl, sysctl_name
from packets import REPLY_TAG, UDP_TAG

IP_PKTINFO = 8
IFNAMSIZ = 15


def _default(v):
    return "0.0.0.0/0" if v == 4 else "::/0"


class SpecError(ValueError):
    pass


def _ifaces(entry, what):
    addrs = entry.get("addresses")
    if addrs is None:
        addrs = [entry["address"]] if entry.get("address") else []
    if isinstance(addrs, str):
        addrs = [addrs]
    try:
        return [ipaddress.ip_interface(a) for a in addrs]
    except ValueError as e:
        raise SpecError(f"{what}: {e}") from None


def _check_ifname(name, what):
    if not isinstance(name, str) or not name or len(name) > IFNAMSIZ or "/" in name or " " in name:
        raise SpecError(f"{what}: invalid interface name {name!r} (1..15 chars)")


class Node:
    """One namespace: the host, an external client or a container."""

    def __init__(self, kind, label, ns):
        self.kind, self.label, self.ns = kind, label, ns
        self.addrs = []          # ip_interface list (on its own interface(s))
        self.ifname = "eth0"


class Topology:
    def __init__(self, spec, prefix):
        self.spec, self.prefix = spec, prefix
        self.nodes = []
        self._mac = 0
        self._normalize()
        self.listen_socks = []   # (node, kind, sock)
        self.created = []        # namespaces that exist (for teardown)

    # ------------------------------------------------------------ spec
    def mac(self):
        self._mac += 1
        n = self._mac
        return "02:df:%02x:%02x:%02x:%02x" % ((n >> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255)

    def _normalize(self):
        s = self.spec
        if not isinstance(s, dict):
            raise SpecError("topology must be an object")
        P = self.prefix
        self.host = Node("host", "host", P + "host")
        self.nodes.append(self.host)
        self.host_ifaces = []    # {name, addrs, mac, client}
        seen = set()
        for i, hi in enumerate(s.get("hostInterfaces") or []):
            _check_ifname(hi.get("name"), f"hostInterfaces[{i}]")
            if hi["name"] in seen:
                raise SpecError(f"duplicate interface {hi['name']}")
            seen.add(hi["name"])
            self.host_ifaces.append({"name": hi["name"], "addrs": _ifaces(hi, f"hostInterfaces[{i}]"),
                                     "mac": self.mac(), "client": None})
        self.bridges = []
        for bi, b in enumerate(s.get("bridges") or []):
            _check_ifname(b.get("name"), f"bridges[{bi}]")
            if b["name"] in seen or b["name"].startswith("veth") and b["name"][4:5].isdigit():
                raise SpecError(f"duplicate or reserved interface name {b['name']}")
            seen.add(b["name"])
            br = {"name": b["name"], "addrs": _ifaces(b, f"bridges[{bi}]"), "mac": self.mac(), "containers": [],
                  "hairpin": bool(b.get("hairpin"))}
            for ci, c in enumerate(b.get("containers") or []):
                if isinstance(c, dict):
                    c = c.get("addresses") or c.get("address")
                if isinstance(c, str):
                    c = [c]
                if not c:
                    raise SpecError(f"bridges[{bi}].containers[{ci}]: no address")
                node = Node("container", "", P + f"c{len(self.bridges)}x{ci}")
                for a in c:
                    try:
                        ip = ipaddress.ip_interface(a)
                    except ValueError as e:
                        raise SpecError(f"bridges[{bi}].containers[{ci}]: {e}") from None
                    gw = [x for x in br["addrs"] if x.version == ip.version]
                    if "/" not in a:
                        if not gw:
                            raise SpecError(f"container {a}: bridge {b['name']} has no IPv{ip.version} address")
                        ip = ipaddress.ip_interface(f"{ip.ip}/{gw[0].network.prefixlen}")
                    node.addrs.append(ip)
                node.label = f"container:{node.addrs[0].ip}"
                node.bridge = br
                node.mac = self.mac()
                node.port = f"veth{bi}x{ci}"
                if node.port in seen:
                    raise SpecError(f"interface name {node.port} is reserved for a container's bridge port")
                node.port_mac = self.mac()
                br["containers"].append(node)
                self.nodes.append(node)
            self.bridges.append(br)
        self.clients = []
        for xi, x in enumerate(s.get("externalClients") or []):
            hif = next((h for h in self.host_ifaces if h["name"] == x.get("interface")), None)
            if hif is None:
                raise SpecError(f"externalClients[{xi}]: no host interface {x.get('interface')!r}")
            if hif["client"] is not None:
                raise SpecError(f"externalClients[{xi}]: interface {hif['name']} already has a client")
            node = Node("ext", f"ext:{hif['name']}", P + f"x{xi}")
            node.addrs = _ifaces(x, f"externalClients[{xi}]")
            node.mac = self.mac()
            node.hif = hif
            node.gateway = bool(x.get("gateway"))
            try:
                node.routes = [ipaddress.ip_network(r, strict=False) for r in x.get("routes") or []]
            except ValueError as e:
                raise SpecError(f"externalClients[{xi}].routes: {e}") from None
            node.onlink = {}
            for a in node.addrs:
                if any(a.ip in h.network for h in hif["addrs"] if h.version == a.version):
                    node.onlink.setdefault(a.version, a.ip)
            for a in node.addrs + node.routes:
                if a.version not in node.onlink:
                    raise SpecError(f"externalClients[{xi}]: {a} needs an on-link IPv{a.version} address "
                                    f"in a subnet of host interface {hif['name']}")
            hif["client"] = node
            self.clients.append(node)
            self.nodes.append(node)
        for i, h in enumerate(self.host_ifaces):
            if h["client"] is None:  # keeps the interface's carrier up; nothing is sent from or seen in it
                stub = Node("stub", f"stub:{h['name']}", P + f"s{i}")
                stub.mac = self.mac()
                h["stub"] = stub
                self.nodes.append(stub)
        if self.clients and not any(c.gateway for c in self.clients):
            self.clients[0].gateway = True
        fams = {a.version for n in self.nodes for a in n.addrs} | \
            {a.version for h in self.host_ifaces for a in h["addrs"]} | \
            {a.version for b in self.bridges for a in b["addrs"]}
        fam = s.get("family")
        if fam is None:
            fam = "dual" if fams == {4, 6} else "ipv6" if fams == {6} else "ipv4"
        if fam not in ("ipv4", "ipv6", "dual"):
            raise SpecError(f"family must be ipv4, ipv6 or dual, not {fam!r}")
        self.family = fam
        self.v4, self.v6 = fam in ("ipv4", "dual"), fam in ("ipv6", "dual")
        for v in fams:
            if (v == 4 and not self.v4) or (v == 6 and not self.v6):
                raise SpecError(f"IPv{v} address in a {fam} topology")
        self.host.addrs = [a for h in self.host_ifaces for a in h["addrs"]] + [a for b in self.bridges for a in b["addrs"]]
        owner = {}
        for n in self.nodes:
            for a in n.addrs:
                if a.ip in owner and owner[a.ip] is not n:
                    raise SpecError(f"address {a.ip} is given to both {owner[a.ip].label} and {n.label}")
                owner[a.ip] = n
        def ports(spec, what):
            out = {}
            for proto in ("tcp", "udp"):
                out[proto] = sorted({int(p) for p in spec.get(proto) or []})
                if any(not 0 < p < 65536 for p in out[proto]):
                    raise SpecError(f"{what}.{proto}: ports must be 1..65535")
            return out
        self.listen = ports(s.get("listen") or {}, "listen")
        self.host_listen = ports(s.get("hostListen") or s.get("listen") or {}, "hostListen")
        self.bridge_nf_call = s.get("bridgeNfCall", True)

    # ------------------------------------------------------------ lookup
    def client(self, interface):
        return next((c for c in self.clients if c.hif["name"] == interface), None)

    def container(self, address):
        want = ipaddress.ip_address(address)
        return next((n for n in self.nodes if n.kind == "container" and any(a.ip == want for a in n.addrs)), None)

    def client_may_send(self, c, src):
        """Probe sources an external client may use: its own addresses, anything in the
        prefix of a non-on-link address or in its `routes` (the host routes those to it),
        and anything at all for the gateway client (the host's default route)."""
        ip = ipaddress.ip_address(src)
        if c.gateway or any(a.ip == ip for a in c.addrs) or any(ip in r for r in c.routes):
            return True
        hnets = [x.network for x in c.hif["addrs"]]
        return any(ip in a.network and not any(a.ip in n for n in hnets) for a in c.addrs)

    # ------------------------------------------------------------ build
    def up(self):
        t0 = time.perf_counter()
        names = [n.ns for n in self.nodes]
        self.created = names  # before creating them: a half-built topology is torn down too
        run(None, ["ip", "-batch", "-"], stdin="".join(f"netns add {n}\n" for n in names))
        for n in self.nodes:
            self._sysctls(n)
        # links: veth pairs are created directly between two oracle namespaces
        host_cmds = []
        for h in self.host_ifaces:
            c = h["client"]
            if c is None:
                stub = h["stub"]
                run(stub.ns, ["ip", "link", "add", "eth0", "address", stub.mac, "type", "veth", "peer", "name",
                              h["name"], "address", h["mac"], "netns", self.host.ns])
                run(stub.ns, ["ip", "link", "set", "eth0", "up"])
            else:
                run(c.ns, ["ip", "link", "add", "eth0", "address", c.mac, "type", "veth", "peer", "name", h["name"],
                           "address", h["mac"], "netns", self.host.ns])
        for b in self.bridges:
            host_cmds.append(f"link add {b['name']} address {b['mac']} type bridge")
            for n in b["containers"]:
                run(n.ns, ["ip", "link", "add", "eth0", "address", n.mac, "type", "veth", "peer", "name", n.port,
                           "address", n.port_mac, "netns", self.host.ns])
                host_cmds.append(f"link set {n.port} master {b['name']}")
                if b["hairpin"]:
                    host_cmds.append(f"link set {n.port} type bridge_slave hairpin on")
        links = [h["name"] for h in self.host_ifaces] + [b["name"] for b in self.bridges] + \
            [n.port for b in self.bridges for n in b["containers"]]
        host_cmds += [f"link set {l} up" for l in links]
        run(self.host.ns, ["ip", "-batch", "-"], stdin="\n".join(host_cmds) + "\n")
        for n in self.nodes:
            for l in (links if n is self.host else ["eth0"]):
                sysctl(n.ns, f"net.ipv4.conf.{sysctl_name(l)}.rp_filter", 0)
                if self.v6:
                    sysctl(n.ns, f"net.ipv6.conf.{sysctl_name(l)}.accept_dad", 0, must=False)
                    sysctl(n.ns, f"net.ipv6.conf.{sysctl_name(l)}.accept_ra", 0, must=False)
        # addresses, routes, neighbours
        cmds = {n.ns: [] for n in self.nodes}
        H = cmds[self.host.ns]
        for h in self.host_ifaces:
            H += [f"addr add {a} dev {h['name']}" + self._nodad(a) for a in h["addrs"]]
        for b in self.bridges:
            H += [f"addr add {a} dev {b['name']}" + self._nodad(a) for a in b["addrs"]]
        for c in self.clients:
            C = cmds[c.ns]
            h = c.hif
            C += [f"addr add {a} dev eth0" + self._nodad(a) for a in c.addrs] + ["link set eth0 up"]
            for a in h["addrs"]:
                C.append(f"neigh replace {a.ip} lladdr {h['mac']} dev eth0 nud permanent")
            for v in (4, 6):
                gw = next((a.ip for a in h["addrs"] if a.version == v), None)
                if gw is not None and v in c.onlink:
                    C.append(f"route add {_default(v)} via {gw} dev eth0")
            for v, ip in c.onlink.items():
                H.append(f"neigh replace {ip} lladdr {c.mac} dev {h['name']} nud permanent")
            nets = {a.network for a in c.addrs if not any(a.ip in x.network for x in h["addrs"] if x.version == a.version)}
            nets |= set(c.routes)
            for net in sorted(nets, key=str):
                H.append(f"route replace {net} via {c.onlink[net.version]} dev {h['name']}")
            if c.gateway:
                for v, ip in c.onlink.items():
                    H.append(f"route replace {_default(v)} via {ip} dev {h['name']}")
        for b in self.bridges:
            for n in b["containers"]:
                C = cmds[n.ns]
                C += [f"addr add {a} dev eth0" + self._nodad(a) for a in n.addrs] + ["link set eth0 up"]
                for a in b["addrs"]:
                    C.append(f"neigh replace {a.ip} lladdr {b['mac']} dev eth0 nud permanent")
                for v in (4, 6):
                    gw = next((a.ip for a in b["addrs"] if a.version == v), None)
                    if gw is not None and any(a.version == v for a in n.addrs):
                        C.append(f"route add {_default(v)} via {gw} dev eth0")
                for o in b["containers"]:
                    if o is not n:
                        C += [f"neigh replace {a.ip} lladdr {o.mac} dev eth0 nud permanent" for a in o.addrs]
                H += [f"neigh replace {a.ip} lladdr {n.mac} dev {b['name']} nud permanent" for a in n.addrs]
        for n in self.nodes:
            if n is not self.host:
                run(n.ns, ["ip", "-batch", "-"], stdin="\n".join(cmds[n.ns]) + "\n")
        run(self.host.ns, ["ip", "-batch", "-"], stdin="\n".join(H) + "\n")
        self._listeners()
        return time.perf_counter() - t0

    def _nodad(self, a):
        return " nodad" if a.version == 6 else ""

    def _sysctls(self, n):
        ns = n.ns
        run(ns, ["ip", "link", "set", "lo", "up"])
        for k, v in (("net.ipv4.icmp_ratemask", 0), ("net.ipv4.icmp_ratelimit", 0),
                     ("net.ipv4.conf.all.rp_filter", 0), ("net.ipv4.conf.default.rp_filter", 0),
                     ("net.ipv6.conf.all.disable_ipv6", 0 if self.v6 else 1),
                     ("net.ipv6.conf.default.disable_ipv6", 0 if self.v6 else 1)):
            sysctl(ns, k, v)
        if self.v6:
            for k, v in (("net.ipv6.icmp.ratelimit", 0), ("net.ipv6.icmp.ratemask", ""),
                         ("net.ipv6.auto_flowlabels", 0), ("net.ipv6.conf.all.accept_dad", 0),
                         ("net.ipv6.conf.default.accept_dad", 0), ("net.ipv6.conf.all.accept_ra", 0),
                         ("net.ipv6.conf.default.accept_ra", 0), ("net.ipv6.conf.default.router_solicitations", 0),
                         ("net.ipv6.conf.all.router_solicitations", 0)):
                sysctl(ns, k, v, must=False)
        if n.kind in ("host", "container"):
            # no SYN-ACK retransmits: a handshake whose RST the ruleset dropped must not
            # leak a SYN-ACK into a later batch
            sysctl(ns, "net.ipv4.tcp_synack_retries", 0)
        if n.kind == "host":
            sysctl(ns, "net.ipv4.ip_forward", 1)
            if self.v6:
                sysctl(ns, "net.ipv6.conf.all.forwarding", 1)
            v = 1 if self.bridge_nf_call else 0
            sysctl(ns, "net.bridge.bridge-nf-call-iptables", v, must=False)
            sysctl(ns, "net.bridge.bridge-nf-call-ip6tables", v, must=False)

    # ------------------------------------------------------------ listeners
    def _listeners(self):
        fams = ([socket.AF_INET] if self.v4 else []) + ([socket.AF_INET6] if self.v6 else [])
        for n in self.nodes:
            ports = self.host_listen if n is self.host else self.listen if n.kind == "container" else None
            if not ports:
                continue
            for fam in fams:
                any_addr = "0.0.0.0" if fam == socket.AF_INET else "::"
                for port in ports["tcp"]:
                    s = socket_in(n.ns, fam, socket.SOCK_STREAM)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if fam == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((any_addr, port))
                    s.listen(4096)
                    s.setblocking(False)
                    self.listen_socks.append((n, "tcp", s))
                for port in ports["udp"]:
                    s = socket_in(n.ns, fam, socket.SOCK_DGRAM)
                    if fam == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
                    else:
                        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
                    s.bind((any_addr, port))
                    s.setblocking(False)
                    self.listen_socks.append((n, "udp", s))

    def serve_listeners(self, ready):
        """Accept+close TCP, echo UDP from the address it was sent to. -> number answered."""
        n = 0
        for _, kind, s in self.listen_socks:
            if s not in ready:
                continue
            try:
                if kind == "tcp":
                    while True:
                        c, _ = s.accept()
                        c.close()
                else:
                    while True:
                        data, anc, _, addr = s.recvmsg(4096, 256)
                        if data.startswith(UDP_TAG):  # so that the answer never looks like the probe
                            data = REPLY_TAG + data[len(UDP_TAG):]
                        out = []
                        for lvl, typ, val in anc:
                            if lvl == socket.IPPROTO_IP and typ == IP_PKTINFO:
                                _, _, dst = struct.unpack("=I4s4s", val[:12])
                                out = [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("=I4s4s", 0, dst, b"\0" * 4))]
                            elif lvl == socket.IPPROTO_IPV6 and typ == socket.IPV6_PKTINFO:
                                out = [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, val[:16] + b"\0\0\0\0")]
                        n += 1
                        try:
                            s.sendmsg([data], out, 0, addr)
                        except OSError:
                            pass
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pass
        return n

    # ------------------------------------------------------------ teardown
    def down(self):
        for _, _, s in self.listen_socks:
            try:
                s.close()
            except OSError:
                pass
        self.listen_socks = []
        if self.created:
            try:
                run(None, ["ip", "-force", "-batch", "-"], stdin="".join(f"netns del {n}\n" for n in self.created),
                    check=False)
            finally:
                left = [n for n in self.created if os.path.exists(os.path.join(nsutil.NETNS_DIR, n))]
                for n in left:
                    run(None, ["ip", "netns", "del", n], check=False)
                self.created = []


def wait_readable(socks, timeout):
    if not socks:
        time.sleep(max(0.0, timeout))
        return []
    r, _, _ = select.select(socks, [], [], max(0.0, timeout))
    return r
