#!/bin/bash
# 411-dump-snapshot: a dump taken while writes continue is one commit's
# state.  A writer rewrites keys k0000..k9999 in key order, round after
# round, each value starting with its round number; in any one commit the
# round numbers are non-increasing in key order (a prefix of round g+1,
# then round g).  Several dumps taken while it runs carry the snapshot
# flag and never break that; after the writer stops, a dump undumped into
# a fresh store gives the store's exact RANGE listing.  Also: snapshots
# through the raw protocol (an unknown ID is status 1, a closed one too,
# a snapshot is private to its connection), and --no-snapshot dumps with
# the flag clear (whether that walk broke the invariant is only noted: it
# depends on timing).
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
DUMP=$(bin kvlds-dump)
UNDUMP=$(bin kvlds-undump)
[ -x "$KVLDS" ] || skip "kvlds not built"
for p in "$CLI" "$DUMP" "$UNDUMP"; do [ -x "$p" ] || fail "$p not built"; done
command -v python3 >/dev/null || skip "python3 not installed"

# Small segments, so that the cleaner runs (and must keep what a snapshot
# pins) while the writer rewrites everything round after round.
export KVLDS_SEGMENT_SIZE=262144
start kvlds1 "$KVLDS" -F -s "$T/kv1.sock" -d "$T/data1" -S 1
start kvlds2 "$KVLDS" -F -s "$T/kv2.sock" -d "$T/data2"
wait_socket "$T/kv1.sock"
wait_socket "$T/kv2.sock"

# round R: the batch that sets every key to round R (230-byte values, so
# that a dump takes several RANGE requests).
PAD=$(head -c 224 /dev/zero | tr '\0' x)
round() {
	awk -v r="$1" -v pad="$PAD" 'BEGIN {
		for (i = 0; i < 10000; i++)
			printf "set k%04d %06d%s\n", i, r, pad;
	}'
}
round 0 | "$CLI" -t "$T/kv1.sock" batch >/dev/null
check "round 0 stored" [ "$("$CLI" -t "$T/kv1.sock" range | wc -l)" = 10000 ]

# The writer: rounds 1, 2, ... until $T/stop exists.
writer() {
	local r=1
	while [ ! -e "$T/stop" ]; do
		round $r | "$CLI" -t "$T/kv1.sock" batch >/dev/null || return 1
		echo $r >"$T/rounds"
		r=$((r + 1))
	done
}
writer &
WPID=$!
PIDS="$PIDS $WPID"
wait_until 30 test -s "$T/rounds" || fail "writer made no round"

# verify FILE: the dump's flag, its 10,000 pairs, and the invariant.
cat >"$T/verify.py" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"KVLDSDMP", "magic"
flags = struct.unpack(">I", d[12:16])[0]
p, prev, keys, bad, rounds = 32, None, 0, 0, set()
while d[p] == 1:
    kl = d[p + 1]; k = d[p + 2:p + 2 + kl]; p += 2 + kl
    vl = d[p]; v = d[p + 1:p + 1 + vl]; p += 1 + vl
    r = int(v[:6]); rounds.add(r); keys += 1
    if prev is not None and r > prev:
        bad += 1
    prev = r
print(flags, keys, bad, len(rounds))
EOF

i=0
snapbad=0
while [ $i -lt 6 ]; do
	"$DUMP" -t "$T/kv1.sock" "$T/d$i.kvdump" 2>"$T/dump$i.err" ||
	    fail "dump $i: $(cat "$T/dump$i.err")"
	read -r flags keys bad nrounds < <(python3 "$T/verify.py" "$T/d$i.kvdump")
	log "snapshot dump $i: flags $flags, $keys pairs, $nrounds rounds," \
	    "$bad increases (writer at round $(cat "$T/rounds"))"
	[ "$flags" = 1 ] || fail "dump $i: snapshot flag not set"
	[ "$keys" = 10000 ] || fail "dump $i: $keys pairs"
	snapbad=$((snapbad + bad))
	i=$((i + 1))
done
check "snapshot dumps: round numbers never increase in key order" \
    [ "$snapbad" = 0 ]
check "no warning from the snapshot dumps" \
    [ -z "$(cat "$T"/dump?.err)" ]

# The same walk without a snapshot: flag clear; breakage only noted.
"$DUMP" -t "$T/kv1.sock" --no-snapshot "$T/plain.kvdump" ||
    fail "--no-snapshot dump"
read -r flags keys bad nrounds < <(python3 "$T/verify.py" "$T/plain.kvdump")
check "--no-snapshot: flag clear" [ "$flags" = 0 ]
log "note: the plain RANGE dump saw $nrounds rounds, $bad increases"

# Snapshots through the raw protocol, while the writer still runs.
PYTHONPATH="$TOP/tests" python3 - "$T/kv1.sock" >"$T/raw.out" 2>&1 <<'EOF'
import struct, sys, time, kvclient as kv

class C(kv.Conn):
    def __init__(s):
        kv.Conn.__init__(s, sys.argv[1])
    def req(s, rec):
        return s.call(rec)

def rng(c, sid, start=b"", end=b"", mb=1 << 20):
    return c.req(struct.pack(">IQI", 0x201, sid, mb) + bytes([len(start)])
        + start + bytes([len(end)]) + end)

a, b = C(), C()
r = a.req(struct.pack(">I", 0x200)); assert len(r) == 12 and r[:4] == b"\0\0\0\0", r
sid = struct.unpack(">Q", r[4:])[0]
r1 = rng(a, sid, b"k0000", b"k0100")
assert r1[:4] == b"\0\0\0\0" and struct.unpack(">I", r1[4:8])[0] == 100, r1[:12]
# Wait until the live store has moved on from what the snapshot shows.
live = lambda: b.req(struct.pack(">II", 0x131, 1 << 20) + b"\x05k0000\x05k0100")
end = time.time() + 20
while live() == r1:
    assert time.time() < end, "the writer made no progress"
    time.sleep(0.01)
