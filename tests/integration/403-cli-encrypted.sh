#!/bin/bash
# 403-cli-encrypted: kvlds-cli, kvlds-dump and kvlds-undump with -K, the
# client library speaking the spiped protocol itself: against a Debian
# spiped -d in front of kvlds's Unix socket (with and without perfect
# forward secrecy), and against kvlds's native encrypted listener when
# kvlds has -K.  Requests, a batch, a dump and its load; a wrong key fails
# with status 2 and a message.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
DUMP=$(bin kvlds-dump)
UNDUMP=$(bin kvlds-undump)
[ -x "$KVLDS" ] || skip "kvlds not built"

head -c 32 /dev/urandom >"$T/key"
head -c 32 /dev/urandom >"$T/wrong.key"
start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
start kvlds2 "$KVLDS" -F -s "$T/kv2.sock" -d "$T/data2"
wait_socket "$T/kv.sock"
wait_socket "$T/kv2.sock"

"$CLI" -t "$T/kv.sock" -K "$T/key" get a 2>"$T/err"
grep -q 'not supported yet' "$T/err" &&
    skip "client library: no encrypted transport yet"

# exercise NAME ADDRESS SOCKET [OPTION]: the tools through the encrypted
# endpoint at ADDRESS, whose store is also reachable at SOCKET.
exercise() {
	local name=$1 A=$2 S=$3 opt=${4:-}
	local k="-K $T/key $opt"
	# shellcheck disable=SC2086
	"$CLI" -t "$A" $k set "enc-$name" 1; check "$name: set" [ $? = 0 ]
	# shellcheck disable=SC2086
	check "$name: get" [ "$("$CLI" -t "$A" $k get "enc-$name")" = 1 ]
	check "$name: the pair is in the store" \
	    [ "$("$CLI" -t "$S" get "enc-$name")" = 1 ]
	# shellcheck disable=SC2086
	"$CLI" -t "$A" $k cad "enc-$name" 2; check "$name: cad not" [ $? = 1 ]
	# shellcheck disable=SC2086
	awk -v n="$name" 'BEGIN { for (i = 0; i < 3000; i++)
		printf "set %s-%04d %d\n", n, i, i }' |
	    "$CLI" -t "$A" $k batch >"$T/out"
	check "$name: batch status 0" [ $? = 0 ]
	check "$name: batch 3000 results" [ "$(grep -c '^0$' "$T/out")" = 3000 ]

	"$CLI" -t "$A" -K "$T/wrong.key" $opt get x 2>"$T/err"
	check "$name: wrong key: status 2" [ $? = 2 ]
	check "$name: wrong key: a message" [ -s "$T/err" ]
	cat "$T/err"
	"$CLI" -t "$A" get x 2>/dev/null
	check "$name: no key: status 2" [ $? = 2 ]

	# shellcheck disable=SC2086
	"$DUMP" -t "$A" $k "$T/$name.kvdump"; check "$name: dump" [ $? = 0 ]
	"$CLI" -t "$T/kv2.sock" -x range | awk '{ print "delete " $1 }' |
	    "$CLI" -t "$T/kv2.sock" -x batch >/dev/null
	"$UNDUMP" -t "$T/kv2.sock" "$T/$name.kvdump"
	check "$name: undump" [ $? = 0 ]
	"$CLI" -t "$S" -x range >"$T/l1"
	"$CLI" -t "$T/kv2.sock" -x range >"$T/l2"
	check "$name: identical listing" cmp "$T/l1" "$T/l2"
	# shellcheck disable=SC2086
	"$UNDUMP" -t "$A" $k -f "$T/$name.kvdump"
	check "$name: undump over the endpoint" [ $? = 0 ]
	"$DUMP" -t "$A" -K "$T/wrong.key" $opt "$T/bad.kvdump" 2>/dev/null
	check "$name: dump with a wrong key fails" [ $? = 1 ]
	check "$name: no dump file left" [ ! -e "$T/bad.kvdump" ]
}

if SPIPED=$(command -v spiped); then
	D=$(free_port)
	start spiped_d "$SPIPED" -d -F -s "[127.0.0.1]:$D" -t "$T/kv.sock" \
	    -k "$T/key"
	wait_port "$D"
	exercise spiped-d "127.0.0.1:$D" "$T/kv.sock"
	exercise spiped-d-nopfs "127.0.0.1:$D" "$T/kv.sock" --no-pfs
	G=$(free_port)
	start spiped_g "$SPIPED" -d -g -F -s "[127.0.0.1]:$G" \
	    -t "$T/kv.sock" -k "$T/key"
	wait_port "$G"
	exercise spiped-d-g "127.0.0.1:$G" "$T/kv.sock" --require-pfs
	"$CLI" -t "127.0.0.1:$G" -K "$T/key" --no-pfs get x 2>/dev/null
	check "--no-pfs against spiped -d -g: status 2" [ $? = 2 ]
	"$CLI" -t "$T/kv.sock" --no-pfs get x 2>/dev/null
	check "--no-pfs without -K: status 2" [ $? = 2 ]
else
	log "Debian spiped not installed: spiped -d part skipped"
fi

if "$KVLDS" --help 2>&1 | grep -q -- '-K'; then
	P=$(free_port)
	start kvlds3 "$KVLDS" -F -s "127.0.0.1:$P" -s "$T/kv3.sock" \
	    -K "$T/key" -d "$T/data3"
	wait_port "$P" 20
	wait_socket "$T/kv3.sock"
	exercise native "127.0.0.1:$P" "$T/kv3.sock"
	exercise native-nopfs "127.0.0.1:$P" "$T/kv3.sock" --no-pfs
	R=$(free_port)
	start kvlds4 "$KVLDS" -F -s "127.0.0.1:$R" -K "$T/key" --require-pfs \
	    -d "$T/data4"
	wait_port "$R" 20
	"$CLI" -t "127.0.0.1:$R" -K "$T/key" set pfs 1
	check "native --require-pfs: a PFS client" [ $? = 0 ]
	"$CLI" -t "127.0.0.1:$R" -K "$T/key" --no-pfs get pfs 2>/dev/null
	check "native --require-pfs: --no-pfs client refused" [ $? = 2 ]
else
	log "kvlds has no -K yet: native listener part skipped"
fi
