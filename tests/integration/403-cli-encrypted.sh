#!/bin/bash
# 403-cli-encrypted: kvlds-cli, kvlds-dump and kvlds-undump with -K
# against kvlds's native encrypted listener (kvlds -s host:port -K key):
# requests, a dump and its load, and a wrong key failing with status 2.
# Skips while kvlds has no -K or the client library no encrypted
# transport (kvlds-cli then says "not supported yet").
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
DUMP=$(bin kvlds-dump)
UNDUMP=$(bin kvlds-undump)
[ -x "$KVLDS" ] || skip "kvlds not built"
"$KVLDS" --help 2>&1 | grep -q -- '-K' || skip "kvlds has no -K yet"

head -c 32 /dev/urandom >"$T/key"
head -c 32 /dev/urandom >"$T/wrong.key"
P=$(free_port)
start kvlds "$KVLDS" -F -s "127.0.0.1:$P" -s "$T/kv.sock" -K "$T/key" \
    -d "$T/data"
KPID=$LASTPID
wait_until 20 port_ready "$P" || {
	alive "$KPID" || skip "kvlds does not take -s host:port -K yet"
	fail "encrypted listener not ready"
}
wait_socket "$T/kv.sock"
A=127.0.0.1:$P

"$CLI" -t "$A" -K "$T/key" set enc 1 2>"$T/err"
rc=$?
grep -q 'not supported yet' "$T/err" && skip "client library: no encrypted transport yet"
check "set over the encrypted endpoint" [ $rc = 0 ]
check "get over the encrypted endpoint" \
    [ "$("$CLI" -t "$A" -K "$T/key" get enc)" = 1 ]
check "the pair is in the store" [ "$("$CLI" -t "$T/kv.sock" get enc)" = 1 ]
"$CLI" -t "$A" -K "$T/key" cad enc 2; check "cad: not" [ $? = 1 ]

awk 'BEGIN { for (i = 0; i < 3000; i++) printf "set e%04d %d\n", i, i }' |
    "$CLI" -t "$A" -K "$T/key" batch >"$T/out"
check "batch: status 0" [ $? = 0 ]
check "batch: 3000 results" [ "$(grep -c '^0$' "$T/out")" = 3000 ]

"$CLI" -t "$A" -K "$T/wrong.key" get enc 2>"$T/err"
check "wrong key: status 2" [ $? = 2 ]
check "wrong key: a message" [ -s "$T/err" ]
cat "$T/err"

"$DUMP" -t "$A" -K "$T/key" "$T/enc.kvdump"; check "dump -K" [ $? = 0 ]
start kvlds2 "$KVLDS" -F -s "$T/kv2.sock" -d "$T/data2"
wait_socket "$T/kv2.sock"
"$UNDUMP" -t "$T/kv2.sock" "$T/enc.kvdump"; check "undump" [ $? = 0 ]
"$CLI" -t "$T/kv.sock" -x range >"$T/l1"
"$CLI" -t "$T/kv2.sock" -x range >"$T/l2"
check "dump -K: identical listing" cmp "$T/l1" "$T/l2"
"$DUMP" -t "$A" -K "$T/wrong.key" "$T/bad.kvdump" 2>/dev/null
check "dump with a wrong key fails" [ $? = 1 ]
check "no dump file left" [ ! -e "$T/bad.kvdump" ]
