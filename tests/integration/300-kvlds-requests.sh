#!/bin/bash
# 300-kvlds-requests: every request type and every status, PARAMS, RANGE
# bounds and pagination, then a clean SIGTERM (exit 0).
# smoke
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
KPID=$LASTPID
wait_socket "$T/kv.sock"
check "socket is mode 0600" [ "$(stat -c %a "$T/kv.sock")" = 600 ]

check "requests" kvpy "$T/kv.sock" <<'EOF'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
assert c.params() == (255, 255), c.params()
assert c.get(b"a") is None
assert c.set(b"a", b"1") == 0
assert c.get(b"a") == b"1"
assert c.set(b"a", b"") == 0 and c.get(b"a") == b""
assert c.set(b"", b"empty key") == 0 and c.get(b"") == b"empty key"
# ADD: 0 added, 1 existed
assert c.add(b"b", b"2") == 0 and c.add(b"b", b"x") == 1
assert c.get(b"b") == b"2"
# MODIFY: 0 replaced, 1 absent
assert c.modify(b"b", b"3") == 0 and c.get(b"b") == b"3"
assert c.modify(b"nope", b"x") == 1 and c.get(b"nope") is None
# CAS: 0 replaced, 1 not (wrong old value, absent key)
assert c.cas(b"b", b"wrong", b"4") == 1 and c.get(b"b") == b"3"
assert c.cas(b"b", b"3", b"4") == 0 and c.get(b"b") == b"4"
assert c.cas(b"absent", b"", b"x") == 1 and c.get(b"absent") is None
# CAD: 0 deleted, 1 not
assert c.cad(b"b", b"wrong") == 1 and c.get(b"b") == b"4"
assert c.cad(b"b", b"4") == 0 and c.get(b"b") is None
assert c.cad(b"b", b"4") == 1
# DELETE: always 0
assert c.delete(b"a") == 0 and c.get(b"a") is None
assert c.delete(b"a") == 0
# Longest key and value.
K, V = b"k" * 255, b"v" * 255
assert c.set(K, V) == 0 and c.get(K) == V
assert c.delete(K) == 0 and c.delete(b"") == 0

# RANGE: start <= key < end, key order, pagination by max bytes.
keys = [b"r%03d" % i for i in range(200)]
for k in keys:
    assert c.set(k, k + b"-value") == 0
nxt, pairs = c.range(b"r010", b"r020", 1 << 20)
assert [k for k, _ in pairs] == keys[10:20] and nxt == b"", (nxt, pairs)
assert all(v == k + b"-value" for k, v in pairs)
# max bytes 0 returns exactly one pair, and next follows it.
nxt, pairs = c.range(b"r050", b"", 0)
assert len(pairs) == 1 and pairs[0][0] == b"r050" and nxt == b"r051", (nxt, pairs)
# Budget: each pair costs 2 + 4 + 10 = 16 bytes.
nxt, pairs = c.range(b"r000", b"r200", 16 * 7)
assert len(pairs) == 7 and nxt == b"r007", (nxt, len(pairs))
nxt, pairs = c.range(b"r000", b"r200", 16 * 7 + 15)
assert len(pairs) == 7 and nxt == b"r007"
# Empty range, range past the end.
nxt, pairs = c.range(b"r0105", b"r0106", 100)
assert pairs == [] and nxt == b""
nxt, pairs = c.range(b"zzz", b"", 100)
assert pairs == [] and nxt == b""
# Pagination over everything returns every key once, in order.
allp = c.range_all(b"", b"", 100)
assert [k for k, _ in allp] == keys, len(allp)
allp = c.range_all(b"r100", b"r150", 50)
assert [k for k, _ in allp] == keys[100:150]
EOF

kill -USR1 "$KPID"
check "SIGUSR1 logs statistics" \
    wait_until 10 grep -q "modifying, [0-9]* commits" "$T/kvlds.log"
stop "$KPID"
rc=$?
check "SIGTERM exits 0" [ "$rc" = 0 ]
check "socket removed at exit" [ ! -e "$T/kv.sock" ]

# Daemon mode: returns once listening, pid file <socket>.pid by default.
check "daemonize" "$KVLDS" -s "$T/kv2.sock" -d "$T/data"
check "default pid file" [ -s "$T/kv2.sock.pid" ]
DPID=$(cat "$T/kv2.sock.pid")
PIDS="$PIDS $DPID"
check "daemon serves" kvpy "$T/kv2.sock" <<'EOF'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
assert c.get(b"r199") == b"r199-value"
EOF
kill -TERM "$DPID"
wait_until 10 eval "! alive $DPID" || fail "daemon did not exit"
check "pid file removed" [ ! -e "$T/kv2.sock.pid" ]
