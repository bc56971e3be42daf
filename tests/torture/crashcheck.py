#!/usr/bin/env python3
"""crashcheck: crash-consistency checker for kvlds.

Drives SET, ADD, MODIFY, DELETE, CAS, CAD and GET over many pipelined
connections against a kvlds it starts itself, records every
acknowledgement in memory, crashes the daemon (kill -9 at a random
moment, or a fault injected by tests/faultinj/faultinj.so), restarts it
and verifies:

  - every acknowledged write is present: each key owned by one connection
    holds the state after its last acknowledged request, or the state
    after one of the requests sent later on that key (unacknowledged
    requests may or may not have happened, but only whole and in order,
    so an unacknowledged CAS is never half-applied);
  - every status and every GET answer matches the model while running
    (a GET sent after an acknowledgement sees it);
  - shared counters advanced by CAS from every connection never go
    backwards (neither across restarts nor between reads);
  - a paginated RANGE over the whole key space is sorted, inside its
    bounds, makes progress, and lists exactly the keys GET finds, with
    the same values (no phantom and no missing key).

Exit status 0 when every round passed; 1 with a description otherwise.
The last line printed is a summary "crashcheck: ..." with the figures.
"""

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kvwire as kw  # noqa: E402

NCOUNTERS = 4
ERRTEXT = (r"Input/output error|No space left on device|\bEIO\b|"
           r"\bENOSPC\b|I/O error|disk full")


class Failure(Exception):
    pass


class Key:
    """Model of one key owned by one connection."""
    __slots__ = ("name", "base", "ops", "busy")

    def __init__(self, name):
        self.name = name
        self.base = None        # state after the last acknowledged op
        self.ops = []           # unacknowledged ops: [seq, newstate]
        self.busy = False       # a GET is outstanding

    def cur(self):
        return self.ops[-1][1] if self.ops else self.base

    def allowed(self):
        return [self.base] + [o[1] for o in self.ops]


