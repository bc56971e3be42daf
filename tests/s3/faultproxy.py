#!/usr/bin/env python3
"""faultproxy.py PORT UPSTREAM_PORT [--fail503 N] [--stall N SECONDS]
                 [--corrupt SUBSTRING]

An HTTP/1.1 proxy on 127.0.0.1:PORT in front of an S3 server on
127.0.0.1:UPSTREAM_PORT, for tests that need the server to misbehave:
  --fail503 N        answer the first N requests 503 SlowDown itself
  --stall N SECONDS  then hold the next N requests SECONDS before
                     forwarding them (the client should time out)
  --corrupt SUB      flip one byte of every 2xx GET body whose path
                     contains SUB
SIGUSR1 toggles an outage: while it lasts, every request is answered 503
SlowDown (a period of 503s of a length the test chooses).
Requests are forwarded unchanged (Host included, so signatures hold) over
one upstream connection per client connection.  The counts of what it did
go to stdout as "served N failed N stalled N corrupted N" on SIGTERM.
"""
import http.client
import http.server
import signal
import sys
import threading
import time

args = sys.argv[1:]
PORT, UP = int(args[0]), int(args[1])
opts = {"fail503": 0, "stall": 0, "stall_s": 0.0, "corrupt": None}
i = 2
while i < len(args):
    if args[i] == "--fail503":
        opts["fail503"] = int(args[i + 1]); i += 2
    elif args[i] == "--stall":
        opts["stall"] = int(args[i + 1])
        opts["stall_s"] = float(args[i + 2]); i += 3
    elif args[i] == "--corrupt":
        opts["corrupt"] = args[i + 1]; i += 2
    else:
        sys.exit("faultproxy: bad argument " + args[i])

lock = threading.Lock()
count = {"served": 0, "failed": 0, "stalled": 0, "corrupted": 0}
seen = [0]
down = [False]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def reply(self, code, headers, body):
        self.send_response_only(code)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding",
                                 "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def forward(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with lock:
            seen[0] += 1
            k = seen[0]
        if k <= opts["fail503"] or down[0]:
            with lock:
                count["failed"] += 1
            self.reply(503, [("Content-Type", "application/xml")],
                       b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                       b"<Error><Code>SlowDown</Code></Error>")
            return
        if k <= opts["fail503"] + opts["stall"]:
            with lock:
                count["stalled"] += 1
            time.sleep(opts["stall_s"])
            self.close_connection = True
            return
        if not hasattr(self, "up"):
            self.up = http.client.HTTPConnection("127.0.0.1", UP,
                                                 timeout=60)
        hdrs = {k: v for k, v in self.headers.items()}
        self.up.request(self.command, self.path, body=body, headers=hdrs)
        r = self.up.getresponse()
        data = r.read()
        if (opts["corrupt"] and self.command == "GET" and
                opts["corrupt"] in self.path and 200 <= r.status < 300 and
                data):
            data = bytes([data[0] ^ 1]) + data[1:]
            with lock:
                count["corrupted"] += 1
        with lock:
            count["served"] += 1
        self.reply(r.status, r.getheaders(), data)

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = forward


srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
srv.daemon_threads = True


def stop(sig, frame):
    print("served %(served)d failed %(failed)d stalled %(stalled)d "
          "corrupted %(corrupted)d" % count, flush=True)
    sys.exit(0)


def toggle(sig, frame):
    down[0] = not down[0]


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGUSR1, toggle)
srv.serve_forever()
