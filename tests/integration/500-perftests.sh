#!/bin/bash
# 500-perftests: every standard workload program runs briefly (1 s warm-up,
# 1 s recorded) against the null server and, if it is built, kvlds; each
# must print a positive integer as its last line.  mkpairs' first pair
# must be the spec's X=0,Y=0 vector.
# smoke
. "$(dirname "$0")/../lib.sh"

VEC=00000000000000000a88111852095cae045340ea1f0b279944b2a756a213d9b50107d7489771e159
N=65536

for p in mkpairs bulk_insert bulk_update bulk_extract random_read \
    random_mixed hotspot_read tokyo nullserver; do
	[ -x "$(bin $p)" ] || fail "$p is not built"
done

# mkpairs: the first pair is the vector (key and value), 80 bytes a pair.
first=$("$(bin mkpairs)" 1 | od -An -v -tx1 | tr -d ' \n')
check "mkpairs first pair is the spec vector" [ "$first" = "$VEC$VEC" ]
"$(bin mkpairs)" $N >"$T/pairs" || fail "mkpairs $N"
check "mkpairs writes 80 bytes per pair" \
    [ "$(stat -c %s "$T/pairs")" = $((N * 80)) ]
check "mkpairs --help" "$(bin mkpairs)" --help >/dev/null

# lastint FILE: the last line of FILE is an integer > 0.
lastint() {
	local l
	l=$(tail -n 1 "$1")
	case "$l" in ''|*[!0-9]*) return 1 ;; esac
	[ "$l" -gt 0 ]
}

# run_all SOCKET LABEL: run every workload against SOCKET.
run_all() {
	local s=$1 what=$2 t out
	out="$T/$what.bulk_insert.out"
	"$(bin bulk_insert)" "$s" <"$T/pairs" >"$out" ||
	    fail "bulk_insert against $what"
	check "bulk_insert against $what: last line a positive integer" \
	    lastint "$out"
	check "bulk_insert against $what: all pairs sent" \
	    grep -q "^$N pairs\$" "$out"
	for t in bulk_update bulk_extract random_read random_mixed \
	    hotspot_read; do
		out="$T/$what.$t.out"
		"$(bin $t)" --warmup 1 --seconds 1 "$s" $N >"$out" ||
		    fail "$t against $what"
		check "$t against $what: last line a positive integer" \
		    lastint "$out"
	done
	out="$T/$what.tokyo.out"
	"$(bin tokyo)" --count 20000 "$s" >"$out" || fail "tokyo against $what"
	check "tokyo against $what: last line a positive integer" \
	    lastint "$out"
}

start nullserver "$(bin nullserver)" -s "$T/null.sock"
NULLPID=$LASTPID
wait_socket "$T/null.sock"
run_all "$T/null.sock" nullserver

# host:port works as well.
PORT=$(free_port)
start nullserver-tcp "$(bin nullserver)" -s "127.0.0.1:$PORT"
wait_port "$PORT"
"$(bin random_read)" --warmup 1 --seconds 1 "127.0.0.1:$PORT" $N \
    >"$T/tcp.out" || fail "random_read over TCP"
check "random_read over TCP: last line a positive integer" lastint "$T/tcp.out"

# A dead server is an error, not a figure.
if "$(bin random_read)" --warmup 1 --seconds 1 "$T/nonexistent.sock" $N \
    >/dev/null 2>&1; then
	fail "random_read succeeded without a server"
fi
stop "$NULLPID"

if [ -x "$(bin kvlds)" ]; then
	mkdir "$T/data"
	start kvlds "$(bin kvlds)" -F -s "$T/kv.sock" -d "$T/data"
	KVPID=$LASTPID
	wait_socket "$T/kv.sock" 20
	run_all "$T/kv.sock" kvlds
	stop "$KVPID"
else
	log "kvlds not built: tested against the null server only"
fi
exit 0
