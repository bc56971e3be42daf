#!/bin/bash
# 301-kvlds-pipeline: thousands of requests sent in single writes, answers
# matched by ID; packets split at every byte boundary; mutations of one
# connection on one key keep their order.
# smoke
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
wait_socket "$T/kv.sock"

check "pipelined" kvpy "$T/kv.sock" <<'EOF'
import sys, time, kvclient as kv
c = kv.Conn(sys.argv[1])
N = 5000
ids = c.send_many([kv.req_set(b"p%05d" % i, b"v%d" % i) for i in range(N)])
got = c.collect(ids)
assert all(kv.parse_status(r) == 0 for r in got.values())
ids = c.send_many([kv.req_get(b"p%05d" % i) for i in range(N)])
got = c.collect(ids)
for n, i in enumerate(ids):
    assert kv.parse_get(got[i]) == b"v%d" % n
# Same key, same connection: the last SET wins, ADD/CAS see the order.
recs = [kv.req_set(b"order", b"%d" % i) for i in range(1000)]
recs.append(kv.req_cas(b"order", b"999", b"final"))
recs.append(kv.req_add(b"order", b"x"))
ids = c.send_many(recs)
got = c.collect(ids)
assert kv.parse_status(got[ids[-2]]) == 0
assert kv.parse_status(got[ids[-1]]) == 1
assert c.get(b"order") == b"final"
# A mix of every type in one write.
recs = [kv.req_set(b"m1", b"a"), kv.req_add(b"m2", b"b"),
        kv.req_modify(b"m1", b"c"), kv.req_cas(b"m2", b"b", b"d"),
        kv.req_delete(b"p00000"), kv.req_cad(b"m2", b"d"),
        kv.req_get(b"p00001"), kv.req_range(b"p", b"q", 100),
        kv.req_params()]
ids = c.send_many(recs)
got = c.collect(ids)
assert [kv.parse_status(got[i]) for i in ids[:6]] == [0, 0, 0, 0, 0, 0]
assert kv.parse_get(got[ids[6]]) == b"v1"
assert c.get(b"m1") == b"c" and c.get(b"m2") is None
# Packets dribbled one byte at a time, with pauses.
data = b"".join(kv.packet(100000 + i, kv.req_set(b"d%d" % i, b"x" * i))
                for i in range(20))
for j in range(len(data)):
    c.sendraw(data[j:j + 1])
    if j % 97 == 0:
        time.sleep(0.001)
got = c.collect(range(100000, 100020))
assert all(kv.parse_status(r) == 0 for r in got.values())
assert c.get(b"d19") == b"x" * 19
EOF