class Daemon:
    def __init__(self, args, workdir):
        self.args = args
        self.sock = os.path.join(workdir, "kvlds.sock")
        self.datadir = args.datadir or os.path.join(workdir, "data")
        self.logpath = os.path.join(workdir, "kvlds.log")
        self.proc = None
        self.starts = 0

    def start(self, env_extra=None):
        env = dict(os.environ)
        if env_extra:
            env.update(env_extra)
        cmd = [self.args.kvlds, "-s", self.sock, "-d", self.datadir, "-F"]
        cmd += self.args.kvlds_args.split()
        with open(self.logpath, "a") as lf:
            lf.write("=== start %d: %s %s\n" % (
                self.starts, " ".join("%s=%s" % kv for kv in
                                      (env_extra or {}).items()),
                " ".join(cmd)))
            lf.flush()
            self.proc = subprocess.Popen(cmd, stdout=lf, stderr=lf,
                                         env=env)
        self.starts += 1
        if not kw.wait_socket(self.sock, self.args.start_timeout, self.proc):
            rc = self.proc.poll()
            if rc is None:
                self.kill()
            return False
        return True

    def start_nowait(self):
        cmd = [self.args.kvlds, "-s", self.sock, "-d", self.datadir, "-F"]
        cmd += self.args.kvlds_args.split()
        with open(self.logpath, "a") as lf:
            lf.write("=== start %d (to be killed at once): %s\n" %
                     (self.starts, " ".join(cmd)))
            lf.flush()
            self.proc = subprocess.Popen(cmd, stdout=lf, stderr=lf)
        self.starts += 1

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        rc = self.proc.wait()
        self.proc = None
        return rc

    def term(self, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None
            raise Failure("kvlds did not exit within %ds of SIGTERM"
                          % timeout)
        self.proc = None
        return rc

    def logsince(self):
        """The log of the latest start."""
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read().rsplit("=== start", 1)[-1]
        except OSError:
            return ""

    def logtail(self, n=15):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class Checker:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.seq = 0
        self.keys = []          # per connection: list of Key
        for i in range(args.conns):
            # Key lengths vary; every fifth key is long (deep, narrow
            # pages); connection 0 also owns the empty key.
            self.keys.append([Key(b"k%03d-%04d" % (i, j) +
                                  b"." * ((j * 7 + i) % 41 if j % 5 else
                                          200 + (j + i) % 46))
                              for j in range(args.keys)])
        self.keys[0].append(Key(b""))
        self.allkeys = {k.name: k for ks in self.keys for k in ks}
        self.ctr_names = [b"ctr-%d" % m for m in range(NCOUNTERS)]
        self.ctr_acked = [0] * NCOUNTERS   # highest acknowledged value
        self.ctr_maybe = [0] * NCOUNTERS   # highest value possibly written
        self.ctr_seen = [0] * NCOUNTERS
        self.stats = dict(terms=0, startkills=0, acks=0, ops=0, uncertain=0, rounds=0, kills=0,
                          faults=0, selfexits=0, verified_keys=0,
                          range_pairs=0, gets=0, cas_fail=0)
        self.failures = []
        self.maxk = self.maxv = 255
        self.nlost = 0

    # ---------------------------------------------------------- values
    def newval(self, key):
        self.seq += 1
        if self.rng.random() < 0.02:
            return b""
        pad = self.rng.randrange(0, self.a.maxpad + 1)
        v = key.name[:12] + b":%d:" % self.seq + b"v" * pad
        return v[:self.maxv]

    # ---------------------------------------------------------- load
    def load(self, daemon, duration, fault_env, term=False):
        """Run the workload until the daemon dies or ${duration} passes
        (then kill -9 it).  Returns a description of how it ended."""
        loop = kw.Loop()
        conns = []
        for i in range(self.a.conns):
            try:
                conns.append(kw.Conn(loop, daemon.sock))
            except OSError as e:
                if not daemon.alive():
                    break
                raise Failure("connect %d: %s" % (i, e))
        inflight = [0] * len(conns)
        ctr_busy = [False] * len(conns)
        fails = self.failures
        st = self.stats
        rng = self.rng
        a = self.a

        def check_status(what, got, want):
            if got != want:
                fails.append("%s: status %r, expected %r" % (what, got, want))

        def issue(i):
            c = conns[i]
            if c.dead:
                return
            keys = self.keys[i]
            while inflight[i] < a.depth:
                # Shared counter: GET then CAS(v, v+1).
                if not ctr_busy[i] and rng.random() < 0.08:
                    ctr_busy[i] = True
                    m = rng.randrange(NCOUNTERS)
                    lower = self.ctr_acked[m]
                    inflight[i] += 1
                    c.send(kw.GET, (self.ctr_names[m],),
                           lambda r, i=i, m=m, lower=lower:
                           ctr_got(i, m, lower, r))
                    continue
                k = keys[rng.randrange(len(keys))]
                if k.busy or len(k.ops) >= 2:
                    # Try a few others before giving up this turn.
                    for _ in range(4):
                        k = keys[rng.randrange(len(keys))]
                        if not k.busy and len(k.ops) < 2:
                            break
                    else:
                        return
                    if k.busy or len(k.ops) >= 2:
                        return
                cur = k.cur()
                r = rng.random()
                if r < 0.12 and not k.ops:
                    k.busy = True
                    inflight[i] += 1
                    st["gets"] += 1
                    c.send(kw.GET, (k.name,),
                           lambda res, i=i, k=k, want=k.base:
                           got(i, k, want, res))
                    continue
                if r < 0.40:
                    op, new = kw.SET, self.newval(k)
                    args, want, state = (k.name, new), 0, new
                elif r < 0.52:
                    op, new = kw.ADD, self.newval(k)
                    args = (k.name, new)
                    want, state = (0, new) if cur is None else (1, cur)
                elif r < 0.60:
                    op, new = kw.MODIFY, self.newval(k)
                    args = (k.name, new)
                    want, state = (1, None) if cur is None else (0, new)
                elif r < 0.72:
                    op, args, want, state = kw.DELETE, (k.name,), 0, None
                elif r < 0.92:
                    new = self.newval(k)
                    if cur is not None and rng.random() < 0.85:
                        op, args, want, state = (kw.CAS, (k.name, cur, new),
                                                 0, new)
                    else:
                        wrong = (cur or b"")[:self.maxv - 1] + b"~"
                        op, args, want, state = (kw.CAS, (k.name, wrong,
                                                          new), 1, cur)
                else:
                    if cur is not None and rng.random() < 0.8:
                        op, args, want, state = kw.CAD, (k.name, cur), 0, None
                    else:
                        wrong = (cur or b"")[:self.maxv - 1] + b"~"
                        op, args, want, state = kw.CAD, (k.name, wrong), 1, cur
                self.seq += 1
                ent = [self.seq, state]
                k.ops.append(ent)
                inflight[i] += 1
                st["ops"] += 1
                c.send(op, args, lambda res, i=i, k=k, ent=ent, op=op,
                       want=want: acked(i, k, ent, op, want, res))

        def acked(i, k, ent, op, want, res):
            inflight[i] -= 1
            if res is None:
                return          # connection died: stays uncertain
            st["acks"] += 1
            check_status("%s %r" % (kw.NAMES[op], k.name), res, want)
            # Acknowledged: it and everything before it on this key hold.
            if ent in k.ops:
                idx = k.ops.index(ent)
                k.base = ent[1]
                del k.ops[:idx + 1]
            issue(i)

        def got(i, k, want, res):
            inflight[i] -= 1
            k.busy = False
            if res is None:
                return
            stt, val = res
            if val != want:
                fails.append("GET %r returned %r, expected %r (read after "
                             "acknowledged write)" % (k.name, val, want))
            issue(i)

        def ctr_got(i, m, lower, res):
            inflight[i] -= 1
            if res is None:
                ctr_busy[i] = False
                return
            stt, val = res
            try:
                v = int(val)
            except (TypeError, ValueError):
                fails.append("counter %d holds %r" % (m, val))
                ctr_busy[i] = False
                return
            if v < lower:
                fails.append("counter %d went backwards: read %d after an "
                             "acknowledged %d" % (m, v, lower))
            self.ctr_seen[m] = max(self.ctr_seen[m], v)
            nv = v + 1
            self.ctr_maybe[m] = max(self.ctr_maybe[m], nv)
            inflight[i] += 1
            conns[i].send(kw.CAS, (self.ctr_names[m], b"%d" % v, b"%d" % nv),
                          lambda r, i=i, m=m, nv=nv: ctr_cas(i, m, nv, r))

        def ctr_cas(i, m, nv, res):
            inflight[i] -= 1
            ctr_busy[i] = False
            if res is None:
                return
            st["acks"] += 1
            if res == 0:
                self.ctr_acked[m] = max(self.ctr_acked[m], nv)
            else:
                st["cas_fail"] += 1
            issue(i)

        for i in range(len(conns)):
            issue(i)
        t0 = time.monotonic()
        end = t0 + duration
        how = None
        lastacks = st["acks"]
        lastprog = t0
        while True:
            loop.run_once(0.02)
            now = time.monotonic()
            if st["acks"] != lastacks:
                lastacks, lastprog = st["acks"], now
            if not daemon.alive():
                rc = daemon.proc.returncode
                how = "exited by itself (status %d)" % rc
                self.stats["selfexits"] += 1
                daemon.last_rc = rc
                daemon.proc = None
                break
            if now >= end:
                if fault_env and fault_env.get("FAULTINJ_MODE") in \
                        ("eio", "enospc") and self.fault_fired(fault_env):
                    # The fault fired: the daemon must exit by itself.
                    if now < end + a.fault_exit_timeout:
                        continue
                    raise Failure("kvlds still running %ds after an "
                                  "injected I/O error (%s)" %
                                  (a.fault_exit_timeout,
                                   fault_env["FAULTINJ_MODE"]))
                if term:
                    # SIGTERM under load: finish the batch, exit 0.
                    rc = daemon.term()
                    self.stats["terms"] += 1
                    how = "SIGTERM after %.2fs, exit %s" % (now - t0, rc)
                    if rc != 0:
                        fails.append("SIGTERM under load: kvlds exited %s"
                                     % rc)
                    break
                daemon.kill()
                self.stats["kills"] += 1
                how = "killed after %.2fs" % (now - t0)
                break
            if now - lastprog > a.stall and not fault_env:
                raise Failure("no acknowledgement for %ds while running"
                              % a.stall)
            if not loop.conns:
                # Every connection is gone but the daemon lives on.
                if not fault_env:
                    raise Failure("kvlds closed every connection: %s"
                                  % (conns[0].error if conns else "?"))
        # Collect whatever the dead daemon had already sent.
        loop.run_until(lambda: not loop.conns, 10)
        for c in conns:
            c.close()
        self.stats["uncertain"] += sum(len(k.ops) for ks in self.keys
                                       for k in ks)
        return how

    def fault_fired(self, env):
        try:
            with open(env["FAULTINJ_LOG"]) as f:
                for line in f:
                    if line.split()[-1] == "-1":
                        return True
        except OSError:
            pass
        return False

    # ---------------------------------------------------------- verify
    def verify(self, daemon, label):
        cl = kw.Sync(daemon.sock, timeout=self.a.stall)
        try:
            self._verify(cl, label)
        finally:
            cl.close()

    def _verify(self, cl, label):
        fails = self.failures
        # Pipeline the GETs on one connection.
        results = {}
        for name in self.allkeys:
            cl.c.send(kw.GET, (name,), lambda r, n=name: results.__setitem__(
                n, r))
        for name in self.ctr_names:
            cl.c.send(kw.GET, (name,), lambda r, n=name: results.__setitem__(
                n, r))
        if not cl.loop.run_until(lambda: len(results) == len(self.allkeys)
                                 + NCOUNTERS, self.a.stall):
            raise Failure("%s: verification GETs not answered" % label)
        if any(r is None for r in results.values()):
            raise Failure("%s: connection lost during verification: %s"
                          % (label, cl.c.error))
        present = {}
        for name, k in self.allkeys.items():
            val = results[name][1]
            allowed = k.allowed()
            if val not in allowed:
                self.nlost += 1
                fails.append("%s: key %r holds %r; acknowledged state %r, "
                             "possible unacknowledged %r" %
                             (label, name, val, k.base,
                              [o[1] for o in k.ops]))
            k.base = val
            k.ops = []
            k.busy = False
            if val is not None:
                present[name] = val
            self.stats["verified_keys"] += 1
        for m, name in enumerate(self.ctr_names):
            val = results[name][1]
            try:
                v = int(val)
            except (TypeError, ValueError):
                fails.append("%s: counter %r holds %r" % (label, name, val))
                continue
            if v < self.ctr_acked[m]:
                self.nlost += 1
                fails.append("%s: counter %d went backwards: %d < "
                             "acknowledged %d" % (label, m, v,
                                                  self.ctr_acked[m]))
            if v > max(self.ctr_maybe[m], self.ctr_acked[m]):
                fails.append("%s: counter %d is %d, never written (max %d)"
                             % (label, m, v, self.ctr_maybe[m]))
            self.ctr_acked[m] = self.ctr_maybe[m] = v
            present[name] = val
        # The whole key space by RANGE, with a random page budget.
        mb = self.rng.choice([0, 1, 60, 300, 4096, 65536])
        try:
            pairs = cl.range_all(b"", b"", mb)
        except AssertionError as e:
            fails.append("%s: RANGE (max bytes %d): %s" % (label, mb, e))
            return
        self.stats["range_pairs"] += len(pairs)
        got = dict(pairs)
        if len(got) != len(pairs):
            fails.append("%s: RANGE returned a key twice" % label)
        missing = [k for k in present if k not in got]
        phantom = [k for k in got if k not in present]
        wrong = [k for k in present if k in got and got[k] != present[k]]
        if missing:
            fails.append("%s: RANGE misses %d keys GET finds, e.g. %r"
                         % (label, len(missing), missing[:3]))
        if phantom:
            fails.append("%s: RANGE lists %d keys GET does not find, e.g. %r"
                         % (label, len(phantom), phantom[:3]))
        if wrong:
            fails.append("%s: RANGE and GET disagree on %d values, e.g. %r"
                         % (label, len(wrong), wrong[:3]))
        # A bounded sub-range too: one connection's keys.
        i = self.rng.randrange(self.a.conns)
        lo, hi = b"k%03d-" % i, b"k%03d." % i
        try:
            sub = cl.range_all(lo, hi, self.rng.choice([0, 100, 1000]))
        except AssertionError as e:
            fails.append("%s: RANGE [%r,%r): %s" % (label, lo, hi, e))
            return
        want = sorted((k, v) for k, v in present.items() if lo <= k < hi)
        if sub != want:
            fails.append("%s: RANGE [%r,%r) returned %d pairs, expected %d"
                         % (label, lo, hi, len(sub), len(want)))

    # ---------------------------------------------------------- rounds
    def setup(self, daemon):
        cl = kw.Sync(daemon.sock)
        try:
            self.maxk, self.maxv = cl.call(kw.PARAMS)
            for ks in self.keys:
                for k in ks:
                    k.name = k.name[:self.maxk]
            self.allkeys = {k.name: k for ks in self.keys for k in ks}
            for m, name in enumerate(self.ctr_names):
                st = cl.call(kw.ADD, name, b"0")
                if st == 1:
                    v = cl.call(kw.GET, name)[1]
                    raise Failure("fresh store already holds %r=%r" %
                                  (name, v))
        finally:
            cl.close()

    def fault_env(self, rnd, workdir):
        a = self.a
        if not a.faults:
            return None
        modes = a.faults.split(",")
        mode = modes[rnd % len(modes)]
        env = {"LD_PRELOAD": a.preload, "FAULTINJ_DIR": daemon_data(workdir),
               "FAULTINJ_LOG": os.path.join(workdir, "faultinj.%d.log" % rnd),
               "FAULTINJ_AT": str(self.rng.randrange(1, a.fault_at_max + 1)),
               "FAULTINJ_SEED": str(self.rng.randrange(1 << 30))}
        if mode.endswith("-read"):
            env["FAULTINJ_OPS"] = "read"
            mode = mode[:-5]
        elif mode.endswith("-sync"):
            env["FAULTINJ_OPS"] = "sync"
            mode = mode[:-5]
        elif mode.endswith("-write"):
            env["FAULTINJ_OPS"] = "write"
            mode = mode[:-6]
        env["FAULTINJ_MODE"] = mode
        if mode == "torn":
            env["FAULTINJ_TORN"] = str(self.rng.choice(
                [0, 1, 7, 16, 511, 512, 513, 4095, 4096,
                 self.rng.randrange(0, 70000)]))
        return env

    def run(self):
        a = self.a
        workdir = os.path.abspath(a.workdir)
        os.makedirs(workdir, exist_ok=True)
        d = Daemon(a, workdir)
        try:
            self._run(d, workdir)
        except Failure as e:
            self.failures.append(str(e))
        except Exception as e:    # noqa: B902 - report anything as a finding
            self.failures.append("driver error: %r" % (e,))
        finally:
            if d.alive():
                d.kill()
        rep = kw.sanitizer_report(d.logpath)
        if rep:
            self.failures.append("sanitizer report in %s: %s" %
                                 (d.logpath, rep))
        s = self.stats
        summary = ("crashcheck: %d rounds, %d kills, %d SIGTERMs under "
                   "load, %d kills during start-up, %d fault runs, %d "
                   "self-exits, %d ops, %d acks, %d uncertain, %d keys "
                   "verified, %d RANGE pairs, lost acknowledged writes: %d, "
                   "failures: %d" %
                   (s["rounds"], s["kills"], s["terms"], s["startkills"],
                    s["faults"], s["selfexits"],
                    s["ops"], s["acks"], s["uncertain"], s["verified_keys"],
                    s["range_pairs"], self.lost(), len(self.failures)))
        for f in self.failures[:30]:
            print("FAIL: " + f)
        if self.failures:
            print("--- kvlds log tail:\n" + d.logtail(25))
        print(summary)
        return 1 if self.failures else 0

    def lost(self):
        return self.nlost

    def _run(self, d, workdir):
        a = self.a
        if not d.start():
            raise Failure("kvlds did not start: %s" % d.logtail())
        self.setup(d)
        t_end = time.monotonic() + a.max_time if a.max_time else None
        for rnd in range(a.rounds):
            if t_end and time.monotonic() > t_end and rnd >= a.min_rounds:
                break
            env = self.fault_env(rnd, workdir)
            if env:
                # Verify on a clean daemon, stop it, restart with faults.
                if not d.alive() and not d.start():
                    raise Failure("round %d: kvlds did not restart: %s"
                                  % (rnd, d.logtail()))
                self.verify(d, "round %d" % rnd)
                rc = d.term()
                if rc != 0:
                    raise Failure("round %d: kvlds exited %s on SIGTERM"
                                  % (rnd, rc))
                if not d.start(env):
                    # It may have hit its fault while starting.
                    self.stats["faults"] += 1
                    self.stats["rounds"] += 1
                    d.proc = None
                    continue
                self.stats["faults"] += 1
            elif not d.alive():
                if a.startkill_every and rnd % a.startkill_every == \
                        a.startkill_every - 1:
                    # Crash during recovery / start-up, then start again.
                    d.start_nowait()
                    time.sleep(self.rng.uniform(0, 0.03))
                    d.kill()
                    self.stats["startkills"] += 1
                if not d.start():
                    raise Failure("round %d: kvlds did not restart after "
                                  "the crash: %s" % (rnd, d.logtail()))
                self.verify(d, "round %d" % rnd)
            dur = self.rng.uniform(a.kill_min, a.kill_max)
            term = (not env and a.term_every and
                    rnd % a.term_every == a.term_every - 1)
            how = self.load(d, dur, env, term)
            if env and env["FAULTINJ_MODE"] in ("eio", "enospc") and \
                    how.startswith("exited"):
                rc = d.last_rc
                if rc == 0 or rc < 0:
                    self.failures.append(
                        "round %d: after an injected %s the daemon exited "
                        "with status %d (want a non-zero exit)" %
                        (rnd, env["FAULTINJ_MODE"], rc))
                elif not re.search(ERRTEXT, d.logsince()):
                    self.failures.append(
                        "round %d: after an injected %s the daemon exited "
                        "%d without naming the error in its log:\n%s" %
                        (rnd, env["FAULTINJ_MODE"], rc, d.logsince()))
            if not env and how.startswith("exited") and a.after_exit:
                # A real resource fault (a full file system): the daemon
                # must have exited non-zero naming it; then the command
                # makes room before the restart that verifies.
                rc = d.last_rc
                if rc is None or rc <= 0 or not re.search(ERRTEXT,
                                                          d.logsince()):
                    self.failures.append(
                        "round %d: kvlds exited %s by itself without a "
                        "non-zero status and a message naming the error:"
                        "\n%s" % (rnd, rc, d.logsince()[-800:]))
                subprocess.run(a.after_exit, shell=True, check=False)
            self.stats["rounds"] += 1
            if a.sabotage:
                sabotage(daemon_data(workdir))
            if a.verbose:
                print("round %d: %s%s; %d acks so far" %
                      (rnd, how, (" [%s at %s]" % (env["FAULTINJ_MODE"],
                                                   env["FAULTINJ_AT"]))
                       if env else "", self.stats["acks"]), flush=True)
            if self.failures:
                return
        if not d.alive() and not d.start():
            raise Failure("final restart failed: %s" % d.logtail())
        self.verify(d, "final")
        rc = d.term()
        if rc != 0:
            self.failures.append("kvlds exited %s on the final SIGTERM" % rc)


def sabotage(datadir):
    """Test the tester: cut the newest half of the biggest data file, as
    a daemon that acknowledged before syncing would lose it."""
    files = [os.path.join(r, f) for r, _, fs in os.walk(datadir) for f in fs]
    if files:
        big = max(files, key=os.path.getsize)
        os.truncate(big, os.path.getsize(big) // 2)


def daemon_data(workdir):
    return DATADIR or os.path.join(workdir, "data")


DATADIR = ""



def asan_preload(kvlds, so):
    """The preload list for ${so}: a sanitizer runtime linked into kvlds
    must come first."""
    first = []
    try:
        out = subprocess.run(["ldd", kvlds], capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            if "libasan" in line and "=>" in line:
                first.append(line.split("=>")[1].split()[0])
    except OSError:
        pass
    return " ".join(first + [so])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kvlds", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--kvlds-args", default="")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--min-rounds", type=int, default=0,
                   help="with --max-time, run at least this many rounds")
    p.add_argument("--max-time", type=float, default=0)
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--keys", type=int, default=64, help="keys per conn")
    p.add_argument("--depth", type=int, default=8,
                   help="requests in flight per connection")
    p.add_argument("--maxpad", type=int, default=200)
    p.add_argument("--kill-min", type=float, default=0.0)
    p.add_argument("--kill-max", type=float, default=0.8)
    p.add_argument("--stall", type=int, default=20)
    p.add_argument("--start-timeout", type=int, default=30)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--faults", default="",
                   help="comma list of faultinj modes to rotate through: "
                   "powerloss,torn,reorder,eio,enospc (suffix -read, "
                   "-write or -sync picks the calls counted)")
    p.add_argument("--faultinj", default="",
                   help="path of faultinj.so (for --faults)")
    p.add_argument("--fault-at-max", type=int, default=200)
    p.add_argument("--fault-exit-timeout", type=int, default=15)
    p.add_argument("--term-every", type=int, default=0,
                   help="every Nth round ends with SIGTERM under load "
                   "(must exit 0) instead of kill -9")
    p.add_argument("--startkill-every", type=int, default=0,
                   help="every Nth restart is first killed within 30 ms "
                   "of starting (a crash during recovery)")
    p.add_argument("--datadir", default="",
                   help="the store's directory (default WORKDIR/data)")
    p.add_argument("--after-exit", default="",
                   help="shell command run when kvlds exits by itself "
                   "(it must then have exited non-zero naming the error), "
                   "e.g. to grow a full file system before the restart")
    p.add_argument("--sabotage", action="store_true",
                   help="damage the store after each crash (must fail)")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args()
    global DATADIR
    DATADIR = a.datadir
    if a.seed is None:
        a.seed = int.from_bytes(os.urandom(4), "big")
    print("crashcheck: seed %d" % a.seed, flush=True)
    if a.faults:
        if not os.path.exists(a.faultinj):
            print("crashcheck: --faults needs --faultinj")
            return 2
        a.preload = asan_preload(a.kvlds, os.path.abspath(a.faultinj))
    return Checker(a).run()


if __name__ == "__main__":
    sys.exit(main())
