#!/bin/bash
# spiped and spipe options: daemonizing with the default and a given pid
# file, -u, -D, -b (seen by the target through -P v1), spipe -b and -o,
# --syslog in the foreground, -v, and refusals of bad command lines.
. "$(dirname "$0")/../lib.sh"

SP=$(bin spiped)
SPIPE=$(bin spipe)
PB=$(bin pipebench)
head -c 32 /dev/urandom >"$T/key"
SINK=$(free_port)
helper sink "$PB" sink -s "127.0.0.1:$SINK"
wait_port "$SINK"

# --- bad command lines are refused with status 1.
refuse() {
	local what=$1
	shift
	if "$SP" "$@" >/dev/null 2>&1; then fail "accepted: $what"; fi
	log "ok: refused $what"
}
S="-s 127.0.0.1:1 -t 127.0.0.1:2 -k $T/key -F"
# shellcheck disable=SC2086
{
	refuse "-e and -d" -e -d $S
	refuse "neither -e nor -d" $S
	refuse "-f and -g" -e -f -g $S
	refuse "-r and -R" -e -r 5 -R $S
	refuse "-n -1" -e -n -1 $S
	refuse "-o 0" -e -o 0 $S
	refuse "-o junk" -e -o 5x $S
	refuse "-P with -e" -e -P v1 $S
	refuse "-P v3" -d -P v3 $S
	refuse "-m on TCP" -d -m 600 $S
	refuse "repeated -s" -e -s 127.0.0.1:3 $S
	refuse "missing key file" -e -s 127.0.0.1:1 -t 127.0.0.1:2 -k "$T/nokey" -F
}
"$SP" -v | grep -q '^spiped ' || fail "spiped -v"
"$SPIPE" -v | grep -q '^spipe ' || fail "spipe -v"
"$SP" --help | grep -q -- '--passphrase' || fail "--help lacks --passphrase"
log "ok: -v and --help"

# --- daemonizing: the command returns once listening; default pid file.
# The target answers with the PROXY line it got, so -b shows through.
H=$(free_port)
helper hdr python3 -c "
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $H)); s.listen(5)
while True:
    c, _ = s.accept()
    d = b''
    while not d.endswith(b'\\n'):
        x = c.recv(1)
        if not x: break
        d += x
    c.sendall(d); c.close()
"
wait_port "$H"
cd "$T" || exit 1
D=$(free_port)
"$SP" -d -s "127.0.0.1:$D" -t "127.0.0.1:$H" -k "$T/key" -P v1 \
    >"$T/daemon.log" 2>&1 || fail "spiped -d did not start"
[ -s "$T/127.0.0.1:$D.pid" ] || fail "no default pid file"
DPID=$(cat "$T/127.0.0.1:$D.pid")
PIDS="$PIDS $DPID"
port_ready "$D" || fail "not listening when the command returned"
log "ok: daemonized, pid file 127.0.0.1:$D.pid"

# --- -p, -u nobody, -b 127.0.0.2 (seen by the target), spipe -b.
E=$(free_port)
"$SP" -e -s "127.0.0.1:$E" -t "127.0.0.1:$D" -k "$T/key" -p "$T/e.pid" \
    -u nobody -b 127.0.0.2 >"$T/daemon-e.log" 2>&1 ||
    fail "spiped -e did not start"
EPID=$(cat "$T/e.pid")
PIDS="$PIDS $EPID"
[ "$(stat -c %U "/proc/$EPID")" = nobody ] || fail "-u nobody not applied"
log "ok: -p and -u nobody"
hdr=$(python3 -c "
import socket
s = socket.create_connection(('127.0.0.1', $E))
d = b''
while True:
    x = s.recv(4096)
    if not x: break
    d += x
print(d.decode().strip())")
echo "$hdr" | grep -Eq "^PROXY TCP4 127\.0\.0\.2 127\.0\.0\.1 [0-9]+ $D\$" ||
    fail "-b: target saw '$hdr'"
log "ok: -b 127.0.0.2: $hdr"
hdr=$("$SPIPE" -t "127.0.0.1:$D" -k "$T/key" -b '[127.0.0.3]' </dev/null)
echo "$hdr" | grep -Eq "^PROXY TCP4 127\.0\.0\.3 " ||
    fail "spipe -b: target saw '$hdr'"
log "ok: spipe -b [127.0.0.3]: $hdr"
stop "$EPID"
stop "$DPID"

# --- -D: daemonize first, then resolve (a name here).
D2=$(free_port)
"$SP" -D -d -s "localhost:$D2" -t "localhost:$SINK" -k "$T/key" \
    -p "$T/d2.pid" >"$T/daemon-D.log" 2>&1 || fail "-D did not start"
wait_until 10 test -s "$T/d2.pid" || fail "-D: no pid file"
PIDS="$PIDS $(cat "$T/d2.pid")"
wait_port "$D2"
E2=$(free_port)
start e2 "$SP" -F --syslog -e -s "127.0.0.1:$E2" -t "127.0.0.1:$D2" \
    -k "$T/key" -j -R
wait_port "$E2"
check "-D, --syslog -F, -j, -R" "$PB" send -t "127.0.0.1:$E2" -n 1M
stop "$(cat "$T/d2.pid")"

# --- spipe -o: a server that accepts and never answers.
Q=$(free_port)
helper quiet python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $Q)); s.listen(5)
c = []
while True:
    c.append(s.accept())
"
wait_port "$Q"
t0=$(date +%s%N)
if echo hi | "$SPIPE" -t "127.0.0.1:$Q" -k "$T/key" -o 0.5 >/dev/null 2>&1; then
	fail "spipe succeeded against a silent server"
fi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 3000 ] || fail "spipe -o 0.5 took $ms ms"
log "ok: spipe -o 0.5 gave up after $ms ms"
check "sanitizer logs clean" sanitizer_clean