assert rng(a, sid, b"k0000", b"k0100") == r1, "snapshot changed"
assert rng(b, sid) == b"\0\0\0\1", "another connection's snapshot"
assert rng(a, sid + 12345) == b"\0\0\0\1", "unknown id"
assert a.req(struct.pack(">IQ", 0x202, sid)) == b"\0\0\0\0"
assert rng(a, sid) == b"\0\0\0\1", "closed snapshot"
assert a.req(struct.pack(">IQ", 0x202, sid)) == b"\0\0\0\0", "close twice"
# The per-connection limit answers status 1, and never drops us.
ids = []
for _ in range(40):
    r = b.req(struct.pack(">I", 0x200))
    if r == b"\0\0\0\1":
        break
    ids.append(struct.unpack(">Q", r[4:])[0])
assert 0 < len(ids) < 40, len(ids)
# Whole walks in small requests (about 600 each, spanning many commits):
# through a fresh snapshot the round numbers never increase in key order;
# a plain RANGE walk is only counted (it usually does break the rule).
def walk(snap):
    c = C()
    if snap:
        r = c.req(struct.pack(">I", 0x200)); assert r[:4] == b"\0\0\0\0"
        sid = struct.unpack(">Q", r[4:])[0]
    start, prev, n, bad, rounds = b"", None, 0, 0, set()
    while True:
        if snap:
            r = rng(c, sid, start, b"", 4096)
        else:
            r = c.req(struct.pack(">II", 0x131, 4096) + bytes([len(start)])
                + start + b"\0")
        st, cnt = struct.unpack(">II", r[:8]); assert st == 0
        p = 8; nl = r[p]; nxt = r[p + 1:p + 1 + nl]; p += 1 + nl
        for _ in range(cnt):
            kl = r[p]; p += 1 + kl; vl = r[p]; v = r[p + 1:p + 1 + vl]
            p += 1 + vl
            g = int(v[:6]); rounds.add(g); n += 1
            if prev is not None and g > prev:
                bad += 1
            prev = g
        if not nxt:
            break
        start = nxt
    c.close()
    return n, bad, len(rounds)
n, bad, nr = walk(True)
assert n == 10000 and bad == 0, (n, bad, nr)
print("snapshot walk: %d pairs, %d rounds, %d increases" % (n, nr, bad))
n, bad, nr = walk(False)
print("plain walk: %d pairs, %d rounds, %d increases" % (n, nr, bad))
print("raw ok", len(ids))
EOF
[ $? = 0 ] || fail "raw: $(cat "$T/raw.out")"
check "raw protocol: snapshot stable, private, closable, bounded" \
    grep -q "raw ok" "$T/raw.out"
log "$(grep walk "$T/raw.out" | tr '\n' ';')"

# Stop the writer; a final dump restores the exact listing.
touch "$T/stop"
wait $WPID || fail "writer failed"
log "writer made $(cat "$T/rounds") rounds"
"$DUMP" -t "$T/kv1.sock" "$T/final.kvdump" || fail "final dump"
"$UNDUMP" -t "$T/kv2.sock" "$T/final.kvdump" || fail "undump"
"$CLI" -t "$T/kv1.sock" -x range >"$T/list1"
"$CLI" -t "$T/kv2.sock" -x range >"$T/list2"
check "undumped store: identical RANGE listing" cmp "$T/list1" "$T/list2"
check "kvlds logged no store error" \
    [ -z "$(grep -i 'error\|damaged' "$T/kvlds1.log")" ]
# A server that drops the connection on the unknown type, as kivaloo
# does: the dump fails naming the problem and leaves no file;
# --no-snapshot dumps it, flag clear.  (The stand-in serves one
# connection at a time, PARAMS, and a one-pair RANGE.)
cat >"$T/fake.py" <<'EOF'
import socket, struct, sys, kvclient as kv
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
def serve(c):
    buf = b""
    while True:
        d = c.recv(4096)
        if not d:
            return
        buf += d
        while len(buf) >= 16:
            i, l = struct.unpack(">QI", buf[:12])
            if len(buf) < 20 + l:
                break
            rec = buf[16:16 + l]; buf = buf[20 + l:]
            t = struct.unpack(">I", rec[:4])[0]
            if t == 0x100:
                c.sendall(kv.packet(i, struct.pack(">II", 255, 255)))
            elif t == 0x131:
                c.sendall(kv.packet(i, struct.pack(">II", 0, 1) + b"\0" +
                    b"\1a\0010"))
            else:
                return
while True:
    c, _ = s.accept()
    serve(c)
    c.close()
EOF
start fake1 env PYTHONPATH="$TOP/tests" python3 "$T/fake.py" "$T/fake1.sock"
wait_socket "$T/fake1.sock"
"$DUMP" -t "$T/fake1.sock" "$T/k.kvdump" 2>"$T/kerr"
check "kivaloo-like server: dump fails" [ $? = 1 ]
check "kivaloo-like server: the message names the problem" \
    grep -q "dropped the connection on SNAPSHOT_OPEN.*--no-snapshot" "$T/kerr"
check "kivaloo-like server: no file left" [ -z "$(ls "$T" | grep k.kvdump)" ]
"$DUMP" -t "$T/fake1.sock" --no-snapshot "$T/k.kvdump"
check "kivaloo-like server: --no-snapshot dumps" [ $? = 0 ]
read -r flags keys bad nrounds < <(python3 "$T/verify.py" "$T/k.kvdump")
check "kivaloo-like server: one pair, flag clear" [ "$flags $keys" = "0 1" ]
exit 0
