#!/bin/bash
# 303-kvlds-restart: SIGTERM answers the batch in progress and exits 0;
# a restart keeps everything acknowledged; a commit delay (-w) holds
# answers until the commit; -g forces the commit early.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

# A long commit delay: mutations are applied but not committed when the
# SIGTERM comes; it must commit them, answer them, then exit 0.
start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data" -w 30
KPID=$LASTPID
wait_socket "$T/kv.sock"
check "SIGTERM commits and answers the pending batch" \
    kvpy "$T/kv.sock" "$KPID" <<'EOF'
import os, signal, sys, time, kvclient as kv
c = kv.Conn(sys.argv[1])
ids = c.send_many([kv.req_set(b"t%03d" % i, b"v%d" % i) for i in range(300)])
# The GET is answered at once, after the SETs were applied (same
# connection, arrival order): they are not committed yet.
assert c.call(kv.req_get(b"t000")) == b"\0\0\0\1"
for i in ids:
    assert i not in c.got
t0 = time.time()
os.kill(int(sys.argv[2]), signal.SIGTERM)
got = c.collect(ids)
assert all(kv.parse_status(r) == 0 for r in got.values())
assert time.time() - t0 < 10
assert c.is_closed(10)
EOF
wait "$KPID"
rc=$?
check "exit status 0 after SIGTERM" [ "$rc" = 0 ]

start kvlds2 "$KVLDS" -F -s "$T/kv.sock" -d "$T/data" -w 0.2 -g 50
KPID=$LASTPID
wait_socket "$T/kv.sock"
check "restart keeps the acknowledged batch" kvpy "$T/kv.sock" <<'EOF'
import sys, time, kvclient as kv
c = kv.Conn(sys.argv[1])
for i in range(300):
    assert c.get(b"t%03d" % i) == b"v%d" % i, i
# -w 0.2: a lone SET waits for the delay.
t0 = time.time()
assert c.set(b"late", b"1") == 0
assert time.time() - t0 >= 0.15, time.time() - t0
# -g 50: fifty pending mutations commit without waiting.
ids = c.send_many([kv.req_set(b"g%02d" % i, b"x") for i in range(50)])
t0 = time.time()
c.collect(ids)
assert time.time() - t0 < 0.15, time.time() - t0
ids = c.send_many([kv.req_set(b"u%03d" % i, b"%d" % i) for i in range(100)])
c.collect(ids)
assert c.delete(b"t005") == 0
EOF
stop "$KPID"
check "clean exit" [ $? = 0 ]

start kvlds3 "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
KPID=$LASTPID
wait_socket "$T/kv.sock"
check "second restart" kvpy "$T/kv.sock" <<'EOF'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
assert c.get(b"t005") is None and c.get(b"t006") == b"v6"
assert c.get(b"late") == b"1" and c.get(b"u099") == b"99"
assert len(c.range_all(b"", b"", 1000)) == 299 + 1 + 50 + 100
EOF
