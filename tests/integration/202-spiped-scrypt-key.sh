#!/bin/bash
# smoke
# The issue's interop: our spiped, given a key file that Debian's
# `scrypt enc` encrypted (passphrase from the environment), talks to
# Debian's spiped given the plain file, in both directions (our -e to
# their -d, their -e to our -d), and likewise with spipe.  A wrong
# passphrase makes our spiped exit non-zero without listening.
. "$(dirname "$0")/../lib.sh"

OURS=$(bin spiped)
[ -x "$OURS" ] || skip "our spiped/spiped is not built"
command -v spiped >/dev/null || skip "Debian spiped not installed"
command -v scrypt >/dev/null || skip "scrypt(1) not installed"
THEIRS=$(command -v spiped)

head -c 32 /dev/urandom >"$T/plain.key"
export SPIPED_PW='pipe dream 42'
scrypt enc --passphrase env:SPIPED_PW --logN 12 -r 8 -p 1 \
    "$T/plain.key" "$T/enc.key" || fail "scrypt enc"

# A threaded echo server on 127.0.0.1:$1.
cat >"$T/echo.py" <<'PY'
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
def serve(c):
    while True:
        d = c.recv(65536)
        if not d:
            break
        c.sendall(d)
    c.shutdown(socket.SHUT_WR)
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# Send a file to 127.0.0.1:$1, half-close, print what comes back.
cat >"$T/client.py" <<'PY'
import socket, sys, threading
data = open(sys.argv[2], "rb").read()
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
def send():
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send)
t.start()
got = bytearray()
while True:
    d = c.recv(65536)
    if not d:
        break
    got += d
t.join()
sys.stdout.buffer.write(got)
PY
head -c 200000 /dev/urandom >"$T/payload"

# plain NAME COMMAND...: like start, but never under valgrind: for the
# helpers and Debian's binaries, which are not ours to check.
plain() {
	local name=$1; shift
	"$@" >"$T/$name.log" 2>&1 &
	PIDS="$PIDS $!"
}

ECHO=$(free_port)
plain echo python3 "$T/echo.py" "$ECHO"
wait_port "$ECHO"

# roundtrip PORT NAME: the payload comes back through the pipe at PORT.
roundtrip() {
	python3 "$T/client.py" "$1" "$T/payload" >"$T/$2.out" ||
	    fail "$2: client failed"
	cmp -s "$T/payload" "$T/$2.out" || fail "$2: data differs"
	log "ok: $2"
}

# 1. Our -e (encrypted key) to Debian's -d (plain key).
A=$(free_port); B=$(free_port)
plain theirs_d "$THEIRS" -d -F -s "[127.0.0.1]:$B" -t "[127.0.0.1]:$ECHO" \
    -k "$T/plain.key"
start ours_e "$OURS" -e -F -s "[127.0.0.1]:$A" -t "[127.0.0.1]:$B" \
    -k "$T/enc.key" --passphrase env:SPIPED_PW
wait_port "$B"
wait_port "$A" 20
roundtrip "$A" "ours -e to Debian -d"

# 2. Debian's -e (plain key) to our -d (encrypted key), PFS required.
D=$(free_port); E=$(free_port)
start ours_d "$OURS" -d -F -g -s "[127.0.0.1]:$E" -t "[127.0.0.1]:$ECHO" \
    -k "$T/enc.key" --passphrase env:SPIPED_PW
plain theirs_e "$THEIRS" -e -F -s "[127.0.0.1]:$D" -t "[127.0.0.1]:$E" \
    -k "$T/plain.key"
wait_port "$E" 20
wait_port "$D"
roundtrip "$D" "Debian -e to ours -d"

# 3. spipe: ours (encrypted key) to Debian's -d, Debian's spipe (plain
# key) to our -d.
SPIPE=$(bin spipe)
if [ -x "$SPIPE" ]; then
	timeout 20 "$SPIPE" -t "[127.0.0.1]:$B" -k "$T/enc.key" \
	    --passphrase env:SPIPED_PW <"$T/payload" >"$T/spipe1.out" ||
	    fail "our spipe with the encrypted key"
	cmp -s "$T/payload" "$T/spipe1.out" || fail "our spipe: data differs"
	log "ok: our spipe (encrypted key) to Debian -d"
else
	log "our spipe not built: its part skipped"
fi
if command -v spipe >/dev/null; then
	timeout 20 spipe -t "[127.0.0.1]:$E" -k "$T/plain.key" \
	    <"$T/payload" >"$T/spipe2.out" || fail "Debian spipe to ours -d"
	cmp -s "$T/payload" "$T/spipe2.out" || fail "Debian spipe: data differs"
	log "ok: Debian spipe to our -d (encrypted key)"
fi

# 4. A wrong passphrase: non-zero exit, a clear message, no listener.
export SPIPED_BAD='not it'
F=$(free_port)
if timeout 20 "$OURS" -e -F -s "[127.0.0.1]:$F" -t "[127.0.0.1]:$B" \
    -k "$T/enc.key" --passphrase env:SPIPED_BAD >"$T/bad.out" 2>&1; then
	fail "our spiped started with a wrong passphrase"
fi
check "wrong passphrase reported" grep -q "wrong passphrase" "$T/bad.out"
if port_ready "$F"; then
	fail "something listens after a refused key"
fi
log "scrypt-encrypted key interop with Debian spiped ok"
