#!/bin/sh
# scale.sh restart|memory|disk|all: kvlds at scale (issue 6's figures).
#
#	restart	a store of 10^7 standard pairs (built once with
#		mkpairs | bulk_insert, then reused); kvlds -c 32M started
#		3 times with the store's files in the OS page cache and 3
#		times with them dropped from it (posix_fadvise DONTNEED),
#		each timed from exec to the socket file, to the first
#		connection and to the first answered GET of a real key
#		(a small Python client polling in a tight loop).
#		Target: under 1 s.
#	memory	the same store, kvlds -c 32M, one fresh daemon for each
#		of random_read and random_mixed N=10^7 (--warmup 2
#		--seconds 20); VmRSS sampled from /proc every 0.5 s and
#		VmHWM at the end.  Target: under 64 MiB.
#	disk	a fresh store of 2^20 pairs (bulk_insert), then 21 M
#		SETs (kvlds-bench, 100 % SET, uniform over the stream's
#		2^20 keys and 40-byte values: 20 rewrites of each key on
#		average) with the default -S, du -sb of the data
#		directory sampled every second; then the same with -S 0
#		for 1 M SETs (about 4 GB of log: it grows by some 4 KB
#		per SET, as every SET writes a leaf and its path).
#		Targets: final under 2.5x the live pair bytes, never
#		over 4x (default -S); -S 0 grows without bound.
#	all	the three, in that order.
#
# Takes minutes (building the 10^7-pair store about one, the disk runs
# several), so it is not part of make bench or make test.
#
# Environment: BIN_DIR (build root, default the source tree), SCALE_DIR
# (where the 10^7-pair store is kept between runs, default
# /tmp/kvscale), KVLDS (the kvlds binary), SCALE_SETS and SCALE_SETS0
# (the SETs of the two disk runs, default 21000000 and 1000000).
# Every process it starts is stopped by pid when it ends.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${BIN_DIR:-$TOP}" && pwd)
P="$BIN/perftests"
KVLDS=${KVLDS:-$BIN/kvlds/kvlds}
SD=${SCALE_DIR:-/tmp/kvscale}
SETS=${SCALE_SETS:-21000000}
SETS0=${SCALE_SETS0:-1000000}
BIG=10000000

usage() {
	echo "usage: $0 restart|memory|disk|all" >&2
	exit 1
}
[ $# -eq 1 ] || usage
case "$1" in
restart|memory|disk|all) ;;
*) usage ;;
esac
BENCH_NAME=scale
# shellcheck source=perftests/benchlib.sh
. "$TOP/perftests/benchlib.sh"
bench_need "$KVLDS" "$P/mkpairs/mkpairs" "$P/bulk_insert/bulk_insert" \
    "$P/random_read/random_read" "$P/random_mixed/random_mixed" \
    "$P/kvlds-bench/kvlds-bench"
command -v python3 >/dev/null || { echo "scale: needs python3" >&2; exit 1; }

T=$(mktemp -d /tmp/kvscale-run.XXXXXX)
PIDS=""
cleanup() {
	# shellcheck disable=SC2086
	bench_stop_pids 300 $PIDS
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_kvlds DATADIR LOG OPTIONS...: start kvlds in the foreground on
# $T/kv.sock, wait until it accepts; its pid in KPID.
start_kvlds() {
	d=$1 log=$2
	shift 2
	rm -f "$T/kv.sock"
	"$KVLDS" -F -s "$T/kv.sock" -d "$d" "$@" >"$log" 2>&1 &
	KPID=$!
	PIDS="$PIDS $KPID"
	bench_wait "$T/kv.sock" 6000
}

# stop PID: SIGTERM, wait for it to exit (SIGKILL after 30 s).
stop() {
	bench_stop_pids 300 "$1"
	wait "$1" 2>/dev/null
	np=""
	for p in $PIDS; do
		[ "$p" = "$1" ] || np="$np $p"
	done
	PIDS=$np
}

# bigstore: the 10^7-pair store in $SD/data, built unless $SD/complete
# says an earlier run finished building it.
bigstore() {
	if [ -f "$SD/complete" ] && [ -d "$SD/data" ]; then
		echo "store: reusing $SD/data ($(du -sb "$SD/data" |
		    cut -f1) bytes)"
		return
	fi
	rm -rf "$SD"
	mkdir -p "$SD/data" || exit 1
	echo "store: building $BIG pairs in $SD/data (mkpairs | bulk_insert)"
	s=$(date +%s)
	start_kvlds "$SD/data" "$T/build.log"
	"$P/mkpairs/mkpairs" $BIG | "$P/bulk_insert/bulk_insert" -q \
	    "$T/kv.sock" >"$T/bulk" || { echo "scale: bulk_insert failed" >&2;
	    exit 1; }
	stop "$KPID"
	echo "store: $BIG pairs in $(($(date +%s) - s)) s, bulk_insert" \
	    "median $(tail -n 1 "$T/bulk") pairs/s, $(du -sb "$SD/data" |
	    cut -f1) bytes on disk"
	touch "$SD/complete"
}

