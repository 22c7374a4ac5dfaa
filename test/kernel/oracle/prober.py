"""Loads rulesets into the host namespace and sends probe batches through the topology.

One Prober per topology; its sockets (raw senders, AF_PACKET taps, netlink) stay open for
all batches (an AF_PACKET close costs an RCU grace period).
"""
import socket
import time

import nsutil
import packets as pk_
import tracer as tr_
from topology import wait_readable

PACKET_HOST, PACKET_OUTGOING = 0, 4
ETH_P_ALL = 3
ETH_IP = (b"\x08\x00", b"\x86\xdd")
LEGACY_TABLES = ("raw", "mangle", "nat", "filter", "security")


class BatchError(Exception):
    pass


class Prober:
    def __init__(self, topo, backend):
        if backend not in ("nft", "legacy"):
            raise ValueError(f"backend must be nft or legacy, not {backend!r}")
        self.topo, self.backend = topo, backend
        self.fams = ([4] if topo.v4 else []) + ([6] if topo.v6 else [])
        self.host_ns = topo.host.ns
        self.senders = {}
        self.taps = []  # (node, sock)
        for n in topo.nodes:
            if n.kind not in ("ext", "container"):
                continue
            s = nsutil.socket_in(n.ns, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.setsockopt(socket.SOL_SOCKET, nsutil.SO_RCVBUFFORCE, 8 << 20)
            s.setblocking(False)
            self.taps.append((n, s))
        self.nft = tr_.NftTraceSock(self.host_ns) if backend == "nft" else None
        self.local = []  # (container, NFLOG socket): what each container's stack really receives
        for n in topo.nodes:
            if n.kind == "container":
                nsutil.run(n.ns, ["nft", "-f", "-"], stdin=tr_.LOCAL_RULESET)
                self.local.append((n, tr_.NflogSock(n.ns, [])))
        self.nflog = tr_.NflogSock(self.host_ns, self.fams if backend == "legacy" else [])
        self.batch_no = 0
        self._reset_nft()

    def close(self):
        for s in list(self.senders.values()) + [s for _, s in self.taps]:
            try:
                s.close()
            except OSError:
                pass
        self.senders, self.taps = {}, []
        for t in [self.nft, self.nflog] + [s for _, s in self.local]:
            if t:
                try:
                    t.close()
                except OSError:
                    pass

    # ------------------------------------------------------------ rulesets
    def _reset_nft(self):
        """nft backend: drop every table (the ruleset's and the mark table) and re-add the
        mark table, in one transaction. legacy: only the mark table lives in nf_tables."""
        nsutil.run(self.host_ns, ["nft", "-f", "-"], stdin="flush ruleset\n" + tr_.MARK_RULESET)

    def load(self, rulesets):
        """rulesets: {4: text|None, 6: text|None}. Nothing of the previous batch survives."""
        t0 = time.perf_counter()
        self._reset_nft()
        for fam in self.fams:
            text = rulesets.get(fam) or ""
            cmd = [tr_.tool(self.backend, fam, "restore"), "-w", "5"]
            if self.backend == "legacy":
                names = nsutil.read_in(self.host_ns, f"/proc/thread-self/net/{'ip6' if fam == 6 else 'ip'}_tables_names")
                reset = "".join(f"*{t}\n" + "".join(f":{c} ACCEPT [0:0]\n" for c in tr_.BUILTIN[t]) + "COMMIT\n"
                                for t in LEGACY_TABLES if t in names.split())
                text = reset + text
            if not text.strip():
                continue
            r = nsutil.run(self.host_ns, cmd, stdin=text if text.endswith("\n") else text + "\n", check=False)
            if r.returncode != 0:
                raise BatchError(f"{cmd[0]} failed: {(r.stderr or r.stdout).strip()}")
        nsutil.conntrack_flush(self.host_ns)
        return time.perf_counter() - t0

    # ------------------------------------------------------------ probes
    def _sender(self, node, fam):
        k = (node.ns, fam)
        if k not in self.senders:
            self.senders[k] = nsutil.socket_in(node.ns, socket.AF_INET if fam == 4 else socket.AF_INET6,
                                               socket.SOCK_RAW, socket.IPPROTO_RAW)
        return self.senders[k]

    def _normalize(self, probes):
        topo = self.topo
        if len(probes) > 0x7FFF:
            raise BatchError("at most 32767 probes per batch")
        out, tuples = [], set()
        base = 20000 + (self.batch_no * 4099) % 30000
        for i, q in enumerate(probes):
            pid = i + 1
            where = f"probe {q.get('id', pid)!r}"
            f = q.get("from") or {"kind": "ext"}
            if isinstance(f, str):
                f = {"kind": f}
            kind = f.get("kind")
            if kind == "ext":
                node = topo.client(f["interface"]) if f.get("interface") else (topo.clients[0] if topo.clients else None)
                if node is None:
                    raise BatchError(f"{where}: no external client on {f.get('interface')!r}")
            elif kind == "host":
                node = topo.host
            elif kind == "container":
                node = topo.container(f.get("address", ""))
                if node is None:
                    raise BatchError(f"{where}: no container with address {f.get('address')!r}")
            else:
                raise BatchError(f"{where}: from.kind must be ext, host or container")
            proto = {"icmp6": "icmp", "icmpv6": "icmp", "ipv6-icmp": "icmp"}.get(q.get("proto"), q.get("proto"))
            if proto not in ("tcp", "udp", "icmp"):
                raise BatchError(f"{where}: proto must be tcp, udp or icmp")
            try:
                src, dst = pk_.norm_addr(q["src"]), pk_.norm_addr(q["dst"])
            except (KeyError, ValueError) as e:
                raise BatchError(f"{where}: bad src/dst ({e})") from None
            fam = pk_.family_of(src)
            if pk_.family_of(dst) != fam:
                raise BatchError(f"{where}: src and dst are of different families")
            if fam not in self.fams:
                raise BatchError(f"{where}: IPv{fam} probe in a {topo.family} topology")
            if kind == "ext" and not topo.client_may_send(node, src):
                raise BatchError(f"{where}: {src} is neither an address of {node.label} nor routed to it")
            p = {"id": q.get("id", pid), "pid": pid, "fam": fam, "proto": proto, "src": src, "dst": dst,
                 "node": node}
            if proto in ("tcp", "udp"):
                if "dport" not in q:
                    raise BatchError(f"{where}: dport missing")
                p["dport"] = int(q["dport"])
                p["sport"] = int(q["sport"]) if q.get("sport") is not None else base + i % 30000
                if not (0 < p["sport"] < 65536 and 0 <= p["dport"] < 65536):
                    raise BatchError(f"{where}: port out of range")
                t = (proto, src, p["sport"], dst, p["dport"])
            else:
                t = (proto, src, dst, pid)
            if t in tuples:
                raise BatchError(f"{where}: same 5-tuple as an earlier probe of the batch (set distinct sports)")
            tuples.add(t)
            if proto == "tcp":
                p["flagbits"] = pk_.flags_bits(q.get("tcpFlags") or "S")
                p["seq"] = int(q["seq"]) if q.get("seq") is not None else pk_.probe_seq(pid)
                p["ack"] = int(q.get("ack") or 0)
            out.append(p)
        return out

    def batch(self, probes, wait=0.02, keep_empty_policies=False, quiet=0.005):
        self.batch_no += 1
        t0 = time.perf_counter()
        ps = self._normalize(probes)
        by_pid = {p["pid"]: p for p in ps}
        index = tr_.RuleIndex(self.host_ns, self.backend, self.fams)
        t_index = time.perf_counter()
        self._discard()
        res = {p["pid"]: {"id": p["id"], "reply": None,
                          "delivered": {"where": None, "namespace": None, "src": None, "sport": None,
                                        "dst": None, "dport": None}} for p in ps}
        reply_key = {}
        for p in ps:
            if p["proto"] == "icmp":
                reply_key[("icmp", p["src"], p["pid"])] = p
            else:
                reply_key[(p["proto"], p["src"], p["sport"], p["dport"])] = p
        sent = set()
        to_reset = []
        taps = self.taps
        topo = self.topo
        netlinks = [t for t in [self.nft, self.nflog] + [s for _, s in self.local] if t]

        def deliver(p, node, pkt):
            d = res[p["pid"]]["delivered"]
            if d["where"] is None:
                d.update(where=node.kind, namespace=node.label, src=pkt["src"], sport=pkt.get("sport"),
                         dst=pkt["dst"], dport=pkt.get("dport"))

        def answer(node, pkt):
            """Is pkt, received by `node`, the reply to one of its probes? -> probe or None."""
            if pkt["proto"] in ("tcp", "udp"):
                p = reply_key.get((pkt["proto"], pkt["dst"], pkt.get("dport"), pkt.get("sport")))
            elif pkt["proto"] != "icmp" or "type" not in pkt or pk_.is_echo_request(pkt):
                return None
            elif pk_.is_echo_reply(pkt):
                p = reply_key.get(("icmp", pkt["dst"], pkt.get("echo_id")))
            else:  # an ICMP error: the header it quotes (un-NATed by conntrack) is the probe's
                q = pkt.get("inner")
                p = by_pid.get(q["pid"]) if q else None
                if p is not None and not (q["proto"] == p["proto"] and q["fam"] == p["fam"] and q["src"] == p["src"] and (
                        q.get("echo_id") == p["pid"] if p["proto"] == "icmp" else q.get("sport") == p["sport"])):
                    p = None
            if p is None or p["node"] is not node or p["pid"] not in sent or p["fam"] != pkt["fam"]:
                return None
            return p

        def classify_reply(p, pkt):
            r = res[p["pid"]]
            if r["reply"] is not None:
                return
            if pkt["proto"] == "tcp":
                fl = pkt.get("flags", 0)
                r["reply"] = "synack" if fl & 0x12 == 0x12 else "rst" if fl & 0x04 else f"tcp-{fl:#04x}"
                if r["reply"] == "synack" and p["node"] is not topo.host:
                    to_reset.append((p, pkt["ack"]))
            elif pkt["proto"] == "udp":
                r["reply"] = "udp"
            elif pk_.is_echo_reply(pkt):
                r["reply"] = "echo-reply"
            else:
                r["reply"] = f'{"icmp" if pkt["fam"] == 4 else "icmp6"}-{pkt["type"]}-{pkt["code"]}'

        def drain(ready=None):
            """Serve listeners, read taps and trace sockets. -> how much happened."""
            # listeners first: their answers are then on the taps by the time we read those
            activity = topo.serve_listeners(ready if ready is not None else [s for _, _, s in topo.listen_socks])
            for t in netlinks:
                if ready is None or t in ready:
                    n = len(t.raw)
                    t.read_all()
                    activity += len(t.raw) - n
            for node, s in taps:
                if ready is not None and s not in ready:
                    continue
                while True:
                    try:
                        data, addr = s.recvfrom(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    activity += 1
                    # (ifname, proto, pkttype, ...): only what this namespace's stack receives
                    if addr[2] != PACKET_HOST or addr[0] == "lo" or data[12:14] not in ETH_IP:
                        continue
                    pkt = pk_.parse(data[14:])
                    if pkt is None:
                        continue
                    p = by_pid.get(pkt["pid"])
                    # outgoing copies were skipped above, so this is an arrival (hairpin included);
                    # containers report what their stack accepts through their own log instead
                    if p is not None and p["pid"] in sent and pk_.is_probe(p, pkt):
                        if node.kind == "ext":
                            deliver(p, node, pkt)
                        continue
                    p = answer(node, pkt)
                    if p is not None:
                        classify_reply(p, pkt)
            while to_reset:  # answer SYN-ACKs with a RST: no half-open connections left behind
                p, ack = to_reset.pop()
                try:
                    self._sender(p["node"], p["fam"]).sendto(pk_.rst_for(p, ack), (p["dst"], 0))
                except OSError:
                    pass
            return activity

        senders = [self._sender(p["node"], p["fam"]) for p in ps]
        t_send = time.perf_counter()
        errors = {}
        for i, (p, s) in enumerate(zip(ps, senders), 1):
            sent.add(p["pid"])
            try:
                s.sendto(pk_.build(p), (p["dst"], 0))
            except OSError as e:  # e.g. EPERM from an OUTPUT DROP, ENETUNREACH
                errors[p["pid"]] = f"send: {e.strerror}"
            if i % 64 == 0:
                drain()
        now = time.perf_counter()
        deadline = now + wait
        fds = [s for _, s in taps] + [s for _, _, s in topo.listen_socks] + netlinks
        while (left := deadline - time.perf_counter()) > 0:
            drain(wait_readable(fds, left))
        # then until nothing has happened for `quiet` seconds: on a loaded machine softirq work
        # (a veth hop, a listener's answer) can be deferred to ksoftirqd and come late
        hard = deadline + 1.0
        drain()
        while (now := time.perf_counter()) < hard:
            ready = wait_readable(fds, quiet)
            if not ready or not drain(ready):
                break
        drain()
        t_wait = time.perf_counter()
        traces, local = tr_.probe_traces(by_pid, index, self.nft.take() if self.nft else [], self.nflog.take(),
                                         keep_empty_policies)
        for node, s in self.local:
            for pkt in tr_.nflog_events(s.take())[1]:
                p = by_pid.get(pkt["pid"])
                if p is not None and pk_.is_probe(p, pkt):
                    deliver(p, node, pkt)
        for pkt in local:  # what the host's own stack received: probes delivered there, replies to host probes
            p = by_pid.get(pkt["pid"])
            if p is not None and pk_.is_probe(p, pkt):
                deliver(p, topo.host, pkt)
                continue
            p = answer(topo.host, pkt)
            if p is not None:
                classify_reply(p, pkt)
        out = []
        for p in ps:
            r = res[p["pid"]]
            r["trace"] = traces.get(p["pid"], [])
            if p["pid"] in errors:
                r["sendError"] = errors[p["pid"]]
            out.append(r)
        t_end = time.perf_counter()
        stats = {"probes": len(ps), "indexMs": round((t_index - t0) * 1000, 2),
                 "sendWaitMs": round((t_wait - t_send) * 1000, 2), "traceMs": round((t_end - t_wait) * 1000, 2),
                 "traceOverruns": (self.nft.overruns if self.nft else 0) + self.nflog.overruns}
        return out, stats

    def _discard(self):
        """Forget whatever arrived between batches (late replies, trace events of the restore)."""
        for _, s in self.taps:
            try:
                while s.recv(65535):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
        if self.nft:
            self.nft.take()
        self.nflog.take()
        for _, s in self.local:
            s.take()
        self.topo.serve_listeners([s for _, _, s in self.topo.listen_socks])
