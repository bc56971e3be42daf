#!/bin/bash
# s3bench.sh: kvlds with its pages on an S3-compatible object store, next
# to the same runs on local disk: bulk_insert of 2^LOG2N pairs; random_read
# over them by the same daemon (warm: the pages it wrote are still in its
# page cache), then again after a restart (cold: every page comes from
# the store once); and the requests and bytes kvlds sent to the store per
# 1,000 client writes (from its SIGUSR1 counters).
#
# usage: perftests/s3bench.sh [LOG2N [SECONDS]]   (default 20, 5)
#
# The store: S3BENCH_ENDPOINT and S3BENCH_CREDENTIALS (a --s3-credentials
# file) name a running one; otherwise a one-node Ceph (radosgw) is
# started on 127.0.0.1 with tests/s3/start-ceph.sh (as root, with the
# packages of `sh tests/deps.sh s3`) and stopped at the end.
# Environment: BIN_DIR (build root), S3BENCH_BUCKET (default kvbench),
# KVLDS_OPTS (extra kvlds options for both runs).
set -u
LOG2N=${1:-20}
SECS=${2:-5}
WARM=2
N=$((1 << LOG2N))
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${BIN_DIR:-$TOP}" && pwd)
P=$BIN/perftests
KVLDS=$BIN/kvlds/kvlds
BENCH_NAME=s3bench
# shellcheck source=perftests/benchlib.sh
. "$TOP/perftests/benchlib.sh"
bench_need "$KVLDS" "$P/mkpairs/mkpairs" "$P/bulk_insert/bulk_insert" \
    "$P/random_read/random_read"

D=$(mktemp -d /var/tmp/s3bench.XXXXXX)
PIDS=""
CEPH=""
cleanup() {
	# shellcheck disable=SC2086
	bench_stop_pids 300 $PIDS
	[ -n "$CEPH" ] && "$TOP/tests/s3/stop-ceph.sh" "$CEPH"
	[ -n "${S3BENCH_KEEP:-}" ] || rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${S3BENCH_ENDPOINT:-}" ]; then
	EP=$S3BENCH_ENDPOINT
	CRED=${S3BENCH_CREDENTIALS:?S3BENCH_CREDENTIALS is needed too}
else
	PORT=$(bench_freeport)
	CEPH=$D/ceph
	echo "s3bench: starting Ceph (radosgw on 127.0.0.1:$PORT)" >&2
	"$TOP/tests/s3/start-ceph.sh" "$CEPH" "$PORT" >"$D/ceph.log" 2>&1 ||
	    { cat "$D/ceph.log"; CEPH=""; exit 1; }
	EP=$(cat "$CEPH/endpoint")
	CRED=$CEPH/credentials
fi
BUCKET=${S3BENCH_BUCKET:-kvbench}
PREFIX=run$(date +%s)
export KVLDS_S3_LOCKDIR=$D

echo "s3bench: generating 2^$LOG2N pairs" >&2
"$P/mkpairs/mkpairs" $N >"$D/pairs" || exit 1

# kvstart NAME STORE: start kvlds on STORE (KPID, socket $D/NAME.sock).
kvstart() {
	local s3opts=""
	case "$2" in
	s3://*) s3opts="--s3-endpoint $EP --s3-credentials $CRED" ;;
	esac
	# shellcheck disable=SC2086
	"$KVLDS" -F -s "$D/$1.sock" -d "$2" $s3opts ${KVLDS_OPTS:-} \
	    >>"$D/$1.log" 2>&1 &
	KPID=$!
	PIDS="$PIDS $KPID"
	bench_wait "$D/$1.sock" 6000
}
kvstop() {
	local i=0
	kill -TERM "$KPID"
	while kill -0 "$KPID" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
# counters NAME: SIGUSR1; print the newest store counters line.
counters() {
	local n i=0
	n=$(grep -c 'handshakes in progress' "$D/$1.log")
	kill -USR1 "$KPID"
	until [ "$(grep -c 'handshakes in progress' "$D/$1.log")" -gt "$n" ]; do
		i=$((i + 1))
		[ $i -gt 1000 ] && break
		sleep 0.01
	done
	grep 's3: requests' "$D/$1.log" | tail -n 1
}
# field LINE NAME: the number after NAME.
field() {
	echo "$1" | grep -o "$2 [0-9]*" | head -n 1 | awk '{print $NF}'
}
# rate FILE: the last line (the figure).
rate() { tail -n 1 "$1"; }

for target in disk s3; do
	case $target in
	disk) store=$D/data ;;
	s3) store=s3://$BUCKET/$PREFIX ;;
	esac
	echo "s3bench: $target: bulk_insert of $N pairs" >&2
	kvstart $target "$store"
	t0=$(date +%s%N)
	"$P/bulk_insert/bulk_insert" "$D/$target.sock" <"$D/pairs" \
	    >"$D/$target.bulk" || exit 1
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $target = s3 ] && C1=$(counters $target)
	echo "s3bench: $target: random_read, warm ($WARM s + $SECS s)" >&2
	"$P/random_read/random_read" --warmup $WARM --seconds $SECS \
	    "$D/$target.sock" $N >"$D/$target.warm" || exit 1
	kvstop
	echo "s3bench: $target: random_read after a restart" \
	    "($WARM s + $SECS s)" >&2
	kvstart $target "$store"
	[ $target = s3 ] && C2=$(counters $target)
	"$P/random_read/random_read" --warmup $WARM --seconds $SECS \
	    "$D/$target.sock" $N >"$D/$target.read" || exit 1
	[ $target = s3 ] && C3=$(counters $target)
	kvstop
	eval "BULK_$target=\$(rate \$D/\$target.bulk)"
	eval "BULKMS_$target=\$ms"
	eval "WARM_$target=\$(rate \$D/\$target.warm)"
	eval "READ_$target=\$(rate \$D/\$target.read)"
