#!/bin/bash
# 304-kvlds-kill9: kill -9 during a write storm (8 connections, pipelined
# SET/CAS/ADD/DELETE/CAD), restart, and every acknowledged request is
# there; twice over the same data directory.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
export PYTHONPATH="$TOP/tests"

for round in 1 2; do
	start kvlds$round "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
	KPID=$LASTPID
	wait_socket "$T/kv.sock"
	rm -f "$T/progress"
	python3 "$TOP/tests/kvstorm.py" "$T/kv.sock" "$T/state$round.json" \
	    "$T/progress" 8 200 "r$round-" >"$T/storm$round.log" 2>&1 &
	SPID=$!
	PIDS="$PIDS $SPID"
	acked() { [ -s "$T/progress" ] && [ "$(cat "$T/progress")" -ge "$1" ]; }
	wait_until 60 acked 3000 || fail "storm made no progress"
	kill -KILL "$KPID"
	wait "$SPID" || fail "storm client failed: $(cat "$T/storm$round.log")"
	log "round $round: $(cat "$T/storm$round.log")"
	wait "$KPID" 2>/dev/null

	start kvlds$round-check "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
	KPID=$LASTPID
	wait_socket "$T/kv.sock"
	for r in $(seq 1 $round); do
		check "round $round: every acknowledged request of round $r" \
		    python3 "$TOP/tests/kvstorm.py" --verify "$T/kv.sock" \
		    "$T/state$r.json"
	done
	stop "$KPID"
	check "round $round: clean exit" [ $? = 0 ]
done
