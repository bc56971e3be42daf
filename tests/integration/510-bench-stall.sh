#!/bin/bash
# 510-bench-stall: kvlds-bench's open loop reports a stalled server.
# The null server is paused (SIGSTOP) for 2 s in the middle of a 10 s run.
# Open loop (fixed rate, latency from the intended send time): the
# reported max must be >= 2 s and p99 >= 1 s.  Closed loop under the same
# stall: only the few requests in flight wait, so p99 stays far below.
. "$(dirname "$0")/../lib.sh"

# (bin() maps kvlds-* names to kvlds/; this one lives in perftests/.)
B=$BIN_DIR_ABS/perftests/kvlds-bench/kvlds-bench
[ -x "$B" ] || fail "kvlds-bench is not built"
[ -x "$(bin nullserver)" ] || fail "nullserver is not built"

start nullserver "$(bin nullserver)" -s "$T/null.sock"
NULLPID=$LASTPID
wait_socket "$T/null.sock"

# stall_run NAME ARGS...: run kvlds-bench for 10 s, pausing the server
# from second 3 to second 5 (the pause is the scenario, not a wait).
stall_run() {
	local name=$1 bpid; shift
	"$B" -t "$T/null.sock" -d 10 --no-progress --json "$T/$name.json" \
	    "$@" >"$T/$name.out" 2>&1 &
	bpid=$!
	sleep 3
	kill -STOP "$NULLPID"
	sleep 2
	kill -CONT "$NULLPID"
	wait "$bpid" || { cat "$T/$name.out"; fail "kvlds-bench $name"; }
	cat "$T/$name.out"
}

# field FILE KEY: summary.latency_ms.KEY of a JSON report.
field() {
	python3 -c "import json,sys
print(json.load(open(sys.argv[1]))['summary']['latency_ms'][sys.argv[2]])" \
	    "$1" "$2"
}
ge() { python3 -c "import sys; sys.exit(not float(sys.argv[1]) >= float(sys.argv[2]))" "$1" "$2"; }

stall_run open --rate 10000
OMAX=$(field "$T/open.json" max)
OP99=$(field "$T/open.json" p99)
log "open loop: p99 $OP99 ms, max $OMAX ms"
check "open loop max >= 2 s" ge "$OMAX" 2000
check "open loop p99 >= 1 s" ge "$OP99" 1000

stall_run closed
CMAX=$(field "$T/closed.json" max)
CP99=$(field "$T/closed.json" p99)
log "closed loop: p99 $CP99 ms, max $CMAX ms"
check "closed loop saw the stall (max >= 1.5 s)" ge "$CMAX" 1500
check "closed loop p99 far below (< 100 ms)" ge 100 "$CP99"
check "closed loop p99 < open loop p99 / 10" ge "$OP99" \
    "$(python3 -c "print(10 * float('$CP99'))")"
python3 -c "import json; d=json.load(open('$T/open.json')); assert len(d['series']) >= 9 and len(d['histogram']) > 0" ||
    fail "JSON report lacks the series or the histogram"
stop "$NULLPID"
exit 0
