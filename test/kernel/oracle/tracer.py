"""Rule-level netfilter trace of the probes, without editing the ruleset under test.

A small nft table of our own (`inet dfo_mark`) sets skb->nf_trace on every packet at
priority -350 (before raw) in prerouting and output; both nf_tables and legacy ip_tables
honour the flag. Its `in_last` chain (input hook, priority 10000: after every iptables
table) logs the packets the host's own stack really receives (local delivery, and the
replies to probes sent from the host) to NFLOG group LOCAL_GROUP, whole, so that ICMP errors
can be matched by the header they quote.

  nft backend     nf_tables trace events (netlink group NFNLGRP_NFTRACE, what
                  `xtables-monitor --trace` shows), read with a 16 MiB buffer; rule handles
                  are turned into positions with a netlink rule dump (NFT_MSG_GETRULE).
  legacy backend  nfnetlink_log is made the netns's logger for IPv4/IPv6 and NFLOG group 0
                  receives the legacy TRACE lines ("TRACE: nat:DOCKER:rule:2"); the nft
                  trace is not needed then.
Positions are `iptables -L --line-numbers` numbers; 0 = the chain's policy (base chain) or
falling off the end of a user chain. Verdicts come from the rule's text (iptables-save),
so both backends say the same thing: ACCEPT, DROP, RETURN, JUMP:<chain>, GOTO:<chain>,
a target extension's name (DNAT, MASQUERADE, REJECT, LOG, MARK...), CONTINUE (no target),
POLICY:<policy> and RETURN for position 0.
"""
import os
import shlex
import socket
import struct
import subprocess

import nsutil
import packets as pk_
from nsutil import nl_attrs, nl_msgs

MARK_TABLE = "dfo_mark"
LOCAL_GROUP = 40719         # NFLOG group of the local-delivery log (legacy TRACE uses group 0)
LOCAL_PREFIX = "dfo-local"
_MARK = MARK_TABLE.encode()
MARK_RULESET = (
    f"table inet {MARK_TABLE} {{\n"
    " chain pre {\n  type filter hook prerouting priority -350; policy accept;\n  meta nftrace set 1 accept\n }\n"
    " chain out {\n  type filter hook output priority -350; policy accept;\n  meta nftrace set 1 accept\n }\n"
    " chain in_last {\n  type filter hook input priority 10000; policy accept;\n"
    f"  log prefix \"{LOCAL_PREFIX}\" group {LOCAL_GROUP} accept\n }}\n"
    "}\n")
# containers: only the local-delivery log (a stack can drop what arrived on its interface,
# e.g. a hairpinned packet whose source is the container's own address: a martian)
LOCAL_RULESET = (
    f"table inet {MARK_TABLE} {{\n"
    " chain in_last {\n  type filter hook input priority 10000; policy accept;\n"
    f"  log prefix \"{LOCAL_PREFIX}\" group {LOCAL_GROUP} accept\n }}\n"
    "}\n")
BASE_CHAINS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")
BUILTIN = {"raw": ("PREROUTING", "OUTPUT"), "mangle": BASE_CHAINS,
           "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
           "filter": ("INPUT", "FORWARD", "OUTPUT"), "security": ("INPUT", "FORWARD", "OUTPUT")}
FAM_OF_NFPROTO = {2: 4, 10: 6}
NFNLGRP_NFTRACE = 9
NFNL_SUBSYS_ULOG = 4
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_TRACE = 17
NFULNL_MSG_PACKET, NFULNL_MSG_CONFIG = 0, 1
NFT_VERDICTS = {0: "DROP", 1: "ACCEPT", 2: "STOLEN", 3: "QUEUE", 4: "REPEAT", 0xFFFFFFFF: "CONTINUE",
                0xFFFFFFFE: "BREAK", 0xFFFFFFFD: "JUMP", 0xFFFFFFFC: "GOTO", 0xFFFFFFFB: "RETURN"}


def tool(backend, fam, what):
    return f"{'ip6tables' if fam == 6 else 'iptables'}-{backend}-{what}"


