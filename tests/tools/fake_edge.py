#!/usr/bin/env python3
"""A fake edge control API (docs/control-api.md) for the probe's tests.

It answers triggers (POST /rows/N, POST /strict/tcp) with 202 and a
Location, keeps a record per flow whose outcome is chosen on the command
line, and answers GET /flows/ID[?wait=MS] and GET /canary[?marker=M][&wait=MS].
It originates nothing, except for the outcome "send" (strict-tcp and row 4:
it connects to the target and writes the marker line, as a leaky firewall
would let the edge do). Canaries are real listeners (--canary-tcp,
--canary-udp) on --edge; --ghost-hits makes every marker asked about a hit.

Over a unix socket (--unix PATH) anyone may ask; over HTTPS (--https
ADDR:PORT, --cert, --key, --ca) a client certificate with a DNS SAN
--client-name or `Authorization: Bearer` with --token-file's first line is
needed (401/403 otherwise), as the real edge does. Each request is logged
to --log as one line: METHOD PATH AUTH STATUS, AUTH being cert:NAME,
token, or none.

Outcomes: --outcome KEY=OUTCOME, KEY being a kind (row2, row4, row5,
strict-tcp) optionally narrowed by a dialect or the target's port
(row5:msturn, strict-tcp:5060); OUTCOME one of reset, icmp, timeout,
pending, tls-failed, error, connected, answered, send. Default timeout.
"""
import argparse
import http.server
import os
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

LOCK = threading.Lock()
FLOWS = {}
HITS = []
NEXT = {"flow": 1, "hit": 1}


def add_hit(proto, port, src, data):
    marker = "-"
    text = data.decode("latin-1")
    i = text.find("edgelab marker=")
    if i >= 0:
        m = text[i + len("edgelab marker="):].split("\n")[0].strip()
        marker = m or "-"
    with LOCK:
        HITS.append("hit: %d %s %d %s:%d %d marker=%s" %
                    (NEXT["hit"], proto, port, src[0], src[1], int(time.time() * 1000), marker))
        NEXT["hit"] += 1


def canary_tcp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    while True:
        c, src = s.accept()
        c.settimeout(1.0)
        data = b""
        try:
            while len(data) < 128 and b"\n" not in data:
                b = c.recv(128 - len(data))
                if not b:
                    break
                data += b
        except OSError:
            pass
        c.close()
        add_hit("tcp", port, src, data)


