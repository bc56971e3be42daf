#!/usr/bin/env python3
"""tornsweep: torn-write recovery sweep for kvlds.

1. Builds a base store (a few hundred keys), then runs a deterministic,
   sequential workload (one request at a time, each acknowledged before
   the next) under tests/faultinj/faultinj.so in "count" mode to list the
   writes the daemon makes to its data directory.
2. For each chosen write N, reruns the workload from the base store with
   FAULTINJ_MODE=snapshot: at write N the data directory is copied as it
   stands and the write's bytes are saved, and the daemon dies.
3. For each chosen tear offset K of that write (every byte offset for
   writes up to --every bytes, sampled offsets beyond, or a sample for
   the short version), materializes "the snapshot plus the first K bytes
   of write N", starts kvlds on it without the preload, and checks that
   it starts, that every acknowledged request is there (the one request
   in flight may or may not be), that RANGE agrees with GET, and that it
   exits 0 on SIGTERM.

The last line is "tornsweep: N cases, N recovered, N failed, ...".
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvwire as kw  # noqa: E402


class Failure(Exception):
    pass


class Sweep:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.work = os.path.abspath(a.workdir)
        self.sock = os.path.join(self.work, "kvlds.sock")
        self.log = os.path.join(self.work, "kvlds.log")
        self.cases = self.ok = 0
        self.failures = []
        self.swept = []

    # ------------------------------------------------------------ daemon
    def start(self, datadir, env_extra=None):
        env = dict(os.environ)
        if env_extra:
            env.update(env_extra)
        cmd = [self.a.kvlds, "-s", self.sock, "-d", datadir, "-F"] + \
            self.a.kvlds_args.split()
        lf = open(self.log, "a")
        lf.write("=== %s %s\n" % (" ".join("%s=%s" % x for x in
                                          (env_extra or {}).items()),
                                 " ".join(cmd)))
        lf.flush()
        p = subprocess.Popen(cmd, stdout=lf, stderr=lf, env=env)
        lf.close()
        if not kw.wait_socket(self.sock, 30, p):
            if p.poll() is None:
                p.kill()
                p.wait()
            return None
        return p

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return "hung"

    def logsince(self):
        with open(self.log, errors="replace") as f:
            return f.read().rsplit("=== ", 1)[-1]

    # ------------------------------------------------------------ workload
    def workload(self):
        """The sequential request list: (op, args, key, newstate-fn)."""
        rng = random.Random(self.a.seed ^ 0x5EED)
        ops = []
        for i in range(self.a.ops):
            k = b"w%03d" % rng.randrange(self.a.wkeys)
            r = rng.random()
            v = b"%s=%d:" % (k, i) + b"x" * rng.randrange(0, 90)
            if r < 0.55:
                ops.append(("SET", k, v))
            elif r < 0.7:
                ops.append(("DELETE", k, None))
            else:
                ops.append(("CAS", k, v))
        return ops

    def run_workload(self, datadir, env_extra):
        """Run the workload on a daemon started with ${env_extra}; return
        (model, inflight) where model maps key -> acknowledged state and
        inflight is (key, possible state) of the request that got no
        answer (or None)."""
        model = dict(self.base_model)
        p = self.start(datadir, env_extra)
        if p is None:
            return model, None, "did not start"
        try:
            cl = kw.Sync(self.sock, timeout=20)
        except OSError:
            p.kill()
            p.wait()
            return model, None, "refused"
        how = "completed"
        try:
            for op, k, v in self.ops:
                v = v[:self.maxv] if v else v
                cur = model.get(k)
                if op == "SET":
                    req, new = (kw.SET, k, v), v
                elif op == "DELETE":
                    req, new = (kw.DELETE, k), None
                elif cur is not None:
                    req, new = (kw.CAS, k, cur, v), v
                else:
                    req, new = (kw.ADD, k, v), v
                try:
                    st = cl.call(*req)
                except (ConnectionError, TimeoutError) as e:
                    how = "died: %s" % e
                    return model, (k, new), how
                if st != 0:
                    raise Failure("%s %r: status %d, want 0" %
                                  (kw.NAMES[req[0]], k, st))
                if new is None:
                    model.pop(k, None)
                else:
                    model[k] = new
        finally:
            cl.close()
            if p.poll() is None:
                if how == "completed":
                    rc = self.stop(p)
                    if rc != 0:
                        raise Failure("kvlds exited %s on SIGTERM" % rc)
                else:
                    p.kill()
                    p.wait()
            else:
                p.wait()
        return model, None, how

    # ------------------------------------------------------------ verify
    def verify(self, model, inflight, label):
        cl = kw.Sync(self.sock, timeout=20)
        try:
            keys = sorted(set(model) | {b"w%03d" % i for i in
                                        range(self.a.wkeys)})
            res = {}
            for k in keys:
                cl.c.send(kw.GET, (k,), lambda r, k=k: res.__setitem__(k, r))
            if not cl.loop.run_until(lambda: len(res) == len(keys), 20) or \
                    any(r is None for r in res.values()):
                raise Failure("%s: GETs not answered (%s)" %
                              (label, cl.c.error))
            found = {}
            for k in keys:
                val = res[k][1]
                want = model.get(k)
                if val != want and not (inflight and inflight[0] == k and
                                        val == inflight[1]):
                    raise Failure("%s: key %r holds %r, acknowledged state "
                                  "%r" % (label, k, val, want))
                if val is not None:
                    found[k] = val
            pairs = cl.range_all(b"", b"", self.rng.choice([0, 200, 4096]))
            if dict(pairs) != found or len(pairs) != len(found):
                raise Failure("%s: RANGE lists %d pairs, GET finds %d" %
                              (label, len(pairs), len(found)))
        except AssertionError as e:
            raise Failure("%s: RANGE: %s" % (label, e))
        finally:
            cl.close()

    # ------------------------------------------------------------ sweep
    def offsets(self, length):
        a = self.a
        if a.every and length <= a.every:
            return list(range(0, length + 1))
        s = {0, 1, 2, 3, 4, 8, 12, 16, 20, 32, length - 1, length,
             length // 2}
        b = 512
        while b < length:
            s.update((b - 1, b, b + 1))
            b += 512 if length <= 8192 else 4096
        lim = a.samples if not a.every else max(a.samples, 512)
        s = sorted(x for x in s if 0 <= x <= length)
        if len(s) > lim:
            keep = {0, length, length - 1}
            s = sorted(keep | set(self.rng.sample(s, lim - len(keep))))
        return s

    def run(self):
        a = self.a
        os.makedirs(self.work, exist_ok=True)
        base = os.path.join(self.work, "base")
        # 1. Base store.
        p = self.start(base)
        if p is None:
            raise Failure("kvlds did not start: %s" % self.logsince())
        cl = kw.Sync(self.sock)
        self.base_model = {}
        maxk, maxv = cl.call(kw.PARAMS)
        self.maxv = maxv
        for i in range(a.prefill):
            k = b"b%05d" % i
            v = (b"%s." % k + b"p" * (i % 70))[:maxv]
            cl.c.send(kw.SET, (k, v), lambda r: None)
            self.base_model[k] = v
        cl.call(kw.GET, b"b00000")
        cl.close()
        rc = self.stop(p)
        if rc != 0:
            raise Failure("kvlds exited %s on SIGTERM" % rc)
        self.ops = self.workload()
        # 2. Count run.
        run = os.path.join(self.work, "count")
        shutil.copytree(base, run)
        clog = os.path.join(self.work, "count.log")
        env = {"LD_PRELOAD": a.preload, "FAULTINJ_DIR": run,
               "FAULTINJ_MODE": "count", "FAULTINJ_LOG": clog,
               "FAULTINJ_OPS": "write"}
        model, infl, how = self.run_workload(run, env)
        if how != "completed":
            raise Failure("count run: %s" % how)
        writes = []
        with open(clog) as f:
            for line in f:
                n, cls, rel, off, ln, res = line.split()
                if cls == "write" and int(ln) > 0:
                    writes.append((int(n), rel, int(off), int(ln)))
        shutil.rmtree(run)
        if not writes:
            raise Failure("the workload made no tracked write")
        # Prefer writes of the workload itself (not start-up), spread out,
        # of different lengths.
        pick = sorted(self.rng.sample(writes, min(a.writes, len(writes))))
        if a.every:
            # One write of each file first (the log's batches, the
            # checkpoint's slots), then others at random.
            small = [w for w in writes if w[3] <= a.every]
            big = [w for w in writes if w[3] > a.every]
            self.rng.shuffle(small)
            pick, seen = [], set()
            for w in small:
                if w[1] not in seen:
                    seen.add(w[1])
                    pick.append(w)
            rest = [w for w in small if w not in pick]
            pick = (pick + rest)[:max(a.writes, len(seen))]
            pick = sorted(pick + self.rng.sample(big, min(2, len(big))))
        for n, rel, off, ln in pick:
            if a.max_time and time.monotonic() > self.t_end:
                break
            self.sweep_write(base, n, ln)
            if len(self.failures) >= 5:
                break

    def sweep_write(self, base, n, length):
        a = self.a
        run = os.path.join(self.work, "run")
        snap = os.path.join(self.work, "snap")
        for d in (run, snap):
            shutil.rmtree(d, ignore_errors=True)
        if os.path.exists(snap + ".write"):
            os.unlink(snap + ".write")
        shutil.copytree(base, run)
        env = {"LD_PRELOAD": a.preload, "FAULTINJ_DIR": run,
               "FAULTINJ_MODE": "snapshot", "FAULTINJ_AT": str(n),
               "FAULTINJ_OPS": "write", "FAULTINJ_SNAP": snap}
        model, infl, how = self.run_workload(run, env)
        if not os.path.exists(snap + ".write"):
            return          # the run took another path: skip this write
        with open(snap + ".write", "rb") as f:
            hdr = f.readline().split()
            data = f.read()
        rel, off = hdr[0].decode(), int(hdr[1])
        offs = self.offsets(len(data))
        ent = [n, rel, off, len(data), len(offs), 0]
        self.swept.append(ent)
        case = os.path.join(self.work, "case")
        for k in offs:
            if a.max_time and time.monotonic() > self.t_end:
                print("tornsweep: time limit reached during write %d "
                      "(%d bytes)" % (n, len(data)), flush=True)
                return
            shutil.rmtree(case, ignore_errors=True)
            shutil.copytree(snap, case)
            path = os.path.join(case, rel)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.pwrite(fd, data[:k], off)
            os.close(fd)
            label = "write %d (%s @%d, %d bytes) torn at %d" % (
                n, rel, off, len(data), k)
            self.cases += 1
            ent[5] += 1
            p = self.start(case)
            if p is None:
                self.failures.append("%s: kvlds did not start: %s" %
                                     (label, self.logsince()[-600:]))
                continue
            try:
                self.verify(model, infl, label)
                rc = self.stop(p)
                if rc != 0:
                    raise Failure("%s: exit %s on SIGTERM" % (label, rc))
                self.ok += 1
            except Failure as e:
                self.failures.append(str(e))
            except (ConnectionError, TimeoutError, OSError) as e:
                self.failures.append("%s: %s" % (label, e))
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            if len(self.failures) >= 5:
                return


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kvlds", required=True)
    ap.add_argument("--faultinj", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--kvlds-args", default="")
    ap.add_argument("--prefill", type=int, default=300)
    ap.add_argument("--ops", type=int, default=40)
    ap.add_argument("--wkeys", type=int, default=24)
    ap.add_argument("--writes", type=int, default=4,
                    help="how many of the workload's writes to tear")
    ap.add_argument("--samples", type=int, default=40,
                    help="tear offsets per write (sampled)")
    ap.add_argument("--every", type=int, default=0,
                    help="tear writes up to this many bytes at every "
                    "offset (the long version uses 65536)")
    ap.add_argument("--max-time", type=float, default=0)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    if a.seed is None:
        a.seed = int.from_bytes(os.urandom(4), "big")
    print("tornsweep: seed %d" % a.seed, flush=True)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from crashcheck import asan_preload
    a.preload = asan_preload(a.kvlds, os.path.abspath(a.faultinj))
    s = Sweep(a)
    s.t_end = time.monotonic() + a.max_time
    try:
        s.run()
    except Failure as e:
        s.failures.append(str(e))
    except Exception as e:    # noqa: B902
        s.failures.append("driver error: %r" % (e,))
    rep = kw.sanitizer_report(s.log)
    if rep:
        s.failures.append("sanitizer report in %s: %s" % (s.log, rep))
    for n, rel, off, ln, no, done in s.swept:
        print("write %d: %s offset %d, %d bytes, %d tear offsets%s" %
              (n, rel, off, ln, done, "" if done == no else
               " (of %d planned: time limit)" % no))
    for f in s.failures[:10]:
        print("FAIL: " + f)
    print("tornsweep: %d cases, %d recovered, %d failed, %d writes swept"
          % (s.cases, s.ok, len(s.failures), len(s.swept)))
    return 1 if s.failures else 0


if __name__ == "__main__":
    sys.exit(main())