# ------------------------------------------------------------------ rule index
def parse_save(text):
    """iptables-save text -> (rules {(table, chain): [line]}, policies {(table, chain): P}, user chains)."""
    rules, policies, user, table = {}, {}, set(), None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:].strip()
        elif line.startswith(":") and table:
            name, pol = (line[1:].split() + ["-"])[:2]
            if pol == "-":
                user.add((table, name))
            else:
                policies[(table, name)] = pol
            rules.setdefault((table, name), [])
        elif line.startswith("-A ") and table:
            rules.setdefault((table, line.split()[1]), []).append(line)
    return rules, policies, user


def rule_target(table, line, user):
    try:
        toks = shlex.split(line)
    except ValueError:
        toks = line.split()
    target, goto = None, False
    for i, t in enumerate(toks[:-1]):
        if t in ("-j", "--jump"):
            target, goto = toks[i + 1], False
        elif t in ("-g", "--goto"):
            target, goto = toks[i + 1], True
    if target is None:
        return "CONTINUE"
    if goto:
        return "GOTO:" + target
    if (table, target) in user:
        return "JUMP:" + target
    return target


class RuleIndex:
    """What the kernel holds after a restore: rule texts by position, and (nft) handle ->
    position. Built once per batch."""

    def __init__(self, host_ns, backend, fams):
        self.backend = backend
        self.rules, self.policies, self.user, self.pos, self._targets = {}, {}, {}, {}, {}
        procs = {}
        for fam in fams:
            procs[fam] = _spawn(host_ns, [tool(backend, fam, "save")])
        if backend == "nft":
            self.pos = nft_rule_positions(host_ns)
        out = {k: p.communicate()[0] for k, p in procs.items()}
        for fam in fams:
            r, pol, u = parse_save(out[fam])
            self.rules[fam], self.policies[fam], self.user[fam] = r, pol, u

    def event(self, fam, table, chain, n, end_kind=None):
        """(position, verdict, rule text) for rule n (1-based) of a chain, or its end."""
        lines = self.rules.get(fam, {}).get((table, chain), [])
        if 0 < n <= len(lines):
            k = (fam, table, chain, n)
            v = self._targets.get(k)
            if v is None:
                v = self._targets[k] = rule_target(table, lines[n - 1], self.user.get(fam, set()))
            return n, v, lines[n - 1]
        pol = self.policies.get(fam, {}).get((table, chain))
        if pol is not None and end_kind != "return":
            return 0, "POLICY:" + pol, None
        return 0, "RETURN", None

    def nrules(self, fam, table, chain):
        return len(self.rules.get(fam, {}).get((table, chain), []))


NFT_MSG_NEWRULE, NFT_MSG_GETRULE = 6, 7
NLM_F_DUMP = 0x300
NLMSG_DONE = 3


