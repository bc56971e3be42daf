#!/bin/bash
# 640: hostile peers (tests/torture/hostile.py).  Against kvlds -n 32: a
# flood of 128 connections, packets claiming 4 GiB / 2 GiB / 773-byte
# records, a 64 MiB garbage stream, half-open connections, a client that
# never reads its answers.  Against our spiped -d -n 16 -o 2 (in front of
# that kvlds): slow-loris handshakes, a flood of 80 connections, a 64 MiB
# garbage stream, truncated handshakes.  Throughout, a well-behaved
# client (direct, then through our spiped -e) keeps getting correct
# answers, new clients are served afterwards, and VmRSS stays bounded;
# garbage sent to a second spiped -d never reaches its target.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
SPIPED=$(bin spiped)
[ -x "$KVLDS" ] || skip "kvlds/kvlds is not built"
H="$TOP/tests/torture/hostile.py"

start kvlds "$KVLDS" -s "$T/kv.sock" -d "$T/data" -F -n 32
KPID=$LASTPID
wait_socket "$T/kv.sock"
check "kvlds survives hostile peers" python3 "$H" kvlds \
    --target "unix:$T/kv.sock" --good "unix:$T/kv.sock" --pid "$KPID" \
    --n 32 --rss-max 256

if [ ! -x "$SPIPED" ]; then
	log "spiped/spiped is not built: its half is skipped"
	exit 0
fi
head -c 32 /dev/urandom >"$T/key"
P=$(free_port)
start spiped-d "$SPIPED" -d -s "[127.0.0.1]:$P" -t "$T/kv.sock" \
    -k "$T/key" -n 16 -o 2 -F -p "$T/d.pid"
DPID=$LASTPID
wait_port "$P"
Q=$(free_port)
start spiped-e "$SPIPED" -e -s "[127.0.0.1]:$Q" -t "[127.0.0.1]:$P" \
    -k "$T/key" -F -p "$T/e.pid"
wait_port "$Q"
R=$(free_port)
start spiped-sink "$SPIPED" -d -s "[127.0.0.1]:$R" -t "$T/sink.sock" \
    -k "$T/key" -n 16 -o 2 -F -p "$T/s.pid"
wait_port "$R"
check "spiped -d survives hostile peers" python3 "$H" spiped \
    --target "tcp:$P" --good "tcp:$Q" --pid "$DPID" --n 16 --timeout 2 \
    --rss-max 128 --sink "$T/sink.sock" --sink-target "tcp:$R"
check "kvlds still alive" alive "$KPID"
