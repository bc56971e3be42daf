#!/usr/bin/env python3
"""hostile: hostile peers against a running kvlds or spiped.

While a well-behaved kvlds client (--good, reached directly or through
a spiped tunnel) keeps doing SET/GET round trips and checking the
answers, and a sampler records the target daemon's VmRSS every 50 ms,
this throws at --target:

  kvlds:  a connection flood beyond -n; packets whose header claims
          4 GiB (and 2 GiB, and one byte over the longest valid request);
          a 64 MiB garbage stream; half-open connections (part of a
          header, then silence; requests then shutdown(SHUT_WR)); a
          client pipelining requests without ever reading the answers.
  spiped: slow-loris handshakes (silence, or a few bytes then silence)
          that -o must time out; a connection flood beyond -n; a 64 MiB
          garbage stream; truncated handshakes.

It then checks that the daemon is alive, that the good client saw no
error and no stall longer than --max-stall, that new connections work
again, and that the peak RSS stayed under --rss-max MiB.  The last line
is "hostile <kind>: ..." with the figures.
"""

import argparse
import os
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvwire as kw  # noqa: E402


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return "Z" not in line
    except OSError:
        return False
    return False


class Good(threading.Thread):
    """A well-behaved client: SET then GET, checked, over and over."""

    def __init__(self, addr):
        super().__init__(daemon=True)
        self.addr = addr
        self.stop = False
        self.ops = 0
        self.errors = []
        self.maxgap = 0.0
        self.last = time.monotonic()

    def run(self):
        try:
            cl = kw.Sync(self.addr, timeout=60)
        except OSError as e:
            self.errors.append("connect: %s" % e)
            return
        i = 0
        while not self.stop:
            k = b"good-%d" % (i % 100)
            v = b"value-%d" % i
            try:
                t0 = time.monotonic()
                if cl.call(kw.SET, k, v) != 0:
                    self.errors.append("SET status")
                st, got = cl.call(kw.GET, k)
                if got != v:
                    self.errors.append("GET %r: %r, want %r" % (k, got, v))
                now = time.monotonic()
                self.maxgap = max(self.maxgap, now - t0)
                self.last = now
            except Exception as e:    # noqa: B902
                self.errors.append("request: %r" % (e,))
                return
            self.ops += 2
            i += 1
        cl.close()


