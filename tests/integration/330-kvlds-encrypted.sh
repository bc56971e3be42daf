#!/bin/bash
# 330-kvlds-encrypted: kvlds's native encrypted listener (-s host:port -K).
# Every request through the client library (kvlds-cli -K) over it, with
# and without forward secrecy; Debian's spiped -e in front of it with a
# plain-protocol client behind (PFS and -f); --require-pfs refusing a -f
# peer; a wrong key, garbage, and a corrupted packet each drop only their
# own connection while another client keeps working; TCP without -K and
# the option checks are refused.  The crypto runs on the loop thread,
# and on a thread of its own in a second daemon (--crypto-thread).
# smoke
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
[ -x "$KVLDS" ] || skip "kvlds not built"
[ -x "$CLI" ] || skip "kvlds-cli not built"
export PYTHONPATH=$TOP/tests

head -c 32 /dev/urandom >"$T/key"
head -c 32 /dev/urandom >"$T/wrong.key"

# Refusals at start-up.
"$KVLDS" -F -s 127.0.0.1:1 -d "$T/d0" 2>"$T/err"
check "TCP without -K refused" [ $? = 1 ]
check "TCP without -K: says why" grep -q 'requires a key (-K)' "$T/err"
"$KVLDS" -F -s "$T/x.sock" -K "$T/key" -d "$T/d0" 2>"$T/err"
check "-K without a TCP listener refused" [ $? = 1 ]
"$KVLDS" -F -s 127.0.0.1:1 -K "$T/key" --no-pfs --require-pfs \
    -d "$T/d0" 2>"$T/err"
check "--no-pfs with --require-pfs refused" [ $? = 1 ]
"$KVLDS" -F -s "$T/x.sock" --no-pfs -d "$T/d0" 2>"$T/err"
check "--no-pfs without -K refused" [ $? = 1 ]
"$KVLDS" -F -s "$T/x.sock" --crypto-thread -d "$T/d0" 2>"$T/err"
check "--crypto-thread without -K refused" [ $? = 1 ]
"$KVLDS" -F -s 127.0.0.1:1 -K "$T/missing.key" -d "$T/d0" 2>"$T/err"
check "a missing key file refused" [ $? = 1 ]
"$KVLDS" -s 127.0.0.1:1 -K "$T/key" -d "$T/d0" 2>"$T/err"
check "detaching without a Unix socket needs -p" [ $? = 1 ]
check "... and says so" grep -q -- '-p is required' "$T/err"
check "--help documents -K" sh -c "'$KVLDS' --help | grep -q -- '-K <key file>'"

P=$(free_port)
start kvlds "$KVLDS" -F -s "127.0.0.1:$P" -s "$T/kv.sock" -K "$T/key" \
    -d "$T/data"
KPID=$LASTPID
wait_port "$P" 20
wait_socket "$T/kv.sock"
check "Unix socket mode 0600" [ "$(stat -c %a "$T/kv.sock")" = 600 ]
check "Unix socket stays plaintext" python3 -c "
import sys, kvclient as kv
c = kv.Conn(sys.argv[1]); assert c.set(b'plain', b'p') == 0" "$T/kv.sock"

# Every request through the library over the native endpoint.
A=127.0.0.1:$P
for opt in "" --no-pfs; do
	n=native${opt:+-nopfs}
	k="-K $T/key $opt"
	# shellcheck disable=SC2086
	{
	"$CLI" -t "$A" $k params >"$T/params"; check "$n: params" [ $? = 0 ]
	check "$n: params content" grep -q 255 "$T/params"
	"$CLI" -t "$A" $k set "$n-a" 1; check "$n: set" [ $? = 0 ]
	check "$n: get" [ "$("$CLI" -t "$A" $k get "$n-a")" = 1 ]
	"$CLI" -t "$A" $k get "$n-zz"; check "$n: get absent" [ $? = 1 ]
	"$CLI" -t "$A" $k add "$n-a" 2; check "$n: add existing" [ $? = 1 ]
	"$CLI" -t "$A" $k add "$n-b" 2; check "$n: add" [ $? = 0 ]
	"$CLI" -t "$A" $k modify "$n-b" 3; check "$n: modify" [ $? = 0 ]
	"$CLI" -t "$A" $k modify "$n-zz" 3; check "$n: modify absent" [ $? = 1 ]
	"$CLI" -t "$A" $k cas "$n-b" 3 4; check "$n: cas" [ $? = 0 ]
	"$CLI" -t "$A" $k cas "$n-b" 3 5; check "$n: cas mismatch" [ $? = 1 ]
	"$CLI" -t "$A" $k cad "$n-b" 9; check "$n: cad mismatch" [ $? = 1 ]
	"$CLI" -t "$A" $k cad "$n-b" 4; check "$n: cad" [ $? = 0 ]
	"$CLI" -t "$A" $k delete "$n-a"; check "$n: delete" [ $? = 0 ]
	"$CLI" -t "$A" $k set "$n-c" 5
	"$CLI" -t "$A" $k range >"$T/range"; check "$n: range" [ $? = 0 ]
	check "$n: range content" grep -q "$n-c" "$T/range"
	}
	check "$n: the pair is in the store" \
	    [ "$("$CLI" -t "$T/kv.sock" get "$n-c")" = 5 ]
