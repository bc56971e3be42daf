#!/bin/bash
# 306-kvlds-pagesizes: odd page sizes (1000, 1023, 1025, 1100): keys and
# values as long as PARAMS allows, enough of them to split pages, RANGE
# over all of them, deletes, and a restart.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

for b in 1000 1023 1025 1100; do
	start kvlds$b "$KVLDS" -F -s "$T/kv$b.sock" -d "$T/data$b" -b $b
	KPID=$LASTPID
	wait_socket "$T/kv$b.sock"
	check "-b $b: fill" kvpy "$T/kv$b.sock" <<'EOF'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
mk, mv = c.params()
assert 16 <= mk <= 255 and 16 <= mv <= 255, (mk, mv)
N = 1500
def key(i):
    return (b"%06d" % i) + b"k" * (mk - 6) if i % 3 == 0 else b"%06d" % i
def val(i):
    return (b"v%d" % i).ljust(mv if i % 2 else i % 37, b"-")[:mv]
ids = c.send_many([kv.req_set(key(i), val(i)) for i in range(N)])
assert all(kv.parse_status(r) == 0 for r in c.collect(ids).values())
ids = c.send_many([kv.req_delete(key(i)) for i in range(0, N, 5)])
c.collect(ids)
ids = c.send_many([kv.req_get(key(i)) for i in range(N)])
got = c.collect(ids)
for i in range(N):
    assert kv.parse_get(got[ids[i]]) == (None if i % 5 == 0 else val(i)), i
allp = c.range_all(b"", b"", 2000)
want = [(key(i), val(i)) for i in range(N) if i % 5]
assert allp == want, (len(allp), len(want))
EOF
	stop "$KPID"
	check "-b $b: clean exit" [ $? = 0 ]
	start kvlds$b-2 "$KVLDS" -F -s "$T/kv$b.sock" -d "$T/data$b" -b $b
	KPID=$LASTPID
	wait_socket "$T/kv$b.sock"
	check "-b $b: after restart" kvpy "$T/kv$b.sock" <<'EOF'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
mk, mv = c.params()
allp = c.range_all(b"", b"", 300)
assert len(allp) == 1200, len(allp)
assert [int(k[:6]) for k, _ in allp] == [i for i in range(1500) if i % 5]
EOF
	stop "$KPID"
done
