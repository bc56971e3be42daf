#!/bin/bash
# 402-cli-tcp-spiped: kvlds-cli, kvlds-dump and kvlds-undump over TCP
# (host:port addresses), through a Debian spiped -e/-d pair in front of
# kvlds's Unix socket: requests, a pipelined batch, a dump and its load.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
DUMP=$(bin kvlds-dump)
UNDUMP=$(bin kvlds-undump)
[ -x "$KVLDS" ] || skip "kvlds not built"
SPIPED=$(command -v spiped) || skip "Debian spiped not installed"

head -c 32 /dev/urandom >"$T/pipe.key"
start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
start kvlds2 "$KVLDS" -F -s "$T/kv2.sock" -d "$T/data2"
wait_socket "$T/kv.sock"
wait_socket "$T/kv2.sock"
D=$(free_port); E=$(free_port)
start spiped_d "$SPIPED" -d -F -s "[127.0.0.1]:$D" -t "$T/kv.sock" \
    -k "$T/pipe.key"
wait_port "$D"
start spiped_e "$SPIPED" -e -F -s "[127.0.0.1]:$E" -t "[127.0.0.1]:$D" \
    -k "$T/pipe.key"
wait_port "$E"
A=127.0.0.1:$E

"$CLI" -t "$A" set tcp "over spiped"; check "set over TCP" [ $? = 0 ]
check "get over TCP" [ "$("$CLI" -t "$A" get tcp)" = "over spiped" ]
"$CLI" -t "$A" add tcp x; check "add over TCP: exists" [ $? = 1 ]
check "get through the socket" [ "$("$CLI" -t "$T/kv.sock" get tcp)" = "over spiped" ]
"$CLI" -t "[127.0.0.1]:$E" -x get 00; check "[addr]:port form: absent" [ $? = 1 ]

awk 'BEGIN { for (i = 0; i < 5000; i++) printf "set t%04d %d\n", i, i * 3
	for (i = 0; i < 5000; i += 7) printf "get t%04d\n", i }' >"$T/in"
"$CLI" -t "$A" batch <"$T/in" >"$T/out"
check "batch over TCP: status 0" [ $? = 0 ]
check "batch over TCP: 5715 results" [ "$(wc -l <"$T/out")" = 5715 ]
check "batch over TCP: a get" [ "$(sed -n 5002p "$T/out")" = "$(printf '0\t21')" ]

"$DUMP" -t "$A" "$T/tcp.kvdump"; check "dump over TCP" [ $? = 0 ]
"$UNDUMP" -t "$T/kv2.sock" "$T/tcp.kvdump"; check "undump" [ $? = 0 ]
"$CLI" -t "$T/kv.sock" -x range >"$T/l1"
"$CLI" -t "$T/kv2.sock" -x range >"$T/l2"
check "dump over TCP: identical listing" cmp "$T/l1" "$T/l2"
check "dump over TCP: 5001 pairs" [ "$(wc -l <"$T/l1")" = 5001 ]