done

req=$(field "$C1" requests)
out=$(field "$C1" "bytes sent")
bput=$(field "$C1" "batch PUTs")
pput=$(field "$C1" "pointer PUTs")
raw=$(field "$C1" "raw GETs")
del=$(field "$C1" DELETEs)
gets=$(( $(field "$C3" "page GETs") - $(field "$C2" "page GETs") ))
hits=$(( $(field "$C3" "cache hits") - $(field "$C2" "cache hits") ))
echo
echo "kvlds on local disk vs on S3 ($EP), 2^$LOG2N pairs"
printf '%-34s %14s %14s\n' "" "local disk" "S3"
printf '%-34s %14s %14s\n' "bulk_insert (pairs/s)" "$BULK_disk" "$BULK_s3"
printf '%-34s %14s %14s\n' "bulk_insert wall time (ms)" "$BULKMS_disk" \
    "$BULKMS_s3"
printf '%-34s %14s %14s\n' "random_read, warm (GET/s)" \
    "$WARM_disk" "$WARM_s3"
printf '%-34s %14s %14s\n' "random_read after restart (GET/s)" \
    "$READ_disk" "$READ_s3"
echo
echo "requests to the store during bulk_insert ($N writes):"
echo "  $C1"
awk -v n="$N" -v r="$req" -v o="$out" -v b="$bput" -v p="$pput" \
    -v g="$raw" -v d="$del" 'BEGIN {
	printf "  per 1,000 client writes: %.2f requests (%.2f batch PUTs, " \
	    "%.2f pointer PUTs, %.2f cleaner GETs, %.2f DELETEs), " \
	    "%.0f bytes sent\n", r * 1000 / n, b * 1000 / n, p * 1000 / n,
	    g * 1000 / n, d * 1000 / n, o * 1000 / n }'
secs=$((WARM + SECS))
echo "random_read after restart: $gets page GETs from the store in" \
    "$secs s ($((gets / secs))/s), $hits read-cache hits;" \
    "per second: $(grep -E '^[0-9]+ [0-9]+$' "$D/s3.read" | awk '{printf "%s ", $2}')"
