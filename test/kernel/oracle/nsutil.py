"""Namespace and netlink plumbing for the kernel oracle (python3 standard library only).

The oracle process stays in the namespace it was started in and enters the oracle's
namespaces with setns(2) only for the moment it opens a socket, writes a sysctl or forks
a command: sockets keep the namespace they were created in, and /proc/sys/net reflects the
namespace of whoever opens the file.
"""
import contextlib
import ctypes
import os
import socket
import struct
import subprocess

CLONE_NEWNET = 0x40000000
SO_RCVBUFFORCE = 33
NETNS_DIR = "/run/netns"

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


@contextlib.contextmanager
def netns(name):
    """Run the body with this (single) thread inside netns `name`."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY)
    try:
        _setns(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(target)
        os.close(home)


def in_netns(name, fn):
    with netns(name):
        return fn()


def socket_in(name, *args):
    with netns(name):
        return socket.socket(*args)


def sysctl_name(component):
    """An interface name as one component of a dotted sysctl key (eth0.10 -> eth0/10)."""
    return component.replace(".", "/")


def sysctl(name, key, value, must=True):
    """Write a sysctl (dotted key; a dot inside a component, as in the interface eth0.10,
    written as "/" the way sysctl(8) takes it) inside netns `name`. must=False: ignore a
    missing key."""
    path = "/proc/sys/" + key.translate(str.maketrans("./", "/."))
    with netns(name):
        try:
            with open(path, "w") as f:
                f.write(str(value))
        except FileNotFoundError:
            if must:
                raise


def read_in(name, path):
    with netns(name):
        try:
            with open(path) as f:
                return f.read()
        except FileNotFoundError:
            return ""


def run(name, cmd, stdin=None, check=True, timeout=60):
    """Run an external command inside netns `name` (no `ip netns exec`: the child enters
    the namespace itself right after fork, which saves ~5 ms per command)."""
    path = os.path.join(NETNS_DIR, name) if name else None

    def enter():
        if path:
            fd = os.open(path, os.O_RDONLY)
            _setns(fd)
            os.close(fd)

    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, preexec_fn=enter, timeout=timeout)
    if check and r.returncode != 0:
        raise CommandError(cmd, r.returncode, r.stderr.strip() or r.stdout.strip())
    return r


class CommandError(RuntimeError):
    def __init__(self, cmd, code, msg):
        super().__init__(f"{' '.join(cmd)} exited {code}: {msg}")
        self.cmd, self.code, self.msg = cmd, code, msg


# ------------------------------------------------------------------ netlink
NLMSG_HDR = struct.Struct("=IHHII")
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NETLINK_NETFILTER = 12
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1


def nl_msgs(data):
    """Yield (type, payload) of each netlink message in a datagram."""
    i = 0
    while i + 16 <= len(data):
        ln, typ, _, _, _ = NLMSG_HDR.unpack_from(data, i)
        if ln < 16:
            break
        yield typ, data[i + 16:i + ln]
        i += (ln + 3) & ~3


def nl_attrs(buf):
    """Flat attribute table {type: bytes} (nested flag stripped)."""
    out, i = {}, 0
    while i + 4 <= len(buf):
        ln, typ = struct.unpack_from("=HH", buf, i)
        if ln < 4:
            break
        out[typ & 0x3FFF] = buf[i + 4:i + ln]
        i += (ln + 3) & ~3
    return out


def nl_attr(typ, payload):
    ln = 4 + len(payload)
    return struct.pack("=HH", ln, typ) + payload + b"\0" * ((4 - ln % 4) % 4)


def nfnl_request(sock, subsys, msg, family, attrs=b"", res_id=0):
    """Send one nfnetlink request and wait for its ACK; raise on an error answer."""
    body = struct.pack("=BBH", family, 0, socket.htons(res_id)) + attrs
    sock.send(NLMSG_HDR.pack(16 + len(body), (subsys << 8) | msg, NLM_F_REQUEST | NLM_F_ACK, 0, 0) + body)
    while True:
        data = sock.recv(65536)
        for typ, payload in nl_msgs(data):
            if typ == NLMSG_ERROR:
                err = -struct.unpack("=i", payload[:4])[0]
                if err:
                    raise OSError(err, f"nfnetlink {subsys}/{msg}: {os.strerror(err)}")
                return


NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_DELETE = 2


def conntrack_flush(name):
    """`conntrack -F` for every family, in-process (no fork)."""
    s = socket_in(name, socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    try:
        s.bind((0, 0))
        nfnl_request(s, NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_DELETE, socket.AF_UNSPEC)
    finally:
        s.close()