def canary_udp(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, src = s.recvfrom(2048)
        add_hit("udp", port, src, data)


def outcome_for(args, kind, dialect, target):
    port = target.rsplit(":", 1)[-1]
    for key in ("%s:%s" % (kind, dialect), "%s:%s" % (kind, port), kind):
        if key in args.outcomes:
            return args.outcomes[key]
    return "timeout"


def originate(target, marker):
    """outcome send: connect to target, write the marker line, close."""
    host, port = target.rsplit(":", 1)
    try:
        c = socket.create_connection((host.strip("[]"), int(port)), timeout=2)
        c.sendall(("edgelab marker=%s\n" % marker).encode())
        src = c.getsockname()
        time.sleep(0.2)
        c.close()
        return "%s:%d" % src[:2]
    except OSError:
        return "-"


def record(args, kind, q):
    dialect = q.get("dialect", ["rfc5389"])[0] if kind == "row5" else ""
    target = q.get("target", ["%s:5061" % args.edge])[0]
    marker = q.get("marker", [""])[0]
    out = outcome_for(args, kind, dialect, target)
    rec = {"kind": kind, "target": target, "outcome": out, "source": "%s:40000" % args.edge}
    if dialect:
        rec["dialect"] = dialect
    if out == "send":
        rec["source"] = originate(target, marker)
        rec["outcome"] = "connected"
    elif out == "icmp":
        rec.update({"icmp-type": "3", "icmp-code": "3", "icmp-from": args.icmp_from,
                    "detail": "drew ICMP port unreachable (type 3 code 3) from " + args.icmp_from})
    elif out == "timeout":
        rec["detail"] = "no SYN-ACK in 3.0 s"
    elif out == "tls-failed":
        rec["detail"] = "certificate verify failed"
    elif out == "error":
        rec["detail"] = "no relay port free"
    with LOCK:
        fid = NEXT["flow"]
        NEXT["flow"] += 1
        rec["id"] = str(fid)
        FLOWS[fid] = rec
    return fid


def flow_text(rec):
    keys = ["id", "kind", "dialect", "target", "source", "outcome", "icmp-type", "icmp-code",
            "icmp-from", "seconds", "detail"]
    rec = dict(rec, seconds="0.004")
    return "".join("%s: %s\n" % (k, rec[k]) for k in keys if k in rec) + "future-key: ignored\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *a):
        pass

    def auth(self):
        """cert:NAME, token, none; or (status, reason) when refused."""
        if not self.server.tls:
            return "none", None
        cert = self.connection.getpeercert()
        if cert:
            names = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
            if self.server.args.client_name in names:
                return "cert:" + self.server.args.client_name, None
            return "cert:" + ",".join(names), (403, "unlisted_name")
        h = self.headers.get("Authorization", "")
        if h.startswith("Bearer "):
            if self.server.token and h[7:] == self.server.token:
                return "token", None
            return "badtoken", (401, "bad_token")
        return "none", (401, "no_credentials")

    def reply(self, code, body, location=None, who="none"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        if location:
            self.send_header("Location", location)
        if code == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="edgelab"')
        self.end_headers()
        self.wfile.write(data)
        with open(self.server.args.log, "a") as f:
            f.write("%s %s %s %d\n" % (self.command, self.path, who, code))

    def handle_any(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/healthz":
            return self.reply(200, "ok\n")
        who, refused = self.auth()
        if refused:
            return self.reply(refused[0], refused[1] + "\n", who=who)
        wait = min(int(q.get("wait", ["0"])[0]), 10000) / 1000.0
        if self.command == "POST" and u.path in ("/rows/2", "/rows/4", "/rows/5", "/strict/tcp"):
            kind = "strict-tcp" if u.path == "/strict/tcp" else "row" + u.path[-1]
            fid = record(self.server.args, kind, q)
            loc = None if self.server.args.no_location else "/flows/%d" % fid
            return self.reply(202, "%s flow %d started\n" % (kind, fid), loc, who)
        if self.command == "GET" and u.path.startswith("/flows/"):
            with LOCK:
                rec = FLOWS.get(int(u.path[7:]) if u.path[7:].isdigit() else -1)
            if not rec:
                return self.reply(404, "no such flow\n", who=who)
            if rec["outcome"] == "pending":
                time.sleep(wait)
            return self.reply(200, flow_text(rec), who=who)
        if self.command == "GET" and u.path == "/canary":
            marker = q.get("marker", [None])[0]
            end = time.monotonic() + wait
            while True:
                with LOCK:
                    hits = [h for h in HITS if marker is None or h.endswith(" marker=" + marker)]
                if not hits and marker and self.server.args.ghost_hits:
                    hits = ["hit: 999 tcp 0 192.0.2.99:4 1 marker=%s" % marker]
                if hits or time.monotonic() >= end:
                    break
                time.sleep(0.05)
            args = self.server.args
            listening = ""
            for proto, ports in (("tcp", args.canary_tcp + args.listening_tcp),
                                 ("udp", args.canary_udp + args.listening_udp)):
                if ports:
                    listening += "listening: %s %s\n" % (proto, " ".join(map(str, ports)))
            return self.reply(200, listening + "".join(h + "\n" for h in hits), who=who)
        return self.reply(404, "not found\n", who=who)

    do_GET = handle_any
    do_POST = handle_any


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 128  # the probe asks for every flow at once

    def get_request(self):
        conn, _ = super().get_request()
        return conn, ("unix", 0)


class TLSServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def finish_request(self, request, client_address):
        """The handshake in the request's own thread."""
        request.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except OSError:
            return
        self.RequestHandlerClass(tls, client_address, self)

    def handle_error(self, request, client_address):
        pass  # a failed handshake is the client's business


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--unix")
    p.add_argument("--https")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--ca")
    p.add_argument("--client-name", default="probe.lab")
    p.add_argument("--token-file")
    p.add_argument("--edge", default="127.0.0.1")
    p.add_argument("--icmp-from", default="127.0.0.9")
    p.add_argument("--outcome", action="append", default=[])
    p.add_argument("--canary-tcp", type=int, action="append", default=[])
    p.add_argument("--canary-udp", type=int, action="append", default=[])
    # Ports GET /canary says it listens on, without a listener (nothing
    # will hit them): as an edge whose canary sees nothing would say.
    p.add_argument("--listening-tcp", type=int, action="append", default=[])
    p.add_argument("--listening-udp", type=int, action="append", default=[])
    p.add_argument("--ghost-hits", action="store_true")
    p.add_argument("--no-location", action="store_true")
    p.add_argument("--log", default=os.devnull)
    args = p.parse_args()
    args.outcomes = dict(o.split("=", 1) for o in args.outcome)
    for port in args.canary_tcp:
        threading.Thread(target=canary_tcp, args=(args.edge, port), daemon=True).start()
    for port in args.canary_udp:
        threading.Thread(target=canary_udp, args=(args.edge, port), daemon=True).start()
    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        srv = UnixServer(args.unix, Handler)
        srv.tls = False
    else:
        host, port = args.https.rsplit(":", 1)
        srv = TLSServer((host, int(port)), Handler, bind_and_activate=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.cert, args.key)
        ctx.load_verify_locations(args.ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        srv.ctx = ctx
        srv.tls = True
    srv.args = args
    srv.token = None
    if args.token_file:
        with open(args.token_file) as f:
            srv.token = f.readline().rstrip()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
