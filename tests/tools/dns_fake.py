#!/usr/bin/env python3
"""A DNS server for tests that never resolves anything: on 127.0.0.1:PORT
(UDP), each query's name is logged to LOG ("query NAME", one a line); a
name containing "servfail" is answered SERVFAIL, every other one is read
and never answered (a silent server: the asker's lookup times out).

Usage: dns_fake.py PORT LOG. Runs until killed.
"""
import socket
import sys


def qname(q):
    """The question's name and the offset just past it (12 + labels + 1)."""
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
        i += q[i] + 1
    return ".".join(labels), i + 1


def main():
    port, log = int(sys.argv[1]), open(sys.argv[2], "a", buffering=1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    while True:
        q, peer = s.recvfrom(512)
        if len(q) < 17:
            continue
        name, end = qname(q)
        log.write("query %s\n" % name)
        if "servfail" in name:
            # The question echoed; QR, RD, RA; RCODE 2; no records.
            s.sendto(q[:2] + b"\x81\x82" + q[4:6] + b"\0" * 6 + q[12:end + 4], peer)


main()
