#!/usr/bin/env python3
"""corrupt: on-disk corruption checks for kvlds.

Builds a store (several passes of SETs over the same keys, then some
DELETEs, so that an older commit differs from the newest), stops the
daemon, and for each case damages a fresh copy of the data directory,
starts kvlds on it and reads every key back (reconnecting when a
connection is dropped) and then the whole range.

The on-disk layout it targets is the engine's (kvlds/page.h,
kvlds/pagestore.h): segment files seg-XXXXXXXX of records with a 20-byte
header (CRC 4, length 4, own address 8, type 1, level 1, count 2), pages
(type 1) and commit records (type 2: seq, root, batch start, batch end,
page size), and a checkpoint file of two 4096-byte slots each holding a
commit record.

Verdicts per case:
  - never a wrong value: a GET or RANGE answer that differs from the last
    acknowledged state is a failure (that includes a silent roll-back to
    an older commit);
  - damage to a live page must be detected: the daemon refuses to start,
    or drops the requests that reach the page, or exits, and in each case
    its log names the segment file and the offset of the damaged record;
  - damage to the newest checkpoint slot, to the older slot, to the log's
    copy of the newest commit record, or to a page no longer in the tree
    must be survived: the daemon starts and serves everything correctly;
  - damage to both copies of the newest commit, a truncated newest batch,
    or a missing checkpoint must be refused with a message (or, if the
    daemon starts, it must still serve the newest state exactly).

The last line is "corrupt: N cases, N detected/survived as required,
N failed".
"""

import argparse
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvwire as kw  # noqa: E402

SLOT = 4096


def be(b, off, n):
    return int.from_bytes(b[off:off + n], "big")


class Store:
    """What we know of a stopped store's files."""

    def __init__(self, d):
        self.dir = d
        self.segs = sorted(f for f in os.listdir(d) if f.startswith("seg-"))
        self.records = []       # (seg, off, len, type, level)
        for s in self.segs:
            with open(os.path.join(d, s), "rb") as f:
                b = f.read()
            off = 0
            while off + 20 <= len(b):
                ln = be(b, off + 4, 4)
                if ln < 20 or off + ln > len(b):
                    break
                self.records.append((s, off, ln, b[off + 16], b[off + 17]))
                off += ln
        with open(os.path.join(d, "checkpoint"), "rb") as f:
            ck = f.read()
        self.slots = []
        for i in range(2):
            r = ck[i * SLOT:i * SLOT + 60]
            if len(r) == 60 and r[16] == 2:
                self.slots.append((i, be(r, 20, 8), be(r, 28, 8)))
        self.newest = max(self.slots, key=lambda s: s[1])
        self.older = [s for s in self.slots if s != self.newest]
        self.live = self.walk(self.newest[2])

    def segname(self, addr):
        return "seg-%08x" % (addr >> 32)

    def read(self, addr):
        with open(os.path.join(self.dir, self.segname(addr)), "rb") as f:
            f.seek(addr & 0xFFFFFFFF)
            h = f.read(20)
            ln = be(h, 4, 4)
            return h + f.read(ln - 20)

    def walk(self, root):
        """Live pages: [(seg, off, len, level)] from the root down."""
        out = []
        todo = [root] if root else []
        while todo:
            a = todo.pop()
            b = self.read(a)
            ln, level, n = be(b, 4, 4), b[17], be(b, 18, 2)
            out.append((self.segname(a), a & 0xFFFFFFFF, ln, level))
            if level > 0:
                p = 20
                todo.append(be(b, p, 8))
                p += 8
                for _ in range(n):
                    kl = b[p]
                    p += 1 + kl
                    todo.append(be(b, p, 8))
                    p += 8
        return out

    def commit_in_log(self, seq):
        for s, off, ln, t, lv in self.records:
            if t == 2:
                with open(os.path.join(self.dir, s), "rb") as f:
                    f.seek(off + 20)
                    if be(f.read(8), 0, 8) == seq:
                        return (s, off, ln)
        return None


def flip(path, off, bit=None, rng=random):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)[0]
        f.seek(off)
        f.write(bytes([b ^ (1 << (bit if bit is not None else
                                   rng.randrange(8)))]))