done

# long_batch NAME ADDRESS: a long pipelined batch through the endpoint at
# ADDRESS: many packets each way, responses spanning packet boundaries.
long_batch() {
	awk 'BEGIN { for (i = 0; i < 20000; i++)
		printf "set k%05d %0200d\n", i, i }
	    END { for (i = 0; i < 20000; i++) printf "get k%05d\n", i }' \
	    </dev/null | "$CLI" -t "$2" -K "$T/key" batch >"$T/$1.batch"
	check "$1: batch status 0" [ $? = 0 ]
	check "$1: 20000 sets" [ "$(grep -c '^0$' "$T/$1.batch")" = 20000 ]
	check "$1: gets answered" [ "$(awk -F '\t' '$1 == 0 &&
	    $2 ~ /^0+[0-9]+$/ && length($2) == 200' "$T/$1.batch" |
	    wc -l)" = 20000 ]
}
long_batch "batch over the endpoint" "$A"

# A plain client that stays connected throughout (through Debian's
# spiped -e when installed, else on the Unix socket).
if SPIPED=$(command -v spiped); then
	start spiped_e "$SPIPED" -e -F -s "$T/e.sock" -t "$A" -k "$T/key"
	start spiped_f "$SPIPED" -e -f -F -s "$T/f.sock" -t "$A" -k "$T/key"
	wait_socket "$T/e.sock"
	wait_socket "$T/f.sock"
	for s in e f; do
		check "spiped -e${s/e/} in front: every request" python3 -c "
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
assert c.params()[0] == 255
assert c.set(b'sp-$s', b'v') == 0
assert c.get(b'sp-$s') == b'v'
assert c.add(b'sp-$s', b'w') == 1
assert c.modify(b'sp-$s', b'w') == 0
assert c.cas(b'sp-$s', b'w', b'x') == 0
assert c.cad(b'sp-$s', b'y') == 1
ids = c.send_many([kv.req_get(b'sp-$s')] * 5000)
for i in ids:
    assert kv.parse_get(c.wait(i)) == b'x'
assert any(k == b'sp-$s' for k, v in c.range_all())
assert c.delete(b'sp-$s') == 0
assert c.get(b'sp-$s') is None" "$T/$s.sock"
	done
	LIVE=$T/e.sock
else
	log "Debian spiped not installed: spiped -e part skipped"
	LIVE=$T/kv.sock
fi

# The long-lived client: connected now, used after each bad connection.
mkfifo "$T/fifo" || fail "mkfifo"
python3 -c "
import sys, os, kvclient as kv
c = kv.Conn(sys.argv[1])
assert c.set(b'live', b'0') == 0
fifo = open(sys.argv[2])
for n, line in enumerate(fifo):
    if line == 'quit\n':
        break
    assert c.set(b'live', str(n).encode()) == 0
    assert c.get(b'live') == str(n).encode()
    open(sys.argv[3], 'a').write('ok %d\n' % n)
" "$LIVE" "$T/fifo" "$T/live.out" >"$T/live.log" 2>&1 &
LIVEPID=$!
PIDS="$PIDS $LIVEPID"
exec 5>"$T/fifo"
n=0
still_live() {
	echo "$1" >&5
	wait_until 10 grep -q "^ok $n\$" "$T/live.out" ||
	    fail "the other client stopped working after $1"
	n=$((n + 1))
	log "ok: the other client still works after $1"
}
still_live "start"

