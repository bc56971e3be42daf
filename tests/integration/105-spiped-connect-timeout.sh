#!/bin/bash
# smoke
# spiped -o when the connect to the target never completes: the target is
# a listening socket on 127.0.0.1 whose accept queue is full (backlog 0,
# filled, never accepted), so the kernel drops further SYNs and spiped's
# connect stays in progress.  A client of spiped -e must be closed after
# the -o timeout (about 1 s with -o 1, about 3 s with -o 3: the bound
# follows -o, it is not some other limit), the log must say why, and
# spiped must have let go of the stalled connects.
. "$(dirname "$0")/../lib.sh"

SP=$(bin spiped)
command -v python3 >/dev/null || skip "python3 not installed"
head -c 32 /dev/urandom >"$T/key"

# The black hole: fill the accept queue, then prove that one more
# connect does not complete; only then write $T/hole.ready.
B=$(free_port)
cat >"$T/hole.py" <<'PY'
import select, socket, sys, time
port, ready = int(sys.argv[1]), sys.argv[2]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(0)
held = []
for i in range(16):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", port))
    held.append(c)
    # Writable without error: the queue still had room.
    _, w, _ = select.select([], [c], [], 0.5)
    if not w:
        break
    if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
        sys.exit("connect to the black hole failed")
else:
    sys.exit("the accept queue never filled")
open(ready, "w").write("ok\n")
while True:
    time.sleep(60)
PY
helper hole python3 "$T/hole.py" "$B" "$T/hole.ready"
wait_until 10 test -s "$T/hole.ready" || fail "black hole not ready"

# closed_after PORT: connect to spiped, send a little, print the seconds
# until spiped closes the connection (it must, within 10 s).
closed_after() {
	python3 - "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
t0 = time.time()
s.sendall(b"hello")
s.settimeout(10)
try:
    while s.recv(4096):
        pass
except ConnectionResetError:
    pass
except socket.timeout:
    sys.exit("not closed within 10 s")
print("%.2f" % (time.time() - t0))
PY
}

for o in 1 3; do
	E=$(free_port)
	start "e-o$o" "$SP" -F -e -s "127.0.0.1:$E" -t "127.0.0.1:$B" \
	    -k "$T/key" -o "$o"
	wait_port "$E"
	dt=$(closed_after "$E") || fail "-o $o: $dt"
	log "-o $o: client closed after $dt s"
	python3 -c "import sys; lo = $o - 0.2; hi = $o + 1.5
sys.exit(0 if lo < $dt < hi else 1)" ||
	    fail "-o $o: closed after $dt s, not in ($o - 0.2, $o + 1.5)"
	grep -q "timed out connecting to the target" "$T/e-o$o.log" ||
	    fail "-o $o: no timeout line in the log"
	alive "$LASTPID" || fail "-o $o: spiped exited"
	EPID=$LASTPID
done

# Every stalled connect was abandoned: no socket of the last spiped
# still points at the black hole (its SYN_SENT sockets are closed).
python3 - "$EPID" "$B" <<'PY' || fail "spiped still holds a connect to the black hole"
import os, sys
pid, port = sys.argv[1], int(sys.argv[2])
mine = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        l = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if l.startswith("socket:["):
        mine.add(l[8:-1])
for line in open("/proc/net/tcp").readlines()[1:]:
    f = line.split()
    if int(f[2].split(":")[1], 16) == port and f[9] in mine:
        sys.exit("socket %s (state %s) to port %d" % (f[9], f[3], port))
PY
sanitizer_clean || fail "sanitizer report"
log "ok"
