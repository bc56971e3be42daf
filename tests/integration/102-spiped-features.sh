#!/bin/bash
# spiped behaviour beyond moving bytes: half-close in both directions,
# the -n limit and its warning, the -o handshake timeout, the SIGTERM
# drain, the -P v1/v2 PROXY header seen by the target, and -m.
. "$(dirname "$0")/../lib.sh"

SP=$(bin spiped)
PB=$(bin pipebench)
head -c 32 /dev/urandom >"$T/key"

# A target for the cases below (python3): "first" sends a greeting and
# half-closes before reading; "proxy" records the PROXY header, then
# echoes.  Each records what it read in $T/target.out.
cat >"$T/target.py" <<'PY'
import socket, sys, threading
mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(16)
def readall(c, d=b""):
    while True:
        x = c.recv(65536)
        if not x:
            return d
        d += x
def serve(c):
    try:
        serve1(c)
    except OSError:
        pass
    c.close()
def serve1(c):
    if mode == "first":
        c.sendall(b"hello from the target")
        c.shutdown(socket.SHUT_WR)
        d = readall(c)
        open(out, "a").write("%d\n" % len(d))
    elif mode == "proxy":
        d = b""
        while len(d) < 16:
            d += c.recv(16 - len(d))
        if d.startswith(b"PROXY"):
            while not d.endswith(b"\r\n"):
                d += c.recv(1)
            hdr = d.decode().strip()
        else:
            n = d[14] * 256 + d[15]
            rest = b""
            while len(rest) < n:
                rest += c.recv(n - len(rest))
            hdr = "v2 " + (d + rest).hex()
        open(out, "a").write(hdr + "\n")
        c.sendall(readall(c))
        c.shutdown(socket.SHUT_WR)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY

# pipe NAME TARGETPORT [-d flags]: ours -e -> ours -d -> target; sets
# EPORT, DPORT, EPID, DPID.
pipe() {
	local name=$1 target=$2
	shift 2
	DPORT=$(free_port)
	start "d-$name" "$SP" -F -d -s "127.0.0.1:$DPORT" \
	    -t "127.0.0.1:$target" -k "$T/key" "$@"
	DPID=$LASTPID
	EPORT=$(free_port)
	start "e-$name" "$SP" -F -e -s "127.0.0.1:$EPORT" \
	    -t "127.0.0.1:$DPORT" -k "$T/key" -n 2
	EPID=$LASTPID
	wait_port "$DPORT"
	wait_port "$EPORT"
}

# --- half-close, client first: the sink answers after our end of file.
SINK=$(free_port)
helper sink "$PB" sink -s "127.0.0.1:$SINK"
wait_port "$SINK"
pipe sink "$SINK"
check "half-close, client side first" \
    "$PB" send -t "127.0.0.1:$EPORT" -n 3M

# --- half-close, target side first: we keep sending after its EOF.
TP=$(free_port)
helper target-first python3 "$T/target.py" first "$TP" "$T/first.out"
wait_port "$TP"
rm -f "$T/first.out"
pipe first "$TP"
python3 - "$EPORT" <<'PY' || fail "half-close, target side first"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
d = b""
while True:
    x = s.recv(65536)
    if not x:
        break
    d += x
assert d == b"hello from the target", d
s.sendall(b"x" * 100000)
s.shutdown(socket.SHUT_WR)
assert s.recv(1) == b""
PY
# (The readiness probes of pipe() were targets' clients too: lines of 0.)
wait_until 5 grep -qx 100000 "$T/first.out" ||
    fail "target got $(cat "$T/first.out")"
log "ok: half-close, target side first"

# --- -n 2 on the -e side: a third client waits, with a warning.
python3 - "$EPORT" "$T/e-first.log" <<'PY' || fail "-n limit"
import socket, sys, time
port, logf = int(sys.argv[1]), sys.argv[2]
def conn():
    return socket.create_connection(("127.0.0.1", port))
def finish(s):
    s.sendall(b"data")
    s.shutdown(socket.SHUT_WR)
    d = b""
    while True:
        x = s.recv(65536)
        if not x:
            return d
        d += x
c1 = conn(); c2 = conn()
time.sleep(0.2)
c3 = conn()
for i in range(500):
    if "limit (-n 2) reached" in open(logf).read():
        break
    time.sleep(0.01)
else:
    sys.exit("no warning")
assert finish(c1).startswith(b"hello")
assert finish(c3).startswith(b"hello"), "third client never served"
assert finish(c2).startswith(b"hello")
PY
log "ok: -n limit reached, warned, then served"

