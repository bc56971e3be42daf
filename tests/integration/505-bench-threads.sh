#!/bin/bash
# 505-bench-threads: every closed-loop workload and kvlds-bench with
# -T 2 against a null server (itself with 2 threads) for a short run:
# per-second lines, the client-cpu line and a positive integer last;
# kvlds-bench's merged series add up to its total.  -T is refused where
# it means nothing (bulk_insert, tokyo).  --passphrase reaches an
# encrypted endpoint with a passphrase-protected key file.
# smoke
. "$(dirname "$0")/../lib.sh"

N=65536
KB=$BIN_DIR_ABS/perftests/kvlds-bench/kvlds-bench
for p in random_read random_mixed bulk_update hotspot_read bulk_extract \
    bulk_insert tokyo nullserver; do
	[ -x "$(bin $p)" ] || fail "$p is not built"
done
[ -x "$KB" ] || fail "kvlds-bench is not built"

# format FILE: the output of a workload run: "[w]S RATE" lines, then
# "client-cpu P%", then a positive integer.
format() {
	python3 - "$1" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().split('\n')
if lines and lines[-1] == '':
    lines.pop()
assert len(lines) >= 3, lines
secs = lines[:-2]
assert all(re.fullmatch(r'w?\d+ \d+', l) for l in secs), secs
assert any(not l.startswith('w') for l in secs), secs
assert re.fullmatch(r'client-cpu \d+\.\d%', lines[-2]), lines[-2]
assert re.fullmatch(r'\d+', lines[-1]) and int(lines[-1]) > 0, lines[-1]
EOF
}

start nullserver "$(bin nullserver)" -T 2 -s "$T/null.sock"
wait_socket "$T/null.sock"
S=$T/null.sock

check "nullserver --help names -T" sh -c \
    "'$(bin nullserver)' --help | grep -q -- '-T'"
for t in random_read random_mixed bulk_update hotspot_read bulk_extract; do
	check "$t --help documents -T" sh -c \
	    "'$(bin $t)' --help | grep -q -- '--threads N'"
	"$(bin $t)" -T 2 --warmup 1 --seconds 1 "$S" $N >"$T/$t.out" ||
	    fail "$t -T 2"
	check "$t -T 2: output format" format "$T/$t.out"
done
# More threads than requests in flight still runs (one each).
"$(bin random_read)" -T 3 --inflight 2 --warmup 0 --seconds 1 "$S" $N \
    >"$T/few.out" || fail "random_read -T 3 --inflight 2"
check "random_read -T 3 --inflight 2: output format" format "$T/few.out"

for t in bulk_insert tokyo; do
	if "$(bin $t)" -T 2 "$S" </dev/null >/dev/null 2>&1; then
		fail "$t accepted -T"
	fi
done

"$KB" -t "$S" -T 2 -c 3 --mix get=80,set=20 -d 2 --no-progress \
    --json "$T/kb.json" >"$T/kb.out" || fail "kvlds-bench -T 2"
check "kvlds-bench -T 2: series, totals and no errors" python3 -c "
import json, sys
d = json.load(open(sys.argv[1])); s = d['summary']
assert s['requests'] > 0 and s['errors'] == 0, s
assert len(d['series']) >= 2, d['series']
rec = sum(x['requests'] for x in d['series'] if not x.get('warmup'))
assert abs(rec - s['requests']) <= 0.25 * s['requests'], (rec, s['requests'])
" "$T/kb.json"
"$KB" -t "$S" -T 2 -n 5001 --no-progress --json "$T/kbn.json" \
    >/dev/null || fail "kvlds-bench -T 2 -n 5001"
check "kvlds-bench -T 2 -n 5001 sends exactly 5001" python3 -c "
import json, sys
sys.exit(json.load(open(sys.argv[1]))['summary']['requests'] != 5001)" \
    "$T/kbn.json"

# --passphrase: a passphrase-protected key file, through kvlds's native
# encrypted listener (when kvlds has one).
KVLDS=$(bin kvlds)
KG=$(bin spiped-keygen)
if [ -x "$KVLDS" ] && [ -x "$KG" ] &&
    "$KVLDS" --help 2>&1 | grep -q -- '--passphrase'; then
	export KVPW='bench key passphrase'
	"$KG" --passphrase env:KVPW --target-time 0.05 --target-memory 4M \
	    "$T/enc.key" 2>/dev/null || fail "spiped-keygen"
	P=$(free_port)
	start kvlds "$KVLDS" -F -s "$T/kv.sock" -s "127.0.0.1:$P" \
	    -d "$T/data" -K "$T/enc.key" --passphrase env:KVPW
	wait_socket "$T/kv.sock" 20
	wait_port "$P"
	"$(bin random_read)" -K "$T/enc.key" --passphrase env:KVPW \
	    --warmup 0 --seconds 1 "127.0.0.1:$P" 1000 >"$T/enc.out" ||
	    fail "random_read -K --passphrase"
	check "random_read -K --passphrase: output format" format "$T/enc.out"
	"$KB" -t "127.0.0.1:$P" -K "$T/enc.key" --passphrase env:KVPW \
	    -T 2 -d 1 --no-progress >"$T/kbenc.out" ||
	    fail "kvlds-bench -K --passphrase"
	export KVBAD=guess
	if "$(bin random_read)" -K "$T/enc.key" --passphrase env:KVBAD \
	    --warmup 0 --seconds 1 "127.0.0.1:$P" 1000 >/dev/null \
	    2>"$T/bad.err"; then
		fail "random_read ran with a wrong passphrase"
	fi
	check "wrong passphrase: message" grep -q "wrong passphrase" \
	    "$T/bad.err"
else
	log "kvlds without an encrypted listener: --passphrase not tested"
fi
exit 0