class Rss(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = False
        self.base = rss_kib(pid) or 0
        self.peak = self.base

    def run(self):
        while not self.stop:
            r = rss_kib(self.pid)
            if r is not None:
                self.peak = max(self.peak, r)
            time.sleep(0.05)


def closed_within(s, secs):
    """Does the peer close ${s} (EOF or reset) within ${secs}?  Data it
    sends meanwhile is read and discarded."""
    end = time.monotonic() + secs
    s.setblocking(True)
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return False
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            return True
        if not d:
            return True


def header(reqid, length):
    h = struct.pack(">QI", reqid, length)
    return h + kw.crc(h)


class Attack:
    def __init__(self, a):
        self.a = a
        self.fails = []
        self.notes = []

    def check(self, cond, what):
        if cond:
            self.notes.append("ok: " + what)
        else:
            self.fails.append(what)
        print(("ok:   " if cond else "FAIL: ") + what, flush=True)

    def flood(self, count, hold):
        socks = []
        refused = 0
        for _ in range(count):
            try:
                s = kw.connect(self.a.target, timeout=0.5)
                socks.append(s)
            except OSError:
                refused += 1
        time.sleep(hold)
        # The daemon may have closed those above its limit; count them.
        dropped = 0
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    dropped += 1
            except BlockingIOError:
                pass
            except OSError:
                dropped += 1
        for s in socks:
            s.close()
        return len(socks), refused, dropped

    def garbage(self, mib):
        s = kw.connect(self.a.target, timeout=10)
        sent = 0
        chunk = os.urandom(1 << 20)
        closed = False
        t0 = time.monotonic()
        try:
            while sent < mib << 20:
                s.sendall(chunk)
                sent += len(chunk)
        except OSError:
            closed = True
        if not closed:
            closed = closed_within(s, 5)
        s.close()
        return closed, sent, time.monotonic() - t0

    def fresh_ok(self, timeout=15):
        end = time.monotonic() + timeout
        err = None
        while time.monotonic() < end:
            try:
                cl = kw.Sync(self.a.good, timeout=10)
                st = cl.call(kw.SET, b"fresh", b"1")
                v = cl.call(kw.GET, b"fresh")[1]
                cl.close()
                if st == 0 and v == b"1":
                    return True
            except Exception as e:    # noqa: B902
                err = e
            time.sleep(0.2)
        print("fresh connection: %r" % (err,))
        return False

    # --------------------------------------------------------- kvlds
    def kvlds(self):
        a = self.a
        n = a.n
        got, refused, dropped = self.flood(n * 4, 2.0)
        self.check(alive(a.pid), "flood of %d connections (-n %d): %d "
                   "connected, %d refused, %d dropped by the daemon; daemon "
                   "alive" % (n * 4, n, got, refused, dropped))
        self.flood_figures = (n * 4, got, refused, dropped)
        self.check(self.fresh_ok(), "a new client is served after the flood")

        for ln in (0xFFFFFFFF, 0x80000000, 773):
            socks = []
            for i in range(20):
                s = kw.connect(a.target, timeout=5)
                s.sendall(header(i, ln) + b"\0" * 64)
                socks.append(s)
            ok = all(closed_within(s, 5) for s in socks)
            for s in socks:
                s.close()
            self.check(ok, "20 packets claiming %d bytes: every connection "
                       "dropped" % ln)

        closed, sent, secs = self.garbage(a.garbage_mib)
        self.check(closed, "%d MiB garbage stream: connection dropped "
                   "(after %d bytes were accepted, %.1fs)" %
                   (a.garbage_mib, sent, secs))
        self.garbage_figures = (sent, closed)

        # Half-open: partial headers, then silence; requests then EOF.
        half = []
        for i in range(min(n // 2, 16)):
            s = kw.connect(a.target, timeout=5)
            s.sendall(header(i, 4)[:7])
            half.append(s)
        for i in range(4):
            s = kw.connect(a.target, timeout=5)
            s.sendall(kw.packet(1, kw.request(kw.GET, b"x")))
            s.shutdown(socket.SHUT_WR)
            half.append(s)
        time.sleep(1.0)
        self.check(alive(a.pid) and self.fresh_ok(),
                   "%d half-open connections: daemon alive, new clients "
                   "served" % len(half))
        for s in half:
            s.close()

        # A client that writes requests and never reads the answers.
        s = kw.connect(a.target, timeout=5)
        s.setblocking(False)
        reqs = b"".join(kw.packet(i, kw.request(kw.GET, b"nr%06d" % i))
                        for i in range(2000))
        sent = 0
        last = time.monotonic()
        t0 = last
        dropped = False
        while sent < a.garbage_mib << 20 and time.monotonic() - last < 2.0 \
                and time.monotonic() - t0 < 60:
            try:
                k = s.send(reqs)
                sent += k
                last = time.monotonic()
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                dropped = True
                break
        s.close()
        self.noread_sent = sent
        self.check(alive(a.pid), "non-reading client pushed %d KiB of "
                   "requests, then the daemon %s: daemon alive" %
                   (sent >> 10, "dropped it" if dropped else
                    "stopped reading"))

        # Large RANGE answers requested and never read: the daemon must
        # cap or stop producing them, not buffer them all.
        cl = kw.Sync(a.good, timeout=60)
        box = []
        for i in range(20000):
            cl.c.send(kw.SET, (b"bulk%06d" % i, b"b" * 200), box.append)
        cl.loop.run_until(lambda: len(box) == 20000, 60)
        cl.close()
        s = kw.connect(a.target, timeout=5)
        s.setblocking(False)
        req = b"".join(kw.packet(i, kw.request(kw.RANGE, 0xFFFFFFFF, b"",
                                               b"")) for i in range(200))
        sent, t0, last, dropped = 0, time.monotonic(), time.monotonic(), False
        while sent < len(req) * 5 and time.monotonic() - last < 2.0 and \
                time.monotonic() - t0 < 30:
            try:
                sent += s.send(req[sent % len(req):])
                last = time.monotonic()
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                dropped = True
                break
        time.sleep(1.0)
        s.close()
        self.check(alive(a.pid), "%d RANGE requests for everything (4 MiB "
                   "of pairs each), answers never read (%s): daemon alive" %
                   (sent // (len(req) // 200),
                    "dropped" if dropped else "daemon stopped reading"))

    # --------------------------------------------------------- spiped
    def spiped(self):
        a = self.a
        n, o = a.n, a.timeout
        # Slow-loris: silence, a partial handshake, and a trickle of one
        # byte every 0.3 s: -o bounds the whole handshake, so every one
        # must be closed by the daemon within about -o seconds.
        t0 = time.monotonic()
        loris = []
        for i in range(n):
            s = kw.connect(a.target, timeout=5)
            if i % 3 == 1:
                s.sendall(os.urandom(17))
            s.setblocking(False)
            loris.append([s, i % 3 == 2, False])
        deadline = t0 + o + 4
        nexttrickle = t0
        while time.monotonic() < deadline and not all(x[2] for x in loris):
            now = time.monotonic()
            for x in loris:
                if x[2]:
                    continue
                try:
                    d = x[0].recv(4096)
                    if not d:
                        x[2] = True
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    x[2] = True
                    continue
                if x[1] and now >= nexttrickle:
                    try:
                        x[0].send(b"\x55")
                    except BlockingIOError:
                        pass
                    except OSError:
                        x[2] = True
            if now >= nexttrickle:
                nexttrickle = now + 0.3
            time.sleep(0.02)
        secs = time.monotonic() - t0
        results = [x[2] for x in loris]
        for x in loris:
            x[0].close()
        self.check(all(results), "%d slow-loris handshakes (-o %g; silent, "
                   "partial, trickling): %d closed by the daemon within "
                   "%.1fs" % (n, o, sum(results), secs))
        self.loris_figures = (n, sum(results), secs)
        self.check(self.fresh_ok(o + 10), "a new client is served after the "
                   "slow-loris connections")

        got, refused, dropped = self.flood(n * 5, 2.0)
        self.check(alive(a.pid), "flood of %d connections (-n %d): %d "
                   "connected, %d refused, %d dropped; daemon alive" %
                   (n * 5, n, got, refused, dropped))
        self.flood_figures = (n * 5, got, refused, dropped)
        self.check(self.fresh_ok(o + 10), "a new client is served after the "
                   "flood")

        closed, sent, secs = self.garbage(a.garbage_mib)
        self.check(closed, "%d MiB garbage stream: connection dropped after "
                   "%d bytes (%.1fs)" % (a.garbage_mib, sent, secs))
        self.garbage_figures = (sent, closed)

        if a.sink:
            self.sink_check()

        # Truncated handshakes: part of the first message, then EOF.
        ok = True
        for ln in (1, 31, 32, 33, 64, 95):
            s = kw.connect(a.target, timeout=5)
            s.sendall(os.urandom(ln))
            s.shutdown(socket.SHUT_WR)
            ok = ok and closed_within(s, o + 3)
            s.close()
        self.check(ok and alive(a.pid), "truncated handshakes dropped; "
                   "daemon alive")


class Sink(threading.Thread):
    """A Unix-socket server that counts the connections and bytes that
    reach it (the target behind a second spiped -d)."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ls.bind(path)
        self.ls.listen(64)
        self.ls.settimeout(0.1)
        self.conns = 0
        self.bytes = 0
        self.stop = False

    def run(self):
        socks = []
        while not self.stop:
            try:
                c, _ = self.ls.accept()
                c.setblocking(False)
                socks.append(c)
                self.conns += 1
            except (socket.timeout, BlockingIOError):
                pass
            for c in list(socks):
                try:
                    d = c.recv(65536)
                    if not d:
                        socks.remove(c)
                        c.close()
                    self.bytes += len(d)
                except BlockingIOError:
                    pass
                except OSError:
                    socks.remove(c)


def sink_check(self):
    """Garbage, truncated and replayed-looking handshakes against the
    spiped -d whose target is the sink: not one byte may reach it."""
    a = self.a
    sink = Sink(a.sink)
    sink.start()
    for n in (1, 64, 96, 1024, 1 << 20):
        s = kw.connect(a.sink_target, timeout=5)
        try:
            s.sendall(os.urandom(n))
        except OSError:
            pass
        closed_within(s, a.timeout + 3)
        s.close()
    time.sleep(0.5)
    sink.stop = True
    sink.join(5)
    self.check(sink.bytes == 0, "garbage handshakes to a spiped -d in front "
               "of a byte-counting target: %d bytes reached it (%d "
               "connections opened to it)" % (sink.bytes, sink.conns))


Attack.sink_check = sink_check


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=("kvlds", "spiped"))
    ap.add_argument("--target", required=True,
                    help="unix:PATH or tcp:PORT the attacks go to")
    ap.add_argument("--good", required=True,
                    help="where a well-behaved kvlds client connects")
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--n", type=int, default=32, help="the daemon's -n")
    ap.add_argument("--timeout", type=float, default=2,
                    help="the daemon's -o")
    ap.add_argument("--sink", default="",
                    help="spiped: a Unix socket path to serve as the "
                    "byte-counting target of --sink-target")
    ap.add_argument("--sink-target", default="",
                    help="spiped: tcp:PORT of a spiped -d whose target "
                    "is --sink")
    ap.add_argument("--garbage-mib", type=int, default=64)
    ap.add_argument("--rss-max", type=int, default=256, help="MiB")
    ap.add_argument("--max-stall", type=float, default=10)
    a = ap.parse_args()

    rss = Rss(a.pid)
    rss.start()
    good = Good(a.good)
    good.start()
    time.sleep(0.3)
    at = Attack(a)
    t0 = time.monotonic()
    try:
        getattr(at, a.kind)()
    except Exception as e:    # noqa: B902
        at.fails.append("driver error: %r" % (e,))
        print("FAIL: driver error: %r" % (e,))
    time.sleep(0.3)
    good.stop = True
    good.join(30)
    rss.stop = True
    rss.join()
    at.check(alive(a.pid), "daemon alive at the end")
    at.check(not good.errors and good.ops > 0,
             "well-behaved client: %d requests, errors: %s" %
             (good.ops, good.errors[:3] or "none"))
    at.check(good.maxgap <= a.max_stall, "well-behaved client's longest "
             "round trip %.2fs (limit %gs)" % (good.maxgap, a.max_stall))
    at.check(rss.peak <= a.rss_max * 1024, "RSS %d KiB at start, peak %d "
             "KiB (limit %d MiB)" % (rss.base, rss.peak, a.rss_max))
    print("hostile %s: %s, %.0fs, good-client requests %d, max round trip "
          "%.2fs, RSS start %d KiB peak %d KiB, flood %s, failures %d" %
          (a.kind, "PASS" if not at.fails else "FAIL",
           time.monotonic() - t0, good.ops, good.maxgap, rss.base, rss.peak,
           "/".join(str(x) for x in getattr(at, "flood_figures", ())),
           len(at.fails)))
    return 1 if at.fails else 0


if __name__ == "__main__":
    sys.exit(main())
