#!/bin/bash
# 309-kvlds-backpressure: a client that sends many large RANGE requests
# and does not read the answers is stopped being read (bounded memory in
# the daemon) while other connections are served; once it reads, every
# answer arrives.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
KPID=$LASTPID
wait_socket "$T/kv.sock"

check "slow reader is bounded" kvpy "$T/kv.sock" "$KPID" <<'EOF'
import socket, sys, time, kvclient as kv
path, pid = sys.argv[1], sys.argv[2]

def rss_kib():
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

c = kv.Conn(path)
ids = c.send_many([kv.req_set(b"big%05d" % i, b"v" * 250)
                   for i in range(2000)])
c.collect(ids)
# One answer, to learn its size: 2000 pairs of 2 + 8 + 250 bytes.
rec = c.call(kv.req_range(b"", b"c", 1 << 20))
nxt, pairs = kv.parse_range(rec)
assert len(pairs) == 2000 and nxt == b""
size = len(rec) + 20
base = rss_kib()

N = 300                          # ~156 MB of answers if nothing held back
slow = kv.Conn(path)
slow.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
req = b"".join(kv.packet(10 + i, kv.req_range(b"", b"c", 1 << 20))
               for i in range(N))
slow.s.setblocking(False)
sent = 0
deadline = time.time() + 10
while sent < len(req) and time.time() < deadline:
    try:
        sent += slow.s.send(req[sent:])
    except BlockingIOError:
        time.sleep(0.01)
time.sleep(1)
grown = rss_kib() - base
print("sent %d of %d request bytes; RSS grew by %d KiB" %
      (sent, len(req), grown))
assert grown < 40 * 1024, grown
# Everyone else is served meanwhile.
other = kv.Conn(path)
assert other.get(b"big01999") == b"v" * 250
assert other.set(b"other", b"1") == 0
# Now read: every answer arrives (sending the rest as the daemon reads).
slow.s.setblocking(True)
slow.s.settimeout(30)
want = N * size
got = 0
while got < want:
    if sent < len(req):
        slow.s.setblocking(False)
        try:
            sent += slow.s.send(req[sent:])
        except BlockingIOError:
            pass
        slow.s.setblocking(True)
        slow.s.settimeout(30)
    data = slow.s.recv(1 << 20)
    assert data, "connection closed after %d of %d bytes" % (got, want)
    got += len(data)
assert got == want, (got, want)
EOF
stop "$KPID"

# Under a long commit delay, a client streaming mutations is stopped being
# read once its held answers reach the bound, instead of piling up
# pending mutations for the whole delay.
start kvlds2 "$KVLDS" -F -s "$T/kv2.sock" -d "$T/data2" -w 1
wait_socket "$T/kv2.sock"
check "held answers are bounded" kvpy "$T/kv2.sock" <<'EOF'
import sys, time, kvclient as kv
c = kv.Conn(sys.argv[1])
N = 100000
req = b"".join(kv.packet(i + 1, kv.req_set(b"w%06d" % i, b"x"))
               for i in range(N))
c.s.setblocking(False)
sent = 0
t0 = time.time()
while sent < len(req) and time.time() - t0 < 0.5:
    try:
        sent += c.s.send(req[sent:])
    except BlockingIOError:
        time.sleep(0.01)
print("sent %d of %d bytes before the first commit" % (sent, len(req)))
assert sent < 1500000, sent
# Everything is answered in the end (each commit unblocks the next part).
import threading
c.s.setblocking(True)
c.s.settimeout(60)
t = threading.Thread(target=c.sendraw, args=(req[sent:],))
t.start()
got = c.collect(range(1, N + 1))
t.join()
assert all(kv.parse_status(r) == 0 for r in got.values())
EOF