# --- -o 1: a client that never sends its nonce is dropped after ~1 s.
OPORT=$(free_port)
start d-timeout "$SP" -F -d -s "127.0.0.1:$OPORT" -t "127.0.0.1:$SINK" \
    -k "$T/key" -o 1
wait_port "$OPORT"
python3 - "$OPORT" <<'PY' || fail "-o handshake timeout"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
s.settimeout(5)
while s.recv(4096):
    pass
dt = time.time() - t0
assert 0.8 < dt < 2.5, dt
PY
log "ok: stalled handshake dropped after -o"

# --- SIGTERM: stop accepting, finish the open connection, then exit.
pipe drain "$SINK"
exec 5<>"/dev/tcp/127.0.0.1/$EPORT"
printf 'abc' >&5
wait_until 5 eval '[ "$(ls /proc/'"$EPID"'/fd | wc -l)" -ge 6 ]' || true
kill -TERM "$EPID"
wait_until 5 eval '! port_ready '"$EPORT" || fail "still accepting after SIGTERM"
alive "$EPID" || fail "exited with a connection open"
exec 5>&-
# Closing our end (both ways) ends the connection; then it exits.
wait_until 10 eval '! alive '"$EPID" || fail "did not exit after the drain"
wait "$EPID"
log "ok: SIGTERM drained and exited ($?)"

# --- -P v1 and v2.
PP=$(free_port)
helper target-proxy python3 "$T/target.py" proxy "$PP" "$T/proxy.out"
wait_port "$PP"
for v in v1 v2; do
	pipe "proxy$v" "$PP" -P "$v"
	rm -f "$T/proxy.out"
	check "-P $v data" "$PB" send -e -t "127.0.0.1:$EPORT" -n 200k
	wait_until 5 test -s "$T/proxy.out" || fail "no header recorded"
	hdr=$(tail -n 1 "$T/proxy.out")
	if [ "$v" = v1 ]; then
		echo "$hdr" | grep -Eq "^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 [0-9]+ $DPORT\$" ||
		    fail "v1 header: $hdr"
	else
		# Signature, v2 PROXY, TCP4, 12 bytes, 127.0.0.1 twice, ports.
		want=$(printf '0d0a0d0a000d0a515549540a2111000c7f0000017f000001')
		case "$hdr" in
		"v2 $want"????"$(printf '%04x' "$DPORT")") ;;
		*) fail "v2 header: $hdr" ;;
		esac
	fi
	log "ok: -P $v header: $hdr"
done

# --- Unix sockets on every hop, and IPv6 on the encrypted one.
helper usink "$PB" sink -s "$T/sink.sock"
wait_socket "$T/sink.sock"
start d-unix "$SP" -F -d -s "$T/d.sock" -t "$T/sink.sock" -k "$T/key"
start e-unix "$SP" -F -e -s "$T/e.sock" -t "$T/d.sock" -k "$T/key"
wait_socket "$T/d.sock"
wait_socket "$T/e.sock"
check "Unix sockets end to end" "$PB" send -t "$T/e.sock" -n 8M -c 2
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null; then
	V6=$(free_port)
	start d-v6 "$SP" -F -d -s "[::1]:$V6" -t "$T/sink.sock" -k "$T/key"
	start e-v6 "$SP" -F -e -s "$T/e6.sock" -t "[::1]:$V6" -k "$T/key"
	wait_socket "$T/e6.sock"
	check "IPv6 between the daemons" "$PB" send -t "$T/e6.sock" -n 4M
fi

# --- -m: the mode of a Unix listening socket; without it, the umask.
start d-mode "$SP" -F -d -s "$T/m.sock" -t "127.0.0.1:$SINK" -k "$T/key" \
    -m 660
wait_socket "$T/m.sock"
[ "$(stat -c %a "$T/m.sock")" = 660 ] ||
    fail "-m 660 gave $(stat -c %a "$T/m.sock")"
(umask 027 && exec "$SP" -F -d -s "$T/u.sock" -t "127.0.0.1:$SINK" \
    -k "$T/key" >"$T/d-umask.log" 2>&1) &
PIDS="$PIDS $!"
wait_socket "$T/u.sock"
[ "$(stat -c %a "$T/u.sock")" = 750 ] ||
    fail "umask 027 gave $(stat -c %a "$T/u.sock")"
log "ok: -m and umask"
check "sanitizer logs clean" sanitizer_clean
