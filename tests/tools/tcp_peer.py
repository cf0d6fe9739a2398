#!/usr/bin/env python3
"""A TCP peer for the relay's fault tests (tests/cli/test_faults_relay.sh):
listens on 127.0.0.1:PORT, prints "listening", then serves one connection
at a time, as MODE says:

  echo   echoes what comes; on the bytes "reset" it closes with a RST
         (SO_LINGER 0) instead, as a peer that vanishes mid-stream
  flood  writes as fast as the connection takes, until it fails; then
         prints "flood wrote N" (how much the relay took) and the error

Runs until killed; every line goes to stdout, flushed.
"""
import socket
import struct
import sys


def echo(c):
    while True:
        d = c.recv(65536)
        if not d:
            return
        if d.startswith(b"reset"):
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            print("reset sent", flush=True)
            return
        c.sendall(d)


def flood(c):
    chunk, n = b"x" * 65536, 0
    try:
        while True:
            n += c.send(chunk)
    except OSError as e:
        print("flood wrote %d: %s" % (n, e.strerror), flush=True)


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(4)
    print("listening", flush=True)
    while True:
        c, _ = ls.accept()
        print("accepted", flush=True)
        (echo if mode == "echo" else flood)(c)
        c.close()


main()