# The restart client: starts kvlds (argv), polls for the socket, then
# for a connection, then sends GET of pair I of the stream until it is
# answered; checks the value; stops kvlds.  With "cold", the store's
# files are first dropped from the OS page cache.
cat >"$T/restart.py" <<'EOF'
import hashlib, os, signal, socket, subprocess, sys, time

def crc32c(data, crc=0x82F63B78):
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc.to_bytes(4, "little")

def packet(rid, rec):
    hdr = rid.to_bytes(8, "big") + len(rec).to_bytes(4, "big")
    hc = crc32c(hdr)
    rc = crc32c(rec)
    return hdr + hc + rec + bytes(a ^ b for a, b in zip(rc, hc))

mode, sock, data, i = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
argv = sys.argv[5:]
x, y = i >> 16, i & 0xffff
h = hashlib.sha256(b"\0" + x.to_bytes(8, "big") + y.to_bytes(8, "big"))
key = x.to_bytes(8, "big") + h.digest()
val = i.to_bytes(8, "big") + h.digest()
req = packet(7, (0x130).to_bytes(4, "big") + bytes([len(key)]) + key)
if mode == "cold":
    for root, _, files in os.walk(data):
        for f in files:
            fd = os.open(os.path.join(root, f), os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
try:
    os.unlink(sock)
except FileNotFoundError:
    pass
log = open(data + "/../restart.log", "ab")
t0 = time.monotonic()
p = subprocess.Popen(argv, stdout=log, stderr=log)
try:
    while not os.path.exists(sock):
        if p.poll() is not None:
            sys.exit("kvlds exited")
    t1 = time.monotonic()
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(sock)
            break
        except OSError:
            s.close()
            if p.poll() is not None:
                sys.exit("kvlds exited")
    t2 = time.monotonic()
    s.sendall(req)
    buf = b""
    while len(buf) < 16 or len(buf) < 20 + int.from_bytes(buf[8:12], "big"):
        b = s.recv(4096)
        if not b:
            sys.exit("connection closed")
        buf += b
    t3 = time.monotonic()
    rec = buf[16:16 + int.from_bytes(buf[8:12], "big")]
    if rec[:4] != b"\0\0\0\0" or rec[4] != len(val) or rec[5:] != val:
        sys.exit("wrong answer to GET of pair %d" % i)
    print("%.1f %.1f %.1f" % ((t1 - t0) * 1000, (t2 - t0) * 1000,
                              (t3 - t0) * 1000))
finally:
    p.send_signal(signal.SIGTERM)
    p.wait()
EOF

# median: the median of the numbers on standard input.
median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	    else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

do_restart() {
	echo "== restart: $BIG pairs, kvlds -c 32M, exec to first answered GET"
	bigstore
	python3 "$T/restart.py" warm "$T/kv.sock" "$SD/data" 0 "$KVLDS" -F \
	    -s "$T/kv.sock" -d "$SD/data" -c 32M >/dev/null ||
	    { echo "scale: restart client failed" >&2; exit 1; }
	for mode in warm cold; do
		: >"$T/r.$mode"
		for n in 1 2 3; do
			# A different real key each time, spread over the store.
			k=$(( (n * 3333331 + 1234567) % BIG ))
			r=$(python3 "$T/restart.py" $mode "$T/kv.sock" \
			    "$SD/data" $k "$KVLDS" -F -s "$T/kv.sock" \
			    -d "$SD/data" -c 32M) ||
			    { echo "scale: restart client failed" >&2; exit 1; }
			# shellcheck disable=SC2086
			set -- $r
			echo "restart $n ($mode, pair $k): socket $1 ms," \
			    "connect $2 ms, first GET answered $3 ms"
			echo "$3" >>"$T/r.$mode"
		done
		echo "restart ($mode): median $(median <"$T/r.$mode") ms" \
		    "to the first answered GET (target < 1000 ms)"
	done
	echo "(warm: the store's files in the OS page cache; cold: dropped" \
	    "from it with posix_fadvise DONTNEED first)"
}

# sample PID OUT: VmRSS of PID (kB) every 0.5 s into OUT, in the
# background; its pid in SPID.
sample() {
	( while kill -0 "$1" 2>/dev/null; do
		awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null
		sleep 0.5
	done ) >"$2" &
	SPID=$!
	PIDS="$PIDS $SPID"
}

do_memory() {
	echo "== memory: $BIG pairs, kvlds -c 32M, 2 s warm-up + 20 s recorded"
	bigstore
	for t in random_read random_mixed; do
		start_kvlds "$SD/data" "$T/mem.log" -c 32M
		sample "$KPID" "$T/rss.$t"
		"$P/$t/$t" --warmup 2 --seconds 20 "$T/kv.sock" $BIG \
		    >"$T/out.$t" 2>&1
		hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$KPID/status")
		stop "$SPID"
		stop "$KPID"
		peak=$(sort -n "$T/rss.$t" | tail -n 1)
		echo "$t: $(tail -n 1 "$T/out.$t")/s (median)," \
		    "$(grep -c . "$T/rss.$t") samples, peak VmRSS" \
		    "$((peak / 1024)) MiB ($peak kB), VmHWM $((hwm / 1024))" \
		    "MiB ($hwm kB) (target < 64 MiB)"
	done
}

# setrun LABEL SETS OPTIONS...: a fresh store of 2^20 pairs, then SETS
# random SETs of the stream's keys, du -sb of the data directory every
# second; prints the ratios to the live pair bytes.
setrun() {
	label=$1 sets=$2
	shift 2
	n=1048576
	live=$((n * 80))
	rm -rf "$T/d"
	mkdir "$T/d"
	"$P/mkpairs/mkpairs" $n >"$T/pairs"
	start_kvlds "$T/d" "$T/disk.log" "$@"
	"$P/bulk_insert/bulk_insert" -q "$T/kv.sock" <"$T/pairs" >/dev/null ||
	    { echo "scale: bulk_insert failed" >&2; exit 1; }
	after=$(du -sb "$T/d" | cut -f1)
	( while kill -0 "$KPID" 2>/dev/null; do
		du -sb "$T/d" 2>/dev/null | cut -f1
		sleep 1
	done ) >"$T/du" &
	SPID=$!
	PIDS="$PIDS $SPID"
	s=$(date +%s)
	"$P/kvlds-bench/kvlds-bench" -t "$T/kv.sock" --stream --keys $n \
	    --mix set=100 --dist uniform -T 2 -c 2 --inflight 2048 \
	    -n "$sets" --no-progress >"$T/kb" 2>&1 ||
	    { echo "scale: kvlds-bench failed:" >&2; cat "$T/kb" >&2; exit 1; }
	el=$(($(date +%s) - s))
	stop "$SPID"
	final=$(du -sb "$T/d" | cut -f1)
	stop "$KPID"
	max=$(sort -n "$T/du" | tail -n 1)
	[ "$final" -gt "$max" ] && max=$final
	rate=$(sed -n 's/.*(median of seconds \([0-9]*\)\/s).*/\1/p' "$T/kb")
	echo "$label: $sets SETs in $el s (median ${rate:-?} SETs/s)," \
	    "$(grep -c . "$T/du") samples"
	awk -v l="$live" -v a="$after" -v m="$max" -v f="$final" 'BEGIN {
	    printf "  live pairs %.0f bytes; after bulk_insert %.0f (%.2fx);" \
	        " max %.0f (%.2fx); final %.0f (%.2fx)\n",
	        l, a, a / l, m, m / l, f, f / l }'
	# The ratio over time: about a dozen of the samples, evenly spread.
	awk -v l="$live" '{ v[NR] = $1 } END { k = int((NR + 11) / 12);
	    if (k < 1) k = 1; printf "  ratio by second:";
	    for (i = 1; i <= NR; i += k) printf " %d:%.2f", i - 1, v[i] / l;
	    printf "\n" }' "$T/du"
}

do_disk() {
	echo "== disk: 2^20 pairs, random SETs (kvlds-bench --stream" \
	    "--mix set=100 --dist uniform, 40+40-byte pairs)"
	setrun "default -S" "$SETS"
	echo "  (targets: final < 2.5x, max never > 4x)"
	setrun "-S 0" "$SETS0" -S 0
	echo "  (-S 0 disables the cleaner: the log only grows)"
}

echo "scale.sh $1: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
    "load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
s0=$(date +%s)
case "$1" in
restart) do_restart ;;
memory) do_memory ;;
disk) do_disk ;;
all) do_restart; do_memory; do_disk ;;
esac
echo "scale.sh $1: done in $(($(date +%s) - s0)) s, load average" \
    "$(cut -d ' ' -f 1-3 /proc/loadavg)"
