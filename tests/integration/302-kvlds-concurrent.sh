#!/bin/bash
# 302-kvlds-concurrent: 64 connections at once, each writing its own keys
# and reading every one back after the write is acknowledged.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
wait_socket "$T/kv.sock"

check "64 connections, read after write" kvpy "$T/kv.sock" <<'EOF'
import sys, threading, kvclient as kv
path = sys.argv[1]
errors = []

def worker(n):
    try:
        c = kv.Conn(path)
        for i in range(60):
            k = b"c%02d-%03d" % (n, i)
            v = b"%d:%d:" % (n, i) + b"z" * (i % 50)
            if i % 3 == 0:
                # Pipelined pair: the SET's answer comes before the GET.
                ids = c.send_many([kv.req_set(k, v)])
                assert kv.parse_status(c.wait(ids[0])) == 0
            else:
                assert c.set(k, v) == 0
            got = c.get(k)
            assert got == v, (k, got, v)
            if i % 7 == 0:
                assert c.cas(k, v, b"new") == 0
                assert c.get(k) == b"new"
        mine = c.range_all(b"c%02d-" % n, b"c%02d." % n, 300)
        assert len(mine) == 60, len(mine)
        c.close()
    except Exception as e:
        errors.append("worker %d: %r" % (n, e))

ts = [threading.Thread(target=worker, args=(n,)) for n in range(64)]
for t in ts:
    t.start()
for t in ts:
    t.join()
if errors:
    print("\n".join(errors))
    sys.exit(1)
c = kv.Conn(path)
assert len(c.range_all(b"", b"", 4096)) == 64 * 60
EOF
