#!/bin/bash
# smoke
# One key loader for every program: kvlds's native encrypted listener
# and kvlds-cli, given a passphrase-protected key file (made by
# spiped-keygen) or its plain twin, agree on the key in every pairing;
# a wrong passphrase or a key over --max-memory stops kvlds before it
# listens, and kvlds-cli with a wrong passphrase fails with status 2.
. "$(dirname "$0")/../lib.sh"

KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
KG=$(bin spiped-keygen)
[ -x "$KVLDS" ] || skip "kvlds not built"
[ -x "$CLI" ] || skip "kvlds-cli not built"
[ -x "$KG" ] || fail "spiped-keygen not built"
command -v scrypt >/dev/null || skip "scrypt(1) not installed"
"$KVLDS" --help 2>&1 | grep -q -- '--passphrase' ||
    skip "kvlds has no encrypted listener"

export KVPW='kvlds key passphrase'
"$KG" --passphrase env:KVPW --target-time 0.05 --target-memory 4M \
    "$T/enc.key" 2>/dev/null || fail "spiped-keygen"
scrypt dec --passphrase env:KVPW "$T/enc.key" "$T/plain.key" ||
    fail "scrypt dec of our key"

P=$(free_port)
start kvlds "$KVLDS" -F -s "$T/kv.sock" -s "127.0.0.1:$P" -d "$T/data" \
    -K "$T/enc.key" --passphrase env:KVPW
wait_socket "$T/kv.sock" 20
wait_port "$P"

"$CLI" -t "127.0.0.1:$P" -K "$T/plain.key" set k1 v1 ||
    fail "kvlds-cli with the plain key"
check "plain-key client reads back" \
    [ "$("$CLI" -t "127.0.0.1:$P" -K "$T/plain.key" get k1)" = v1 ]
check "encrypted-key client reads it too" \
    [ "$("$CLI" -t "127.0.0.1:$P" -K "$T/enc.key" --passphrase env:KVPW \
    get k1)" = v1 ]
check "the pair is in the store" [ "$("$CLI" -t "$T/kv.sock" get k1)" = v1 ]

export KVBAD='guess'
"$CLI" -t "127.0.0.1:$P" -K "$T/enc.key" --passphrase env:KVBAD get k1 \
    >/dev/null 2>"$T/cli.err"
check "client, wrong passphrase: status 2" [ $? = 2 ]
check "client, wrong passphrase: message" grep -q "wrong passphrase" \
    "$T/cli.err"

# kvlds refuses to start: nothing listens, no socket file.
P2=$(free_port)
if timeout 20 "$KVLDS" -F -s "$T/kv2.sock" -s "127.0.0.1:$P2" \
    -d "$T/data2" -K "$T/enc.key" --passphrase env:KVBAD \
    >"$T/bad.out" 2>&1; then
	fail "kvlds started with a wrong passphrase"
fi
check "kvlds, wrong passphrase: message" grep -q "wrong passphrase" \
    "$T/bad.out"
check "kvlds, wrong passphrase: no socket" [ ! -e "$T/kv2.sock" ]
if timeout 20 "$KVLDS" -F -s "$T/kv2.sock" -s "127.0.0.1:$P2" \
    -d "$T/data2" -K "$T/enc.key" --passphrase env:KVPW \
    --max-memory 64K >"$T/mem.out" 2>&1; then
	fail "kvlds started over --max-memory"
fi
check "kvlds, over the memory limit: says how to raise it" \
    grep -q -- "--max-memory" "$T/mem.out"
check "kvlds, over the memory limit: no socket" [ ! -e "$T/kv2.sock" ]
log "kvlds and kvlds-cli share the key loader"
