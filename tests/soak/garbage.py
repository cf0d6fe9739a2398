#!/usr/bin/env python3
"""Garbage for the soak (tests/soak/soak.sh): for --seconds, about --rate
times a second, one of: random bytes (or a header that looks right with
rubbish after it: STUN, ChannelData, MS-TURN framing, a TLS record, SIP)
in a datagram to a --udp port, on a TCP connection to a --tcp port (then
closed, sometimes with a RST), or as an HTTP request on the --unix control
socket; and datagrams and connections to random ports of --relay LO-HI
(allocations' relayed addresses, from a source with no permission). All on
127.0.0.1. Prints one line at the end: "garbage: N sent".
"""
import argparse
import os
import random
import socket
import struct
import time

HEADS = [
    b"\x00\x01",                                  # a STUN Binding request type
    b"\x00\x03\x00\x08\x21\x12\xa4\x42",          # Allocate, cookie, lies about its length
    b"\x40\x01",                                  # ChannelData
    b"\x02\x00\xff\xff",                          # MS-TURN control frame, too long
    b"\x16\x03\x01\x00\x2d\x01",                  # a TLS handshake record
    b"INVITE sip:x SIP/2.0\r\nContent-Length: 99999999\r\n\r\n",
    b"",
]


def junk():
    return random.choice(HEADS) + os.urandom(random.randint(0, 1400))


def tcp(port):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(junk())
        if random.random() < 0.3:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(junk(), ("127.0.0.1", port))
    s.close()


def unix(path):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(1)
    try:
        s.connect(path)
        s.sendall(random.choice([b"GET /", b"POST /rows/9?", b"\x00\xff"]) + os.urandom(64)
                  + b"\r\n\r\n")
        s.recv(4096)
    except OSError:
        pass
    s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--rate", type=float, default=20)
    p.add_argument("--udp", default="")
    p.add_argument("--tcp", default="")
    p.add_argument("--unix")
    p.add_argument("--relay", default="50000-59999")
    a = p.parse_args()
    lo, hi = (int(x) for x in a.relay.split("-"))
    targets = [(udp, int(x)) for x in a.udp.split(",") if x]
    targets += [(tcp, int(x)) for x in a.tcp.split(",") if x]
    if a.unix:
        targets.append((unix, a.unix))
    targets += [(udp, None), (tcp, None)]  # None: a random relayed port
    end, n = time.time() + a.seconds, 0
    while time.time() < end:
        f, where = random.choice(targets)
        f(where if where is not None else random.randint(lo, hi))
        n += 1
        time.sleep(1 / a.rate)
    print("garbage: %d sent" % n, flush=True)


main()
