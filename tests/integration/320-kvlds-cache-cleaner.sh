#!/bin/bash
# smoke
# 320-kvlds-cache-cleaner: the engine's bounded page cache and cleaner
# under the real daemon.  With a tiny cache (-c) and small log segments,
# rewriting every key several times keeps the data directory bounded,
# deletes old segments, and every key reads back; SIGUSR1 reports
# evictions and freed segments; a kill -9 in the middle of cleaning loses
# nothing acknowledged.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }
export KVLDS_SEGMENT_SIZE=262144

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data" -b 1024 -c 64k -S 1
KPID=$LASTPID
wait_socket "$T/kv.sock"

# rounds FIRST LAST: SET every key to "r<round>" in random order, round
# after round, each acknowledged in full before the next.
cat >"$T/rounds.py" <<'PY'
import random, sys, kvclient as kv
c = kv.Conn(sys.argv[1])
n = 6000
for r in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
    keys = list(range(n))
    random.Random(r).shuffle(keys)
    for i in range(0, n, 1000):
        ids = c.send_many([kv.req_set(b"key%05d" % k,
                                      b"r%03d-" % r + b"v" * 40)
                           for k in keys[i:i + 1000]])
        got = c.collect(ids)
        assert all(kv.parse_status(x) == 0 for x in got.values())
    print("round", r, "acknowledged", flush=True)
PY
cat >"$T/verify.py" <<'PY'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
ok = set(sys.argv[2].split(","))
pairs = c.range_all(b"", b"", 100000)
assert len(pairs) == 6000, len(pairs)
for i, (k, v) in enumerate(pairs):
    assert k == b"key%05d" % i, k
    assert v[:4].decode() in ok, (k, v)
for i in range(0, 6000, 7):
    assert c.get(b"key%05d" % i)[:4].decode() in ok
PY

check "12 rounds of random rewrites" kvpy "$T/kv.sock" 1 12 <"$T/rounds.py"
check "every key has its last value" kvpy "$T/kv.sock" r012 <"$T/verify.py"
segs=$(ls "$T/data" | grep -c '^seg-')
bytes=$(du -sk "$T/data" | cut -f1)
log "segments: $segs, data directory: $bytes KiB"
check "the first segments were cleaned away" \
    [ ! -e "$T/data/seg-00000001" ] && [ ! -e "$T/data/seg-00000002" ]
# 6000 pairs of ~56 bytes in 1 KiB pages: well under 1 MiB of tree.
check "the data directory stays bounded" [ "$bytes" -lt 4096 ]
kill -USR1 "$KPID"
wait_until 5 grep -q "evicted" "$T/kvlds.log"
check "SIGUSR1 reports evictions" \
    grep -Eq "[1-9][0-9]* evicted" "$T/kvlds.log"
check "SIGUSR1 reports freed segments" \
    grep -Eq "[1-9][0-9]* segments freed" "$T/kvlds.log"

# A kill -9 while rewriting (and cleaning): everything acknowledged
# survives, and the store keeps cleaning after the restart.
kvpy "$T/kv.sock" 13 40 <"$T/rounds.py" >"$T/storm.out" 2>&1 &
SPID=$!
PIDS="$PIDS $SPID"
wait_until 30 grep -q "round 15 acknowledged" "$T/storm.out"
kill -9 "$KPID"
wait "$KPID" 2>/dev/null
wait "$SPID" 2>/dev/null
last=$(sed -n 's/^round \([0-9]*\) acknowledged/\1/p' "$T/storm.out" | tail -n 1)
log "killed after round $last was acknowledged"
start kvlds2 "$KVLDS" -F -s "$T/kv.sock" -d "$T/data" -b 1024 -c 64k -S 1
KPID=$LASTPID
wait_socket "$T/kv.sock"
check "after kill -9: every key from round $last or the next" \
    kvpy "$T/kv.sock" "$(printf 'r%03d,r%03d' "$last" $((last + 1)))" \
    <"$T/verify.py"
check "rewrites go on after the restart" kvpy "$T/kv.sock" 41 44 <"$T/rounds.py"
check "every key has its last value" kvpy "$T/kv.sock" r044 <"$T/verify.py"
stop "$KPID"
check "clean exit" [ $? = 0 ]
