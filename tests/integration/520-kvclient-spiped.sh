#!/bin/bash
# 520-kvclient-spiped: the client library's own spiped transport (-K).
# The workloads and kvlds-bench reach a server through a spiped -d
# (Debian's, and ours when built) in front of the null server and of
# kvlds (when built); a wrong key fails with a clear message.
# smoke
. "$(dirname "$0")/../lib.sh"

command -v spiped >/dev/null || skip "Debian's spiped is not installed"
BENCH=$BIN_DIR_ABS/perftests/kvlds-bench/kvlds-bench
for p in mkpairs bulk_insert random_read nullserver; do
	[ -x "$(bin $p)" ] || fail "$p is not built"
done
[ -x "$BENCH" ] || fail "kvlds-bench is not built"

head -c 32 /dev/urandom >"$T/key"
head -c 32 /dev/urandom >"$T/wrong"
"$(bin mkpairs)" 65536 >"$T/pairs"

lastint() {
	local l
	l=$(tail -n 1 "$1")
	case "$l" in ''|*[!0-9]*) return 1 ;; esac
	[ "$l" -gt 0 ]
}

# through SPIPED NAME TARGET: run the clients through SPIPED -d to TARGET.
through() {
	local sp=$1 name=$2 target=$3 port
	port=$(free_port)
	start "spiped-$name" "$sp" -d -F -s "127.0.0.1:$port" -t "$target" \
	    -k "$T/key"
	wait_port "$port"
	clients "$name" "127.0.0.1:$port"
}

# clients NAME ADDRESS: the clients with -K against an encrypted endpoint.
clients() {
	local name=$1 A=$2
	"$(bin bulk_insert)" -K "$T/key" "$A" <"$T/pairs" >"$T/$name.bi" ||
	    fail "bulk_insert -K via $name"
	check "bulk_insert -K via $name sent every pair" \
	    grep -q '^65536 pairs$' "$T/$name.bi"
	"$(bin random_read)" -K "$T/key" --warmup 1 --seconds 1 "$A" 65536 \
	    >"$T/$name.rr" || fail "random_read -K via $name"
	check "random_read -K via $name: a positive figure" lastint "$T/$name.rr"
	"$BENCH" -K "$T/key" -t "$A" --stream --keys 65536 -d 1 \
	    --mix get=30,set=20,add=10,modify=10,delete=10,cas=5,cad=5,range=10 \
	    -c 2 --no-progress \
	    --json "$T/$name.json" >"$T/$name.kb" || fail "kvlds-bench -K via $name"
	check "kvlds-bench -K via $name: requests and no errors" python3 -c "
import json,sys; s=json.load(open(sys.argv[1]))['summary']
sys.exit(not (s['requests'] > 0 and s['errors'] == 0))" "$T/$name.json"
	if "$(bin random_read)" -K "$T/wrong" --warmup 1 --seconds 1 "$A" \
	    65536 >/dev/null 2>"$T/$name.wrong"; then
		fail "a wrong key connected via $name"
	fi
	check "a wrong key via $name says so" grep -q 'wrong key' \
	    "$T/$name.wrong"
}

start nullserver "$(bin nullserver)" -s "$T/null.sock"
wait_socket "$T/null.sock"
through /usr/bin/spiped debian-null "$T/null.sock"
if [ -x "$(bin spiped)" ]; then
	through "$(bin spiped)" ours-null "$T/null.sock"
fi
if [ -x "$(bin kvlds)" ]; then
	mkdir "$T/data"
	start kvlds "$(bin kvlds)" -F -s "$T/kv.sock" -d "$T/data"
	wait_socket "$T/kv.sock" 20
	through /usr/bin/spiped debian-kvlds "$T/kv.sock"
	# kvlds's own encrypted listener, when it has one.
	if "$(bin kvlds)" --help 2>&1 | grep -q -- '-K <key file>'; then
		KPORT=$(free_port)
		mkdir "$T/data2"
		start kvlds-native "$(bin kvlds)" -F -d "$T/data2" \
		    -s "127.0.0.1:$KPORT" -K "$T/key"
		wait_port "$KPORT" 20
		clients kvlds-native "127.0.0.1:$KPORT"
	fi
fi
exit 0
