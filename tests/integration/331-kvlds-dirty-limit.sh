#!/bin/bash
# smoke
# 331-kvlds-dirty-limit: back-pressure on mutations.  With a small cache
# (-c 4M: the pending batch may dirty 1 MiB of nodes), two clients each
# keep thousands of random SETs in flight: mutations wait for commits
# (SIGUSR1 counts it), nothing deadlocks, a third connection's GETs are
# answered meanwhile, and every key holds its last value.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data" -c 4M
KPID=$LASTPID
wait_socket "$T/kv.sock"

cat >"$T/load.py" <<'PY'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
for i in range(0, 30000, 5000):
    ids = c.send_many([kv.req_set(b"key%06d" % k, b"r0-" + b"v" * 50)
                       for k in range(i, i + 5000)])
    assert all(kv.parse_status(x) == 0 for x in c.collect(ids).values())
PY
# storm SEED ROUNDS: random SETs, 6000 in flight, value "r<round>-<seed>".
cat >"$T/storm.py" <<'PY'
import random, sys, kvclient as kv
c = kv.Conn(sys.argv[1])
seed, rounds = int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
for r in range(1, rounds + 1):
    keys = [k for k in range(30000) if k % 2 == seed % 2]
    rng.shuffle(keys)
    for i in range(0, len(keys), 6000):
        ids = c.send_many([kv.req_set(b"key%06d" % k,
                                      b"r%d-" % r + b"v" * 50)
                           for k in keys[i:i + 6000]])
        got = c.collect(ids)
        assert all(kv.parse_status(x) == 0 for x in got.values())
print("storm", seed, "done", flush=True)
PY
# reader: GETs on its own connection while the storms run.
cat >"$T/reader.py" <<'PY'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
n = 0
while n < 3000:
    v = c.get(b"key%06d" % (n * 7 % 30000))
    assert v is not None and v[:1] == b"r", v
    n += 1
print("reader done", flush=True)
PY
cat >"$T/verify.py" <<'PY'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
want = b"r" + sys.argv[2].encode() + b"-" + b"v" * 50
pairs = c.range_all(b"", b"", 100000)
assert len(pairs) == 30000, len(pairs)
for i, (k, v) in enumerate(pairs):
    assert k == b"key%06d" % i, k
    assert v == want, (k, v)
PY

check "30000 pairs loaded" kvpy "$T/kv.sock" <"$T/load.py"
kvpy "$T/kv.sock" 0 3 <"$T/storm.py" >"$T/s0.out" 2>&1 &
S0=$!
kvpy "$T/kv.sock" 1 3 <"$T/storm.py" >"$T/s1.out" 2>&1 &
S1=$!
PIDS="$PIDS $S0 $S1"
check "GETs answered during the storms" kvpy "$T/kv.sock" <"$T/reader.py"
wait $S0; r0=$?
wait $S1; r1=$?
check "both storms acknowledged" [ $r0 = 0 ] && [ $r1 = 0 ]
check "every key has its last value" kvpy "$T/kv.sock" 3 <"$T/verify.py"
kill -USR1 "$KPID"
wait_until 5 grep -q "waited for a commit" "$T/kvlds.log"
check "SIGUSR1 reports mutations that waited for a commit" \
    grep -Eq "waited for a commit [1-9][0-9]* times" "$T/kvlds.log"
check "the dirty bytes have a limit of 1 MiB" \
    grep -q "at most 1048576)" "$T/kvlds.log"
stop "$KPID"
check "clean exit" [ $? = 0 ]
