#!/usr/bin/env python3
"""A TCP peer for the relay's fault tests (tests/cli/test_faults_relay.sh):
listens on 127.0.0.1:PORT, prints "listening", then serves each connection
(in a thread of its own) as MODE says:

  echo   echoes what comes; on the bytes "reset" it closes with a RST
         (SO_LINGER 0) instead, as a peer that vanishes mid-stream
  flood  writes as fast as the connection takes, until it fails; then
         prints "flood wrote N" (how much the relay took) and the error

Runs until killed; every line goes to stdout, flushed.
"""
import socket
import struct
import sys
import threading


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
        threading.Thread(target=serve, args=(c, mode), daemon=True).start()


def serve(c, mode):
    try:
        (echo if mode == "echo" else flood)(c)
    except OSError:
        pass  # the relay reset it
    c.close()


main()
