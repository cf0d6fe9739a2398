#!/usr/bin/env python3
"""notify_listen: the service manager's end of sd_notify(3), for the tests.

    notify_listen.py SOCKET [--stun HOST:PORT] [--tcp HOST:PORT ...]
                            [--unix PATH ...]

Binds a unix datagram socket at SOCKET (what systemd passes a Type=notify
service in NOTIFY_SOCKET) and prints each message it receives, one
assignment a line, prefixed with the message's number: "1 READY=1",
"1 STATUS=...", and "1 pid=N", the sender's pid from its credentials. On
every READY=1, before reading further, it checks that what the service
promised is there: STUN Binding requests to --stun from 16 source ports
(connected UDP sockets, so that a closed port fails at once; SO_REUSEPORT
spreads them over the workers) print "1 stun: answered software=TEXT"
when all answered alike, else "1 stun: answered differently: ..." or
"1 stun: no answer: WHY"; each --tcp and --unix is
connected to: "1 tcp HOST:PORT: connected" or "... refused: WHY". It exits
after a message with STOPPING=1, or on SIGTERM. Lines are flushed as they
are printed, so that a shell test can poll the output file.
"""
import argparse
import os
import signal
import socket
import struct
import sys

MAGIC = 0x2112A442
SOFTWARE = 0x8022


def host_port(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def stun_check(addr):
    """A Binding request; the SOFTWARE of the answer, or why there is none."""
    tid = os.urandom(12)
    req = struct.pack("!HHI", 0x0001, 0, MAGIC) + tid
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        try:
            s.connect(addr)
            s.send(req)
            data = s.recv(2048)
        except OSError as e:
            return "no answer: %s" % (e.strerror or e)
    if len(data) < 20 or data[0:2] != b"\x01\x01" or data[8:20] != tid:
        return "no answer: not a Binding success for our request"
    software = "-"
    pos = 20
    while pos + 4 <= len(data):
        atype, alen = struct.unpack("!HH", data[pos:pos + 4])
        if atype == SOFTWARE:
            software = data[pos + 4:pos + 4 + alen].decode(errors="replace")
        pos += 4 + alen + (-alen % 4)
    return "answered software=%s" % software


def stun_check_all(addr, tries=16):
    """stun_check from `tries` source ports: SO_REUSEPORT spreads them over
    the workers (all 16 on one of two: 1 in 32768), so an answer that is
    the same for all is every worker's. The distinct answers, joined."""
    answers = sorted({stun_check(addr) for _ in range(tries)})
    if len(answers) == 1:
        return answers[0]
    return "answered differently: " + "; ".join(answers)


def connect_check(family, addr):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect(addr)
        except OSError as e:
            return "refused: %s" % (e.strerror or e)
    return "connected"


def on_ready(n, args, out):
    if args.stun:
        out("%d stun: %s" % (n, stun_check_all(host_port(args.stun))))
    for t in args.tcp:
        h, p = host_port(t)
        fam = socket.AF_INET6 if ":" in h else socket.AF_INET
        out("%d tcp %s: %s" % (n, t, connect_check(fam, (h, p))))
    for u in args.unix:
        out("%d unix %s: %s" % (n, u, connect_check(socket.AF_UNIX, u)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("socket")
    ap.add_argument("--stun")
    ap.add_argument("--tcp", action="append", default=[])
    ap.add_argument("--unix", action="append", default=[])
    args = ap.parse_args()

    def out(line):
        print(line, flush=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(args.socket)
    cred_len = socket.CMSG_SPACE(struct.calcsize("3i"))
    n = 0
    while True:
        data, anc, _, _ = s.recvmsg(4096, cred_len)
        n += 1
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                out("%d pid=%d" % (n, struct.unpack("3i", payload)[0]))
        lines = data.decode(errors="replace").split("\n")
        for line in lines:
            if line:
                out("%d %s" % (n, line))
        if "READY=1" in lines:
            on_ready(n, args, out)
        if "STOPPING=1" in lines:
            return 0


if __name__ == "__main__":
    sys.exit(main())
