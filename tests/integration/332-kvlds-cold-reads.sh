#!/bin/bash
# smoke
# 332-kvlds-cold-reads: pages that are not in memory are read off the
# event loop.  With a tiny cache (-c 64k) and every page read delayed by
# 400 ms (KVLDS_READ_DELAY_MS, a test knob; 4 s under valgrind), a GET,
# a SET and a RANGE
# that need cold pages wait for their reads while another connection's
# GETs of cached pages are answered at once; then, with no delay, random
# updates on several connections are followed by a GET of every key.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

N=20000
cat >"$T/load.py" <<'PY'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
n = int(sys.argv[2])
for i in range(0, n, 5000):
    ids = c.send_many([kv.req_set(b"key%06d" % k, b"v0-%06d" % k)
                       for k in range(i, min(n, i + 5000))])
    assert all(kv.parse_status(x) == 0 for x in c.collect(ids).values())
PY
start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data" -b 1024 -c 64k
KPID=$LASTPID
wait_socket "$T/kv.sock"
check "$N pairs loaded" kvpy "$T/kv.sock" $N <"$T/load.py"
stop "$KPID"

# Restarted with slow reads: only the root page is in memory.
DELAY=400
[ "${VALGRIND:-0}" = 1 ] && DELAY=4000
export KVLDS_READ_DELAY_MS=$DELAY
start kvlds2 "$KVLDS" -F -s "$T/kv.sock" -d "$T/data" -b 1024 -c 64k
KPID=$LASTPID
unset KVLDS_READ_DELAY_MS
wait_socket "$T/kv.sock"
cat >"$T/cold.py" <<'PY'
import select, sys, time, kvclient as kv
path, delay = sys.argv[1], int(sys.argv[2]) / 1000.0
a, b = kv.Conn(path, 120), kv.Conn(path, 120)
# B warms the path to its key (a few slow reads), then reads it fast.
assert b.get(b"key000000") == b"v0-000000"
t = time.monotonic()
assert b.get(b"key000000") == b"v0-000000"
assert time.monotonic() - t < delay / 2, "a cached GET was slow"

def waiting(conn, what, reqid):
    # Another connection's cached GETs are answered while ${conn} waits.
    t = time.monotonic()
    for _ in range(20):
        assert b.get(b"key000000") == b"v0-000000"
    el = time.monotonic() - t
    r, _, _ = select.select([conn.s], [], [], 0)
    assert not r, what + " answered before its read"
    assert el < delay * 0.75, "20 cached GETs took %.3f s behind a %s" % (
        el, what)
    print("%s: 20 cached GETs in %.3f s while it waited" % (what, el))
    return conn.wait(reqid)

i = a.send(kv.req_get(b"key015000"))
assert kv.parse_get(waiting(a, "cold GET", i)) == b"v0-015000"
i = a.send(kv.req_set(b"key012345", b"new"))
assert kv.parse_status(waiting(a, "cold SET", i)) == 0
i = a.send(kv.req_range(b"key017000", b"key017005", 4096))
nxt, pairs = kv.parse_range(waiting(a, "cold RANGE", i))
assert [k for k, v in pairs] == [b"key%06d" % k for k in range(17000, 17005)]
assert a.get(b"key012345") == b"new"
PY
check "cold requests wait off the loop" kvpy "$T/kv.sock" $DELAY <"$T/cold.py"
kill -USR1 "$KPID"
wait_until 5 grep -q "waited for a page read" "$T/kvlds2.log"
check "SIGUSR1 counts pages read off the loop" \
    grep -Eq "[1-9][0-9]* off the loop" "$T/kvlds2.log"
stop "$KPID"
check "clean exit" [ $? = 0 ]

# No delay: random updates on 4 connections under the tiny cache, then
# every key read back by pipelined GETs (deferred while their pages are
# read) and by RANGE.
start kvlds3 "$KVLDS" -F -s "$T/kv.sock" -d "$T/data" -b 1024 -c 64k
KPID=$LASTPID
wait_socket "$T/kv.sock"
cat >"$T/upd.py" <<'PY'
import random, sys, kvclient as kv
c = kv.Conn(sys.argv[1])
part, n = int(sys.argv[2]), int(sys.argv[3])
keys = [k for k in range(n) if k % 4 == part]
for r in (1, 2):
    random.Random(part * 10 + r).shuffle(keys)
    ids = c.send_many([kv.req_set(b"key%06d" % k, b"v%d-%06d" % (r, k))
                       for k in keys])
    assert all(kv.parse_status(x) == 0 for x in c.collect(ids).values())
PY
cat >"$T/verify.py" <<'PY'
import random, sys, kvclient as kv
c = kv.Conn(sys.argv[1])
n = int(sys.argv[2])
keys = list(range(n))
random.Random(7).shuffle(keys)
ids = c.send_many([kv.req_get(b"key%06d" % k) for k in keys])
got = c.collect(ids)
for i, k in zip(ids, keys):
    assert kv.parse_get(got[i]) == b"v2-%06d" % k, (k, got[i])
pairs = c.range_all(b"", b"", 65536)
assert pairs == [(b"key%06d" % k, b"v2-%06d" % k) for k in range(n)]
PY
for p in 0 1 2 3; do
	kvpy "$T/kv.sock" $p $N <"$T/upd.py" >"$T/upd$p.out" 2>&1 &
	eval U$p=$!
	PIDS="$PIDS $!"
done
ok=0
for p in 0 1 2 3; do
	eval wait \$U$p || ok=1
done
check "random updates on 4 connections acknowledged" [ $ok = 0 ]
check "every key reads back" kvpy "$T/kv.sock" $N <"$T/verify.py"
stop "$KPID"
check "clean exit" [ $? = 0 ]
