#!/bin/bash
# 308-kvlds-once: -1 exits (status 0) after the first connection closes,
# once its answers are out; -n bounds the connections served at once.
# smoke
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

start kvlds "$KVLDS" -F -1 -s "$T/kv.sock" -d "$T/data"
KPID=$LASTPID
# Not wait_socket: its probe would be the one connection.
wait_until 10 grep -q "serving on" "$T/kvlds.log" || fail "kvlds -1 not ready"
check "first connection" kvpy "$T/kv.sock" <<'EOF'
import socket, sys, kvclient as kv
c = kv.Conn(sys.argv[1])
ids = c.send_many([kv.req_set(b"once%d" % i, b"x") for i in range(100)])
# Half-close: the daemon still answers everything sent.
c.s.shutdown(socket.SHUT_WR)
got = c.collect(ids)
assert all(kv.parse_status(r) == 0 for r in got.values())
assert c.is_closed(5)
EOF
wait_until 10 eval "! alive $KPID" || fail "kvlds -1 still running"
wait "$KPID"
check "exit status 0" [ $? = 0 ]

start kvlds2 "$KVLDS" -F -n 2 -s "$T/kv.sock" -d "$T/data"
wait_socket "$T/kv.sock"
check "-n 2" kvpy "$T/kv.sock" <<'EOF'
import sys, kvclient as kv
path = sys.argv[1]
# wait_socket's probe connection may still be closing: settle first.
a = kv.Conn(path)
b = kv.Conn(path)
assert a.get(b"once99") == b"x" and b.get(b"once0") == b"x"
c = kv.Conn(path)          # queued by the kernel, not served
rid = c.send(kv.req_get(b"once1"))
assert not c.is_closed(0.5) and rid not in c.got and c.buf == b""
a.close()                  # frees a slot: c is served now
assert kv.parse_get(c.wait(rid)) == b"x"
EOF
