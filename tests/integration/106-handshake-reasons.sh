#!/bin/bash
# smoke
# A failed handshake says why, on both sides.  spiped -d logs the reason
# in its rate-limited line: a wrong key (the MAC does not check), an
# invalid Diffie-Hellman value (garbage), a -f peer under -g (forward
# secrecy refused), a peer that closes, a peer that stays silent past -o.
# The connecting side, which only sees the server hang up when its key is
# wrong, says "wrong key?": spipe, kvlds-cli (through spiped and against
# kvlds's own -K listener), and kvlds logs the reason too.
. "$(dirname "$0")/../lib.sh"

SP=$(bin spiped)
SPIPE=$(bin spipe)
PB=$(bin pipebench)
KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
head -c 32 /dev/urandom >"$T/key"
head -c 32 /dev/urandom >"$T/wrong.key"

SINK=$(free_port)
helper sink "$PB" sink -s "127.0.0.1:$SINK"
wait_port "$SINK"
D=$(free_port)
start d "$SP" -F -d -s "127.0.0.1:$D" -t "127.0.0.1:$SINK" -k "$T/key" -o 1
wait_port "$D"
G=$(free_port)
start g "$SP" -F -d -g -s "127.0.0.1:$G" -t "127.0.0.1:$SINK" -k "$T/key"
wait_port "$G"

# logged NAME TEXT: spiped NAME's log soon gets a line "spiped: TEXT..."
# after the lines it had at the last "mark NAME" (readiness probes leave
# lines of their own).
mark() { eval "MARK_$1=\$(wc -l <\"\$T/$1.log\")"; }
since_mark() { eval "tail -n +\$((MARK_$1 + 1)) \"\$T/$1.log\""; }
found() { since_mark "$1" | grep -qF "spiped: $2"; }
logged() {
	wait_until 5 found "$1" "$2" ||
	    fail "$1 did not log: $2 (log: $(since_mark "$1" | tail -n 3))"
	log "ok: $1 logged: $2"
}

mark d
out=$("$PB" evil -t "127.0.0.1:$D" -k "$T/key" -m wrongkey)
[ "$out" = dropped ] || fail "wrongkey: not dropped ($out)"
logged d "handshake failed: wrong key (the peer's MAC does not check)"

mark d
out=$("$PB" evil -t "127.0.0.1:$D" -k "$T/key" -m yp)
[ "$out" = dropped ] || fail "yp: not dropped ($out)"
logged d "handshake failed: the peer sent garbage"

mark d
python3 -c "
import socket; s = socket.create_connection(('127.0.0.1', $D))
s.sendall(b'x' * 10); s.close()"
logged d "handshake failed: the peer closed the connection"

mark d
python3 -c "
import socket, time; s = socket.create_connection(('127.0.0.1', $D))
s.settimeout(5); s.recv(100); s.recv(100)" ||
    fail "a silent client was not dropped"
logged d "handshake failed: timed out"

# spipe: a -f client against -g, then a wrong key; each side says why.
mark g
if echo hi | "$SPIPE" -f -t "127.0.0.1:$G" -k "$T/key" >/dev/null \
    2>"$T/spipe-f.err"; then
	fail "spipe -f got through spiped -g"
fi
logged g "handshake failed: the peer skipped Diffie-Hellman"
grep -qF "wrong key?" "$T/spipe-f.err" ||
    fail "spipe -f: $(cat "$T/spipe-f.err")"
if echo hi | "$SPIPE" -t "127.0.0.1:$D" -k "$T/wrong.key" >/dev/null \
    2>"$T/spipe-k.err"; then
	fail "spipe with a wrong key got through"
fi
grep -qF "handshake failed: the peer closed the connection: wrong key?" \
    "$T/spipe-k.err" || fail "spipe, wrong key: $(cat "$T/spipe-k.err")"
log "ok: spipe says: $(cat "$T/spipe-k.err")"

# kvlds-cli through spiped -d, and against kvlds -K; kvlds logs why.
[ -x "$KVLDS" ] && [ -x "$CLI" ] || { log "ok (no kvlds)"; exit 0; }
start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
wait_socket "$T/kv.sock"
KD=$(free_port)
start kd "$SP" -F -d -s "127.0.0.1:$KD" -t "$T/kv.sock" -k "$T/key"
wait_port "$KD"
"$CLI" -t "127.0.0.1:$KD" -K "$T/key" set a b || fail "right key refused"
mark kd
"$CLI" -t "127.0.0.1:$KD" -K "$T/wrong.key" get a 2>"$T/cli.err"
check "kvlds-cli, wrong key: status 2" [ $? = 2 ]
grep -qF "handshake failed: the peer closed the connection: wrong key?" \
    "$T/cli.err" || fail "kvlds-cli, wrong key: $(cat "$T/cli.err")"
log "ok: kvlds-cli says: $(cat "$T/cli.err")"
logged kd "handshake failed: wrong key (the peer's MAC does not check)"

KK=$(free_port)
start kk "$KVLDS" -F -s "127.0.0.1:$KK" -d "$T/data2" -K "$T/key"
wait_port "$KK"
"$CLI" -t "127.0.0.1:$KK" -K "$T/wrong.key" get a 2>"$T/cli2.err"
check "kvlds -K, wrong key: status 2" [ $? = 2 ]
grep -qF "wrong key?" "$T/cli2.err" ||
    fail "kvlds-cli vs kvlds -K: $(cat "$T/cli2.err")"
wait_until 5 grep -qF "spiped handshake failed: wrong key (the peer's MAC" \
    "$T/kk.log" || fail "kvlds did not log the reason: $(tail -n 3 "$T/kk.log")"
log "ok: kvlds logged: $(grep -F 'wrong key' "$T/kk.log" | tail -n 1)"
sanitizer_clean || fail "sanitizer report"
log "ok"
