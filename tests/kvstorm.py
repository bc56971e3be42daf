#!/usr/bin/env python3
"""kvstorm.py SOCKET STATEFILE PROGRESSFILE [CONNS] [KEYS] [PREFIX]: a write
storm
for crash tests.

Each of CONNS connections owns KEYS keys and sends pipelined rounds of
SET / CAS / DELETE / CAD / ADD over them, at most one request in flight
per key, and records for every key the state its last acknowledged
request left (and the state an unacknowledged request in flight would
leave).  It runs until the server goes away (kill -9), then writes
STATEFILE (JSON): {key: [acked value or null, possible value or null,
has_pending]}.  PROGRESSFILE gets the number of acknowledgements every
round.

kvstorm.py --verify SOCKET STATEFILE: check that every key holds its
acknowledged state, or the state of the request that was in flight.
"""

import json
import random
import sys
import threading

import kvclient as kv


def storm(path, state, progress, conns, nkeys, prefix):
    acks = [0]
    lock = threading.Lock()
    failures = []

    def worker(t):
        rnd = random.Random(t)
        c = kv.Conn(path, timeout=60)
        keys = [prefix + b"%02d-%04d" % (t, j) for j in range(nkeys)]
        cur = {k: None for k in keys}     # acknowledged state
        seq = 0
        try:
            while True:
                batch = rnd.sample(keys, 32)
                recs, after = [], []
                for k in batch:
                    seq += 1
                    v = b"%d-%d" % (t, seq)
                    old = cur[k]
                    op = rnd.random()
                    if old is None:
                        if op < 0.5:
                            recs.append(kv.req_set(k, v))
                        else:
                            recs.append(kv.req_add(k, v))
                        after.append(v)
                    elif op < 0.4:
                        recs.append(kv.req_set(k, v))
                        after.append(v)
                    elif op < 0.7:
                        recs.append(kv.req_cas(k, old, v))
                        after.append(v)
                    elif op < 0.85:
                        recs.append(kv.req_delete(k))
                        after.append(None)
                    else:
                        recs.append(kv.req_cad(k, old))
                        after.append(None)
                # In flight: either outcome is possible after a crash.
                with lock:
                    for k, a in zip(batch, after):
                        state[k] = [cur[k], a, True]
                ids = c.send_many(recs)
                got = c.collect(ids)
                with lock:
                    for k, a, i in zip(batch, after, ids):
                        if kv.parse_status(got[i]) != 0:
                            failures.append(k)
                            return
                        cur[k] = a
                        state[k] = [a, a, False]
                    acks[0] += len(ids)
                    with open(progress, "w") as f:
                        f.write("%d\n" % acks[0])
        except (EOFError, ConnectionError, OSError):
            return

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(conns)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    if failures:
        print("unexpected status for %r" % failures)
        return -1
    return acks[0]


def verify(path, statefile):
    with open(statefile) as f:
        state = json.load(f)
    c = kv.Conn(path)
    bad = 0
    for k, (acked, possible, pending) in state.items():
        got = c.get(k.encode())
        want = {acked.encode() if acked is not None else None}
        if pending:
            want.add(possible.encode() if possible is not None else None)
        if got not in want:
            bad += 1
            if bad < 10:
                print("key %s: got %r, want one of %r" % (k, got, want))
    print("%d keys checked, %d wrong" % (len(state), bad))
    return bad == 0


def main():
    if sys.argv[1] == "--verify":
        sys.exit(0 if verify(sys.argv[2], sys.argv[3]) else 1)
    path, statefile, progress = sys.argv[1:4]
    conns = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    nkeys = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    prefix = sys.argv[6].encode() if len(sys.argv) > 6 else b"s"
    state = {}
    n = storm(path, state, progress, conns, nkeys, prefix)
    with open(statefile, "w") as f:
        json.dump({k.decode(): [a.decode() if a is not None else None,
                                p.decode() if p is not None else None, pe]
                   for k, (a, p, pe) in state.items()}, f)
    print("%d acknowledgements" % n)
    sys.exit(0 if n >= 0 else 1)


if __name__ == "__main__":
    main()