class Corrupt:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.work = os.path.abspath(a.workdir)
        self.sock = os.path.join(self.work, "kvlds.sock")
        self.log = os.path.join(self.work, "kvlds.log")
        self.results = []
        self.failures = []

    def start(self, d):
        cmd = [self.a.kvlds, "-s", self.sock, "-d", d, "-F"] + \
            self.a.kvlds_args.split()
        with open(self.log, "a") as lf:
            lf.write("=== %s\n" % " ".join(cmd))
            lf.flush()
            p = subprocess.Popen(cmd, stdout=lf, stderr=lf)
        ok = kw.wait_socket(self.sock, 20, p)
        if not ok and p.poll() is None:
            p.kill()
            p.wait()
        return p, ok

    def logsince(self):
        with open(self.log, errors="replace") as f:
            return f.read().rsplit("=== ", 1)[-1]

    def build(self, d):
        p, ok = self.start(d)
        if not ok:
            raise RuntimeError("kvlds did not start: " + self.logsince())
        cl = kw.Sync(self.sock, timeout=30)
        maxk, maxv = cl.call(kw.PARAMS)
        model = {}
        keys = [b"key%05d" % i + b"-" * (i % 13) for i in range(self.a.keys)]
        for pas in range(3):
            for c in range(0, len(keys), 100):
                box = []
                for k in keys[c:c + 100]:
                    if pas == 2 and keys.index(k) % 7 == 3:
                        cl.c.send(kw.DELETE, (k,), box.append)
                        model.pop(k, None)
                    else:
                        v = (b"%s/pass%d/" % (k, pas) + b"z" *
                             self.rng.randrange(60))[:maxv]
                        cl.c.send(kw.SET, (k, v), box.append)
                        model[k] = v
                cl.loop.run_until(lambda: len(box) == len(keys[c:c + 100]),
                                  30)
                if any(r != 0 for r in box):
                    raise RuntimeError("build: a request failed")
        cl.close()
        p.send_signal(signal.SIGTERM)
        if p.wait(20) != 0:
            raise RuntimeError("build: kvlds exit status %s" % p.returncode)
        self.keys = keys
        self.model = model

    def probe(self, d):
        """Start kvlds on ${d} and read everything.  Returns a dict:
        started, correct, dropped, wrong (list), range ('ok', 'dropped',
        or a mismatch text), exit (status after SIGTERM or when it died),
        log."""
        r = dict(started=False, correct=0, dropped=0, wrong=[], range=None,
                 exit=None, died=False)
        p, ok = self.start(d)
        if not ok:
            r["exit"] = p.wait()
            r["log"] = self.logsince()
            return r
        r["started"] = True
        cl = None
        i = 0
        keys = self.keys
        while i < len(keys):
            if cl is None:
                if p.poll() is not None:
                    r["died"] = True
                    break
                try:
                    cl = kw.Sync(self.sock, timeout=10)
                except OSError:
                    r["died"] = p.poll() is not None
                    if r["died"]:
                        break
                    time.sleep(0.05)
                    continue
            k = keys[i]
            try:
                st, v = cl.call(kw.GET, k)
            except (ConnectionError, TimeoutError):
                r["dropped"] += 1
                cl.close()
                cl = None
                i += 1
                continue
            if v != self.model.get(k):
                r["wrong"].append((k, v, self.model.get(k)))
            else:
                r["correct"] += 1
            i += 1
        if not r["died"]:
            try:
                if cl is None:
                    cl = kw.Sync(self.sock, timeout=10)
                pairs = cl.range_all(b"", b"", self.rng.choice([0, 500,
                                                               8192]))
                want = sorted(self.model.items())
                r["range"] = "ok" if pairs == want else \
                    "RANGE returned %d pairs, %d expected" % (len(pairs),
                                                              len(want))
                if pairs != want:
                    bad = [kv for kv in pairs if self.model.get(kv[0]) !=
                           kv[1]]
                    if bad:
                        r["wrong"].append(("RANGE",) + bad[0])
            except (ConnectionError, TimeoutError, OSError):
                r["range"] = "dropped"
            except AssertionError as e:
                r["range"] = "RANGE misbehaved: %s" % e
        if cl is not None:
            cl.close()
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                r["exit"] = p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                r["exit"] = "hung"
        else:
            r["exit"] = p.wait()
            r["died"] = True
        r["log"] = self.logsince()
        return r

    def case(self, name, clean, damage, expect, names=None):
        """Run one case: copy ${clean}, apply ${damage}(dir), probe.
        ${expect}: 'detect' (live data damaged), 'survive' (must serve
        everything), 'refuse' (must refuse or serve everything exactly).
        ${names}: strings the log must contain when damage is reported."""
        d = os.path.join(self.work, "case")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(clean, d)
        damage(d)
        r = self.probe(d)
        shutil.rmtree(d, ignore_errors=True)
        problems = []
        if r["wrong"]:
            w = r["wrong"][0]
            problems.append("WRONG VALUE: %r returned %r, acknowledged %r "
                            "(%d wrong answers)" % (w[0], w[1], w[2],
                                                    len(r["wrong"])))
        if isinstance(r["exit"], int) and r["exit"] < 0 and \
                r["exit"] != -signal.SIGTERM:
            problems.append("kvlds died of signal %d" % -r["exit"])
        if r["exit"] == "hung":
            problems.append("kvlds hung on SIGTERM")
        clean_run = (r["started"] and not r["died"] and r["dropped"] == 0
                     and not r["wrong"] and r["range"] == "ok")
        detected = (not r["started"]) or r["died"] or r["dropped"] > 0 or \
            r["range"] not in ("ok", None)
        if expect == "survive":
            if not clean_run:
                problems.append("must be survived, but: started=%s "
                                "dropped=%d died=%s range=%s" %
                                (r["started"], r["dropped"], r["died"],
                                 r["range"]))
        elif expect == "detect":
            if not detected:
                problems.append("damage to live data NOT DETECTED: every "
                                "request answered")
        elif expect == "refuse":
            if r["started"] and not clean_run:
                problems.append("started anyway and then: dropped=%d "
                                "died=%s range=%s" % (r["dropped"],
                                                      r["died"], r["range"]))
        if detected and not r["started"] and r["exit"] == 0:
            problems.append("refused to start but exited 0")
        if detected and names:
            log = r["log"]
            miss = [n for n in names if n not in log]
            if miss:
                problems.append("the log does not name %s: %s" %
                                (" and ".join(miss), log.strip()[-400:]))
        verdict = ("refused to start" if not r["started"] else
                   "exited while serving" if r["died"] else
                   "dropped %d requests" % r["dropped"] if r["dropped"] else
                   "served everything")
        line = "%-44s %-26s %s" % (name, verdict, "FAIL: " + "; ".join(
            problems) if problems else "ok")
        print(line, flush=True)
        self.results.append((name, expect, not problems, detected))
        if problems:
            self.failures.append("%s: %s" % (name, "; ".join(problems)))

    def run(self):
        os.makedirs(self.work, exist_ok=True)
        clean = os.path.join(self.work, "clean")
        self.build(clean)
        st = Store(clean)
        rng = self.rng
        leaves = [p for p in st.live if p[3] == 0]
        inner = [p for p in st.live if p[3] > 0]
        livekey = {(s, o) for s, o, _, _ in st.live}
        dead = [r for r in st.records if r[3] == 1 and
                (r[0], r[1]) not in livekey]
        print("store: %d segment(s), %d records, %d live pages (%d inner), "
              "%d dead pages, newest commit %d" %
              (len(st.segs), len(st.records), len(st.live), len(inner),
               len(dead), st.newest[1]), flush=True)

        def pagecase(label, pg, where):
            s, off, ln, lv = pg
            pos = off + where(ln)
            self.case("%s %s@%d byte %d" % (label, s, off, pos - off), clean,
                      lambda d: flip(os.path.join(d, s), pos, rng=rng),
                      "detect", [s, str(off)])

        root = st.live[0]
        pagecase("bit flip in the root page", root,
                 lambda ln: rng.randrange(20, ln))
        for pg in rng.sample(leaves, min(self.a.leaves, len(leaves))):
            pagecase("bit flip in a live leaf", pg,
                     lambda ln: rng.randrange(20, ln))
        for pg in rng.sample(inner, min(2, len(inner))):
            pagecase("bit flip in a live inner page", pg,
                     lambda ln: rng.randrange(20, ln))
        for what, pos in (("CRC", 1), ("length", 6), ("address", 14),
                          ("type", 16), ("level", 17), ("count", 19)):
            pg = rng.choice(leaves)
            pagecase("bit flip in a leaf's %s" % what, pg,
                     lambda ln, pos=pos: pos)
        pg = rng.choice(leaves)

        def zero(d, pg=pg):
            with open(os.path.join(d, pg[0]), "r+b") as f:
                f.seek(pg[1])
                f.write(bytes(pg[2]))
        self.case("live leaf zeroed %s@%d" % (pg[0], pg[1]), clean, zero,
                  "detect", [pg[0], str(pg[1])])

        for pg in rng.sample(dead, min(2, len(dead))):
            s, off, ln, _, _ = pg
            pos = off + rng.randrange(0, ln)
            self.case("bit flip in a dead page %s@%d" % (s, off), clean,
                      lambda d, s=s, pos=pos: flip(os.path.join(d, s), pos,
                                                   rng=rng), "survive")
        ns = st.newest[0]
        for what, pos in (("seq", 24), ("root", 33), ("CRC", 2)):
            self.case("newest checkpoint slot %d: %s" % (ns, what), clean,
                      lambda d, pos=pos: flip(os.path.join(d, "checkpoint"),
                                              ns * SLOT + pos, rng=rng),
                      "survive")
        for o in st.older:
            self.case("older checkpoint slot %d" % o[0], clean,
                      lambda d, o=o: flip(os.path.join(d, "checkpoint"),
                                          o[0] * SLOT + 30, rng=rng),
                      "survive")
        lc = st.commit_in_log(st.newest[1])
        if lc is not None:
            s, off, ln = lc
            self.case("newest commit record in the log %s@%d" % (s, off),
                      clean, lambda d: flip(os.path.join(d, s), off + 30,
                                            rng=rng), "survive")

            def both(d):
                flip(os.path.join(d, s), off + 30, rng=rng)
                flip(os.path.join(d, "checkpoint"), ns * SLOT + 30, rng=rng)
            self.case("both copies of the newest commit", clean, both,
                      "refuse")
        else:
            self.failures.append("newest commit record not found in the log")

        def trunc(d):
            last = os.path.join(d, st.segs[-1])
            os.truncate(last, os.path.getsize(last) - 70)
        self.case("newest batch truncated by 70 bytes", clean, trunc,
                  "refuse")

        def nock(d):
            os.unlink(os.path.join(d, "checkpoint"))
        self.case("checkpoint file deleted", clean, nock, "refuse")
        for s in st.segs[:1]:
            self.case("first segment deleted", clean,
                      lambda d, s=s: os.unlink(os.path.join(d, s)),
                      "refuse")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kvlds", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--kvlds-args", default="-b 1024")
    ap.add_argument("--keys", type=int, default=1500)
    ap.add_argument("--leaves", type=int, default=4,
                    help="live leaves to damage")
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    if a.seed is None:
        a.seed = int.from_bytes(os.urandom(4), "big")
    print("corrupt: seed %d" % a.seed, flush=True)
    c = Corrupt(a)
    try:
        c.run()
    except Exception as e:    # noqa: B902
        c.failures.append("driver error: %r" % (e,))
    rep = kw.sanitizer_report(c.log)
    if rep:
        c.failures.append("sanitizer report in %s: %s" % (c.log, rep))
    for f in c.failures:
        print("FAIL: " + f)
    det = sum(1 for r in c.results if r[1] == "detect" and r[3])
    print("corrupt: %d cases, %d as required (%d live-data corruptions "
          "detected), %d failed" % (len(c.results),
                                    sum(1 for r in c.results if r[2]), det,
                                    len(c.failures)))
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
