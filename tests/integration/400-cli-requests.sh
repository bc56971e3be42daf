#!/bin/bash
# 400-cli-requests: kvlds-cli against a real kvlds on a Unix socket: every
# request and exit status, params, the three encodings with binary keys
# and values, the longest key, usage and connection errors (exit 2), and
# -K against a plaintext socket failing cleanly (403 covers -K itself).
# smoke
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
[ -x "$KVLDS" ] || skip "kvlds not built"
[ -x "$CLI" ] || fail "kvlds-cli not built"

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
wait_socket "$T/kv.sock"
S=$T/kv.sock

# expect STATUS OUTPUT ARGS...: run kvlds-cli -t $S ARGS; check the exit
# status and the exact standard output.
expect() {
	local want=$1 wantout=$2 rc out
	shift 2
	out=$("$CLI" -t "$S" "$@" 2>"$T/err")
	rc=$?
	if [ "$rc" != "$want" ] || [ "$out" != "$wantout" ]; then
		cat "$T/err"
		fail "kvlds-cli $*: status $rc (want $want), output '$out' (want '$wantout')"
	fi
	log "ok: $* -> $rc"
}

expect 0 "$(printf 'maxkey 255\nmaxval 255')" params
expect 1 "" get a
expect 0 "" set a 1
expect 0 "1" get a
expect 0 "" set a ""
expect 0 "" get a
expect 0 "" set "" "empty key"
expect 0 "empty key" get ""
# ADD: 0 added, 1 existed.
expect 0 "" add b 2
expect 1 "" add b x
expect 0 "2" get b
# MODIFY: 0 replaced, 1 absent.
expect 0 "" modify b 3
expect 1 "" modify nope x
expect 1 "" get nope
# CAS: 0 replaced, 1 wrong old value or absent key.
expect 1 "" cas b wrong 4
expect 0 "" cas b 3 4
expect 1 "" cas absent "" x
expect 0 "4" get b
# CAD: 0 deleted, 1 not.
expect 1 "" cad b wrong
expect 0 "" cad b 4
expect 1 "" cad b 4
expect 1 "" get b
# DELETE: 0 whether present or not.
expect 0 "" delete a
expect 0 "" delete a
expect 0 "" delete ""

# RANGE: start <= key < end, in order, KEY<TAB>VALUE lines.
for k in r1 r2 r3 r4 s1; do expect 0 "" set "$k" "v-$k"; done
expect 0 "$(printf 'r2\tv-r2\nr3\tv-r3')" range r2 r4
expect 0 "$(printf 'r4\tv-r4\ns1\tv-s1')" range r4
expect 0 "$(printf 'r1\tv-r1\nr2\tv-r2\nr3\tv-r3\nr4\tv-r4\ns1\tv-s1')" range
expect 0 "" range t

# Binary keys and values: hex in, hex out; escapes in, escapes out.
expect 0 "" -x set 00ff0a09 000d0a5c
expect 0 "000d0a5c" -x get 00ff0a09
expect 0 '\x00\r\n\\' -e get '\x00\xff\n\t'
expect 0 "" -e set '\\\x01 "q"' '\t\0'
expect 0 "0900" -x get 5c0120227122
expect 0 '\t\x00' -e get '\\\x01 "q"'
expect 0 "$(printf '00ff0a09\t000d0a5c\n5c0120227122\t0900\n7231\t762d7231')" \
    -x range "" 7232
expect 0 "$(printf '\\x00\\xff\\n\\t\t\\x00\\r\\n\\\\')" -e range "" '\x01'
expect 0 "" -x delete 00ff0a09
expect 1 "" -x get 00ff0a09

# The longest key and value; one byte more is refused before sending.
K255=$(printf 'k%.0s' $(seq 255))
V255=$(printf 'v%.0s' $(seq 255))
expect 0 "" set "$K255" "$V255"
expect 0 "$V255" get "$K255"
expect 2 "" set "${K255}k" x
expect 2 "" get "${K255}k"

# Usage errors: exit 2, nothing sent.
expect 2 "" frobnicate
expect 2 "" get
expect 2 "" set a
expect 2 "" cas a b
expect 2 "" range a b c
expect 2 "" -x get abc
expect 2 "" -x get zz
expect 2 "" -e get '\q'
expect 2 "" -e get '\x4'
"$CLI" get a 2>/dev/null; check "no -t: status 2" [ $? = 2 ]
"$CLI" -t "$S" 2>/dev/null; check "no command: status 2" [ $? = 2 ]
"$CLI" -t "$T/nosuch.sock" get a 2>"$T/err"; rc=$?
check "connection refused: status 2" [ $rc = 2 ]
check "connection refused: message" [ -s "$T/err" ]
"$CLI" -h | grep -q '^usage: kvlds-cli'; check "--help" [ $? = 0 ]

# A server with small limits: over-limit keys and values are refused by
# the client, and the connection (and server) stay fine.
start kvlds2 "$KVLDS" -F -s "$T/kv2.sock" -d "$T/data2" -k 8 -v 8
wait_socket "$T/kv2.sock"
S2=$T/kv2.sock
"$CLI" -t "$S2" params >"$T/out"; check "small params" \
    [ "$(cat "$T/out")" = "$(printf 'maxkey 8\nmaxval 8')" ]
"$CLI" -t "$S2" set 123456789 x 2>"$T/err"; rc=$?
check "key over the server's limit: status 2" [ $rc = 2 ]
check "key over the limit: message" grep -q 'too long' "$T/err"
"$CLI" -t "$S2" set k 123456789 2>/dev/null
check "value over the server's limit: status 2" [ $? = 2 ]
"$CLI" -t "$S2" set 12345678 12345678; check "at the limit" [ $? = 0 ]

# -K against a plaintext socket: the spiped handshake fails (or, with a
# library lacking the transport, a clear message says so): status 2.
head -c 32 /dev/urandom >"$T/key"
"$CLI" -t "$S" -K "$T/key" get a 2>"$T/err"; rc=$?
cat "$T/err"
check "-K on a plaintext socket: status 2" [ $rc = 2 ]
if grep -q 'not supported' "$T/err"; then
	check "-K: clear message" grep -q 'encrypted kvlds endpoints are not supported yet' "$T/err"
fi
"$CLI" -t "$S" -K "$T/nosuchkey" get a 2>/dev/null
check "-K missing key file: status 2" [ $? = 2 ]

check "server alive" alive "$(echo $PIDS | cut -d' ' -f1)"
