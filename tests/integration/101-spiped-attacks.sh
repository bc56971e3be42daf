#!/bin/bash
# smoke
# Hostile clients against spiped -d: wrong key, y >= p, a truncated
# handshake, a tampered packet, a replayed packet, and packets claiming
# 0 or 1025 bytes.  Each connection must be dropped at once (the
# truncated handshake after -o), nothing of it may reach the target
# beyond the bytes of packets that checked, and the daemon must go on
# serving honest clients.
. "$(dirname "$0")/../lib.sh"

PB=$(bin pipebench)
head -c 32 /dev/urandom >"$T/key"
SINK=$(free_port)
helper sink "$PB" sink -s "127.0.0.1:$SINK" -l "$T/sink.out"
wait_port "$SINK"
D=$(free_port)
start d "$(bin spiped)" -F -d -s "127.0.0.1:$D" -t "127.0.0.1:$SINK" \
    -k "$T/key" -o 1
DPID=$LASTPID
E=$(free_port)
start e "$(bin spiped)" -F -e -s "127.0.0.1:$E" -t "127.0.0.1:$D" \
    -k "$T/key"
wait_port "$D"
wait_port "$E"

# The sink logs "<bytes> <sha256>" when a connection to it ends.
sink_lines() { [ -f "$T/sink.out" ] && wc -l <"$T/sink.out" || echo 0; }

# attack MODE WANT_BYTES: the connection is dropped; the target saw
# WANT_BYTES (or no connection at all).
attack() {
	local mode=$1 want=$2 before out t0 t1 got
	before=$(sink_lines)
	t0=$(date +%s%N)
	out=$("$PB" evil -t "127.0.0.1:$D" -k "$T/key" -m "$mode")
	t1=$(date +%s%N)
	[ "$out" = dropped ] || fail "$mode: connection not dropped ($out)"
	# Dropped at once, or after -o 1 for a stalled handshake.
	[ $(( (t1 - t0) / 1000000 )) -lt 2500 ] || fail "$mode: too slow"
	alive "$DPID" || fail "$mode: the daemon died"
	# Whatever reached the target has been logged by now or never.
	wait_until 5 eval '[ "$(sink_lines)" -gt "$before" ]' || true
	if [ "$(sink_lines)" -gt "$before" ]; then
		got=$(tail -n 1 "$T/sink.out" | cut -d' ' -f1)
		[ "$got" != error ] && [ "$got" -le "$want" ] ||
		    fail "$mode: target saw $(tail -n 1 "$T/sink.out")"
	fi
	check "honest client after $mode" "$PB" send -t "127.0.0.1:$E" -n 100k
	log "ok: $mode dropped, target saw ${want} bytes at most"
}

attack wrongkey 0
attack yp 0
attack truncate 0
attack tamper 0
attack replay 5
attack len0 0
attack len1025 0
check "sanitizer logs clean" sanitizer_clean