# A wrong key: a clear message, status 2, the others unaffected.
"$CLI" -t "$A" -K "$T/wrong.key" get live 2>"$T/err"
check "wrong key: status 2" [ $? = 2 ]
check "wrong key: says so" grep -q 'wrong key' "$T/err"
cat "$T/err"
still_live "a wrong key"

# Garbage instead of a handshake.
python3 -c "
import socket, sys, os
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.settimeout(10)
s.sendall(os.urandom(5000))
try:
    while s.recv(65536):
        pass
except ConnectionResetError:
    pass
" "$P"
check "garbage: the connection was dropped" [ $? = 0 ]
still_live "garbage"

# A corrupted packet after a good handshake: a relay that flips one bit
# of the first data packet from the client drops that connection only.
R=$(free_port)
start relay python3 -c "
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('127.0.0.1', int(sys.argv[1]))); ls.listen(4)
def pipe(a, b, flip):
    seen = 0
    try:
        while True:
            d = bytearray(a.recv(65536))
            if not d:
                break
            # nonce 32 + (y 256 + MAC 32) = 320 bytes of handshake.
            if flip and seen <= 400 < seen + len(d):
                d[400 - seen] ^= 1
            seen += len(d)
            b.sendall(d)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass
while True:
    c, _ = ls.accept()
    u = socket.create_connection(('127.0.0.1', int(sys.argv[2])))
    threading.Thread(target=pipe, args=(c, u, True), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c, False), daemon=True).start()
" "$R" "$P"
wait_port "$R"
"$CLI" -t "127.0.0.1:$R" -K "$T/key" get live 2>"$T/err"
check "corrupted packet: status 2" [ $? = 2 ]
check "corrupted packet: logged" wait_until 10 grep -q 'bad packet' \
    "$T/kvlds.log"
still_live "a corrupted packet"

# The handshake has a deadline.
python3 -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.settimeout(20)
t = time.time()
s.recv(32)             # the server's nonce
while s.recv(4096):
    pass
sys.exit(0 if 3 < time.time() - t < 15 else 1)
" "$P"
check "a silent peer is dropped after the handshake timeout" [ $? = 0 ]
still_live "a silent peer"

# --require-pfs refuses a peer without forward secrecy; this daemon does
# its crypto on a thread of its own (--crypto-thread).
G=$(free_port)
start kvlds_g "$KVLDS" -F -s "127.0.0.1:$G" -s "$T/g.sock" -K "$T/key" \
    --require-pfs --crypto-thread -d "$T/data_g"
wait_port "$G" 20
long_batch "--crypto-thread" "127.0.0.1:$G"
"$CLI" -t "127.0.0.1:$G" -K "$T/key" set g 1
check "--require-pfs: a PFS client works" [ $? = 0 ]
"$CLI" -t "127.0.0.1:$G" -K "$T/key" --no-pfs get g 2>"$T/err"
check "--require-pfs: a --no-pfs client is refused" [ $? = 2 ]
if [ -n "${SPIPED:-}" ]; then
	start spiped_gf "$SPIPED" -e -f -F -s "$T/gf.sock" \
	    -t "127.0.0.1:$G" -k "$T/key"
	wait_socket "$T/gf.sock"
	check "--require-pfs: spiped -e -f is refused" python3 -c "
import sys, kvclient as kv
c = kv.Conn(sys.argv[1], timeout=10)
try:
    c.get(b'g')
except (EOFError, ConnectionError, kv.ProtocolError):
    sys.exit(0)
sys.exit(1)" "$T/gf.sock"
fi
check "--require-pfs: refusal logged" grep -q 'handshake failed' \
    "$T/kvlds_g.log"

echo quit >&5
exec 5>&-
wait "$LIVEPID"
check "the long-lived client ended cleanly" [ $? = 0 ]
stop "$KPID"
check "kvlds exited 0" [ $? = 0 ]
check "socket removed" [ ! -e "$T/kv.sock" ]
check "the key never appears in the log" python3 -c "
import sys
k = open(sys.argv[1], 'rb').read()
log = open(sys.argv[2], 'rb').read()
sys.exit(k in log or k.hex().encode() in log)" "$T/key" "$T/kvlds.log"
check "no sanitizer report" sanitizer_clean
