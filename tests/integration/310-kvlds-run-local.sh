#!/bin/bash
# 310-kvlds-run-local: what `make run` runs: a key and a data directory
# are created, kvlds serves the Unix socket and (when spiped is built) the
# encrypted endpoint, and SIGTERM to the script stops everything it
# started.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
[ "$BIN_DIR_ABS" = "$TOP" ] || skip "run-local.sh uses the in-tree build"
CLI=$TOP/kvlds/kvlds-cli/kvlds-cli
PORT=$(free_port)

RUN_DIR="$T/run" KVLDS_PORT=$PORT start runlocal sh "$TOP/kvlds/run-local.sh"
RPID=$LASTPID
wait_until 20 grep -q "Press Ctrl-C" "$T/runlocal.log" ||
    fail "run-local.sh not ready: $(cat "$T/runlocal.log")"
check "key is 32 bytes, mode 0600" \
    [ "$(stat -c %s:%a "$T/run/key")" = 32:600 ]
check "data directory" [ -d "$T/run/data" ]
check "Unix socket" sock_ready "$T/run/kvlds.sock"
check "plain request" env PYTHONPATH="$TOP/tests" python3 -c "
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
assert c.set(b'hello', b'world') == 0" "$T/run/kvlds.sock"
if [ -x "$TOP/spiped/spiped" ]; then
	check "encrypted endpoint listens" port_ready "$PORT"
	check "says how to reach it" grep -q "127.0.0.1:$PORT" \
	    "$T/runlocal.log"
	if [ -x "$CLI" ]; then
		check "request through the encrypted endpoint" sh -c \
		    "'$CLI' -t 127.0.0.1:$PORT -K '$T/run/key' get hello |
		    grep -qx world"
	fi
fi
kill -TERM "$RPID"
wait_until 15 eval "! alive $RPID" || fail "run-local.sh did not stop"
check "kvlds stopped (socket removed)" [ ! -e "$T/run/kvlds.sock" ]
check "endpoint closed" eval "! port_ready $PORT"
check "said so" grep -q "run-local: stopped" "$T/runlocal.log"
