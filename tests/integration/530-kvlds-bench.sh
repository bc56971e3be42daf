#!/bin/bash
# 530-kvlds-bench: kvlds-bench's options and outputs against the null
# server (and kvlds when built): every distribution, the full request
# mix, a request count, several connections, CSV/JSON/plot files.
# smoke
. "$(dirname "$0")/../lib.sh"

B=$BIN_DIR_ABS/perftests/kvlds-bench/kvlds-bench
[ -x "$B" ] || fail "kvlds-bench is not built"
check "--help" "$B" --help
if "$B" -t "$T/x.sock" --mix bogus=1 >/dev/null 2>&1; then
	fail "a bad --mix was accepted"
fi

start nullserver "$(bin nullserver)" -s "$T/null.sock"
wait_socket "$T/null.sock"
S="$T/null.sock"
MIX=get=30,set=20,add=10,modify=10,delete=10,cas=5,cad=5,range=10

# ok JSON: requests > 0 and no errors in a JSON report.
ok() {
	python3 -c "
import json,sys; d=json.load(open(sys.argv[1])); s=d['summary']
sys.exit(not (s['requests'] > 0 and s['errors'] == 0 and
    s['latency_ms']['p50'] <= s['latency_ms']['p99'] <= s['latency_ms']['max']))" "$1"
}

for d in uniform sequential hotspot:0.05:0.8 zipf:0.9; do
	"$B" -t "$S" --dist $d --mix $MIX -d 1 --no-progress \
	    --json "$T/$d.json" >"$T/$d.out" || fail "kvlds-bench --dist $d"
	check "--dist $d: requests, no errors" ok "$T/$d.json"
done

"$B" -t "$S" -n 5000 -c 3 --inflight 8 --key-size 12 --value-size 200 \
    --no-progress --json "$T/n.json" >"$T/n.out" || fail "kvlds-bench -n"
check "-n 5000 sends exactly 5000 requests" python3 -c "
import json,sys; sys.exit(json.load(open(sys.argv[1]))['summary']['requests'] != 5000)" \
    "$T/n.json"

"$B" -t "$S" --rate 2000 -d 2 -c 2 --no-progress --csv "$T/r.csv" \
    --plot "$T/r.png" >"$T/r.out" || fail "kvlds-bench --rate with --csv --plot"
check "CSV has the series and the histogram" python3 -c "
import sys
blocks=[b for b in open(sys.argv[1]).read().split('\n\n\n') if b.strip()]
assert len(blocks) == 2
assert blocks[0].startswith('second,requests') and blocks[1].startswith('lower_ms')
assert len(blocks[0].splitlines()) >= 3 and len(blocks[1].splitlines()) >= 2" "$T/r.csv"
check "open loop keeps its rate (2000/s within 10 %)" python3 -c "
import re,sys
r=float(re.search(r'throughput: (\d+) requests/s', open(sys.argv[1]).read()).group(1))
sys.exit(not 1800 <= r <= 2200)" "$T/r.out"
check "--plot wrote a PNG" python3 -c "
import sys; sys.exit(open(sys.argv[1],'rb').read(8) != b'\x89PNG\r\n\x1a\n')" "$T/r.png"

if [ -x "$(bin kvlds)" ]; then
	mkdir "$T/data"
	start kvlds "$(bin kvlds)" -F -s "$T/kv.sock" -d "$T/data"
	wait_socket "$T/kv.sock" 20
	"$B" -t "$T/kv.sock" --mix $MIX --keys 1000 -d 1 -c 2 --no-progress \
	    --json "$T/kv.json" >"$T/kv.out" || fail "kvlds-bench against kvlds"
	cat "$T/kv.out"
	check "against kvlds: requests, no errors" ok "$T/kv.json"
fi
exit 0