def nft_rule_positions(ns):
    """{(fam, table, chain, handle): position} for the ip/ip6 tables, from a netlink rule dump
    (what `nft -a list ruleset` shows, in the same order, without a process or JSON)."""
    s = nsutil.socket_in(ns, socket.AF_NETLINK, socket.SOCK_RAW, nsutil.NETLINK_NETFILTER)
    pos, count = {}, {}
    try:
        s.bind((0, 0))
        body = struct.pack("=BBH", socket.AF_UNSPEC, 0, 0)
        s.send(nsutil.NLMSG_HDR.pack(16 + len(body), (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE,
                                     nsutil.NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
        while True:
            data = s.recv(1 << 20)
            for typ, payload in nl_msgs(data):
                if typ == NLMSG_DONE:
                    return pos
                if typ == nsutil.NLMSG_ERROR:
                    err = -struct.unpack("=i", payload[:4])[0]
                    raise OSError(err, "nf_tables rule dump: " + os.strerror(err))
                if typ != (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE:
                    continue
                fam = FAM_OF_NFPROTO.get(payload[0])
                if fam is None:
                    continue
                a = nl_attrs(payload[4:])
                table = a.get(1, b"").rstrip(b"\0").decode()
                chain = a.get(2, b"").rstrip(b"\0").decode()
                k = (fam, table, chain)
                count[k] = count.get(k, 0) + 1
                pos[(fam, table, chain, struct.unpack("!Q", a[3])[0])] = count[k]
    finally:
        s.close()


def _spawn(ns, cmd):
    path = f"{nsutil.NETNS_DIR}/{ns}"

    def enter():
        fd = os.open(path, os.O_RDONLY)
        nsutil._setns(fd)
        os.close(fd)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, preexec_fn=enter)


# ------------------------------------------------------------------ sockets
class _NlSock:
    def __init__(self, host_ns):
        self.sock = nsutil.socket_in(host_ns, socket.AF_NETLINK, socket.SOCK_RAW, nsutil.NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, nsutil.SO_RCVBUFFORCE, 16 << 20)
        self.sock.bind((0, 0))
        self.raw, self.overruns = [], 0

    def fileno(self):
        return self.sock.fileno()

    def read_all(self):
        self.sock.setblocking(False)
        while True:
            try:
                self.raw.append(self.sock.recv(1 << 20))
            except BlockingIOError:
                return
            except OSError:  # ENOBUFS: the kernel dropped events
                self.overruns += 1

    def take(self):
        self.read_all()
        raw, self.raw = self.raw, []
        return raw

    def close(self):
        self.sock.close()


class NftTraceSock(_NlSock):
    def __init__(self, host_ns):
        super().__init__(host_ns)
        self.sock.setsockopt(nsutil.SOL_NETLINK, nsutil.NETLINK_ADD_MEMBERSHIP, NFNLGRP_NFTRACE)
        self.sock.setblocking(False)


class NflogSock(_NlSock):
    """nfnetlink_log: group LOCAL_GROUP (the mark table's local-delivery log) and, for the
    legacy backend, group 0 with nfnetlink_log made the netns's IPv4/IPv6 logger so that the
    legacy TRACE lines arrive there."""

    def __init__(self, host_ns, trace_fams):
        self.host_ns, self.fams = host_ns, trace_fams
        for fam in trace_fams:
            nsutil.sysctl(host_ns, f"net.netfilter.nf_log.{2 if fam == 4 else 10}", "nfnetlink_log")
        super().__init__(host_ns)
        s = self.sock
        for group in ([0] if trace_fams else []) + [LOCAL_GROUP]:
            for attr in (nsutil.nl_attr(1, struct.pack("B", 1)),                    # CFG_CMD BIND
                         nsutil.nl_attr(2, struct.pack("!IBB", 0xFFFF, 2, 0)),      # CFG_MODE copy packet
                         nsutil.nl_attr(5, struct.pack("!I", 1))):                  # QTHRESH 1: no batching
                nsutil.nfnl_request(s, NFNL_SUBSYS_ULOG, NFULNL_MSG_CONFIG, socket.AF_UNSPEC, attr, res_id=group)
        s.setblocking(False)

    def close(self):
        super().close()
        for fam in self.fams:
            try:
                nsutil.sysctl(self.host_ns, f"net.netfilter.nf_log.{2 if fam == 4 else 10}", "NONE")
            except OSError:
                pass


# ------------------------------------------------------------------ decoding
def _trace_attrs(payload):
    """nl_attrs for a trace message, or None for the mark table's own chains (a third of
    all events), recognised before their headers are sliced out."""
    out, i, n = {}, 4, len(payload)
    unpack = struct.unpack_from
    while i + 4 <= n:
        ln, typ = unpack("=HH", payload, i)
        if ln < 4:
            break
        typ &= 0x3FFF
        out[typ] = payload[i + 4:i + ln]
        if typ == 1 and out[1][:len(_MARK) + 1] == _MARK + b"\0":
            return None
        i += (ln + 3) & ~3
    return out


def nft_events(raw):
    """nf_tables trace datagrams -> [(pkt, fam, table, chain, handle, type, verdict)].
    Headers come only with the first event of each base-chain run; later events of the
    same run are attributed through the trace id."""
    cur, out = {}, []
    for data in raw:
        for typ, payload in nl_msgs(data):
            if typ != (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_TRACE or len(payload) < 4:
                continue
            tfam = payload[0]
            a = _trace_attrs(payload)
            if a is None:
                continue
            tid = struct.unpack("!I", a[6])[0] if 6 in a else 0
            if 8 in a:
                cur[tid] = pk_.parse(a[8] + a.get(9, b""))
            pkt = cur.get(tid)
            if pkt is None:
                continue
            ttype = struct.unpack("!I", a[4])[0] if 4 in a else 0
            handle = struct.unpack("!Q", a[3])[0] if 3 in a else None
            verdict = None
            if 5 in a:
                v = nl_attrs(a[5])
                if 1 in v:
                    verdict = NFT_VERDICTS.get(struct.unpack("!I", v[1])[0], "?")
            if ttype == 1 and 16 in a:
                verdict = NFT_VERDICTS.get(struct.unpack("!I", a[16])[0], "?")
            out.append((pkt, tfam, a.get(1, b"").rstrip(b"\0").decode(), a.get(2, b"").rstrip(b"\0").decode(),
                        handle, ttype, verdict))
    return out


def nflog_events(raw):
    """NFLOG messages -> ([(pkt, hook, table, chain, kind, num)] legacy TRACE, [pkt] local deliveries)."""
    trace, local = [], []
    for data in raw:
        for typ, payload in nl_msgs(data):
            if typ != (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET or len(payload) < 4:
                continue
            a = nl_attrs(payload[4:])
            prefix = a.get(10, b"").rstrip(b"\0").decode(errors="replace")
            if prefix == LOCAL_PREFIX:
                pkt = pk_.parse(a.get(9, b""))
                if pkt is not None:
                    local.append(pkt)
                continue
            if not prefix.startswith("TRACE: "):
                continue
            pkt = pk_.parse(a.get(9, b""))
            if pkt is None:
                continue
            hook = BASE_CHAINS[a[1][2]] if 1 in a and len(a[1]) >= 3 and a[1][2] < 5 else None
            try:
                table, chain, kind, num = prefix[7:].strip().split(":")
                trace.append((pkt, hook, table, chain, kind, int(num)))
            except ValueError:
                continue
    return trace, local


def probe_traces(probes_by_pid, index, nft_raw, nflog_raw, keep_empty_policies=False):
    """Assign trace events to probes (nft_raw: nf_tables trace datagrams, nft backend only;
    nflog_raw: NFLOG datagrams). Returns ({pid: [event]}, [local-delivery packets])."""
    traces = {pid: [] for pid in probes_by_pid}
    hook_now = {}
    legacy_trace, local = nflog_events(nflog_raw)

    def owner(pkt):
        p = probes_by_pid.get(pkt["pid"])
        return p if p is not None and pk_.is_probe(p, pkt) else None

    def add(p, table, hook, chain, n, verdict, line, pkt):
        if n == 0 and not keep_empty_policies and verdict == "POLICY:ACCEPT" and \
                index.nrules(p["fam"], table, chain) == 0:
            return  # an empty ACCEPT chain: no effect, and legacy shows tables nft does not have
        ev = {"table": table, "hook": hook, "chain": chain, "position": n, "verdict": verdict}
        if line:
            ev["rule"] = line
        ev["packet"] = pk_.brief(pkt)
        tr = traces[p["pid"]]
        if tr and n == 0 and tr[-1]["chain"] == chain and tr[-1]["position"] == 0 and tr[-1]["table"] == table \
                and tr[-1]["verdict"] == verdict:
            return  # the same chain end reported twice
        tr.append(ev)

    for pkt, tfam, table, chain, handle, ttype, verdict in nft_events(nft_raw):
        if table == MARK_TABLE:
            continue
        fam = FAM_OF_NFPROTO.get(tfam)
        p = owner(pkt)
        if p is None or fam != p["fam"]:
            continue
        if chain in BASE_CHAINS:
            hook_now[p["pid"]] = chain
        hook = hook_now.get(p["pid"], chain)
        if ttype == 3 and handle is not None:  # a rule matched
            n, v, line = index.event(fam, table, chain, index.pos.get((fam, table, chain, handle), -1))
            if n == 0:
                n, v, line = -1, verdict or "?", None
            add(p, table, hook, chain, n, v, line, pkt)
        elif ttype == 1:  # base chain policy
            add(p, table, hook, chain, 0, "POLICY:" + (verdict or "?"), None, pkt)
        elif ttype in (2, 3) and chain not in BASE_CHAINS:  # end of a user chain (implicit return)
            add(p, table, hook, chain, 0, "RETURN", None, pkt)
    for pkt, hook, table, chain, kind, num in legacy_trace:
            p = owner(pkt)
            if p is None:
                continue
            n, v, line = index.event(p["fam"], table, chain, num, end_kind=kind if kind != "rule" else None)
            add(p, table, hook or chain, chain, n, v, line, pkt)
    return traces, local
