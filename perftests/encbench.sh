#!/bin/bash
# encbench.sh [ROUNDS]: random_read over kvlds's transports, side by side.
#
# Starts one kvlds (Unix socket plus the native encrypted listener, -K),
# loads 2^20 pairs, then starts two spiped -e -> spiped -d pairs in front
# of the Unix socket: ours (spiped/spiped) and Debian's (/usr/bin/spiped,
# skipped if absent).  Each round runs random_read over
#
#	unix	the Unix socket
#	native	client -K -> kvlds's native encrypted listener
#	ours	plain client -> our spiped -e -> our spiped -d -> Unix socket
#	debian	the same through Debian's spiped 1.6
#
# one right after the other (so that whatever else shares the machine
# weighs on all of them alike), and prints per round each figure (GETs/s,
# the median of the recorded seconds) and GETs per CPU-second of every
# process involved (client, kvlds, and the pair's two spipeds) over the
# recorded seconds; then the per-round ratios native/unix, native/ours
# and native/debian, and their medians.
#
# Environment: BIN_DIR (build root, default the source tree), KVLDS
# (the kvlds binary), KVLDS_OPTS (extra kvlds options), ENC_CLIENT_OPTS
# (extra random_read options, the same for every run), ENC_LOG2N
# (default 20), ENC_WARMUP (2), ENC_SECONDS (5), ENC_ROUNDS (3; the
# argument wins), ENC_RUNS (the runs of a round, default
# "unix native ours debian"; "clientkey" adds client -K -> our
# spiped -d -> Unix socket).  ENC_KVLDS_B: a second kvlds binary (say,
# a build before a change), started and loaded alike; its native listener
# is run "nativeB", added after "native" unless ENC_RUNS says otherwise,
# and native/nativeB is among the ratios.  Every process it starts is
# stopped by pid.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${BIN_DIR:-$TOP}" && pwd)
LOG2N=${ENC_LOG2N:-20}
W=${ENC_WARMUP:-2}
S=${ENC_SECONDS:-5}
ROUNDS=${1:-${ENC_ROUNDS:-3}}
KVLDS_B=${ENC_KVLDS_B:-}
if [ -n "$KVLDS_B" ]; then
	RUNS=${ENC_RUNS:-unix native nativeB ours debian}
else
	RUNS=${ENC_RUNS:-unix native ours debian}
fi
N=$((1 << LOG2N))
P=$BIN/perftests
KVLDS=${KVLDS:-$BIN/kvlds/kvlds}
OURS=$BIN/spiped/spiped
DEB=/usr/bin/spiped
HZ=$(getconf CLK_TCK)

BENCH_NAME=encbench
# shellcheck source=perftests/benchlib.sh
. "$TOP/perftests/benchlib.sh"

bench_need "$P/mkpairs/mkpairs" "$P/bulk_insert/bulk_insert" \
    "$P/random_read/random_read" "$KVLDS" "$OURS"
if [ ! -x "$DEB" ]; then
	echo "encbench: $DEB missing: no Debian pair" >&2
	RUNS=${RUNS//debian/}
fi

D=$(mktemp -d /tmp/encbench.XXXXXX)
mkfifo "$D/nap" || exit 1
exec {NAPFD}<>"$D/nap"
PIDS=""
cleanup() {
	# shellcheck disable=SC2086
	bench_stop_pids 100 $PIDS
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# bg CMD...: start CMD in the background, remember its pid in LAST.
bg() {
	"$@" >>"$D/log" 2>&1 &
	LAST=$!
	PIDS="$PIDS $LAST"
}
# The measuring loop below forks nothing while a run goes on: a grep and a
# sleep every 20 ms cost the runs 2-20% (measured).
# ticks PID...: set TICKS to the CPU clock ticks (user + system) used so
# far by the pids.
ticks() {
	local p f
	TICKS=0
	for p in "$@"; do
		read -r -a f <"/proc/$p/stat"
		TICKS=$((TICKS + f[13] + f[14]))
	done
}
# wcount FILE: set WL to the number of warm-up lines ("w...") in FILE.
wcount() {
	local l
	WL=0
	while IFS= read -r l; do
		case $l in w*) WL=$((WL + 1)) ;; esac
	done <"$1"
}
# nap: wait 20 ms (a read that times out on a FIFO nobody writes).
nap() {
	read -r -t 0.02 -u "$NAPFD" || :
}

echo "encbench: 2^$LOG2N pairs, $ROUNDS rounds of: $RUNS" \
    "($W s warm-up + $S s each)" >&2
head -c 32 /dev/urandom >"$D/key"
mkdir "$D/data"
"$P/mkpairs/mkpairs" $N >"$D/pairs" || exit 1
NATIVE=$(bench_freeport)
# shellcheck disable=SC2086
bg "$KVLDS" -F -s "$D/kv.sock" -s "127.0.0.1:$NATIVE" -K "$D/key" \
    -d "$D/data" ${KVLDS_OPTS:-}
KVPID=$LAST
bench_wait "$D/kv.sock"
bench_wait "$NATIVE"
"$P/bulk_insert/bulk_insert" "$D/kv.sock" <"$D/pairs" >/dev/null || exit 1
if [ -n "$KVLDS_B" ]; then
	mkdir "$D/dataB"
	NATIVEB=$(bench_freeport)
	# shellcheck disable=SC2086
	bg "$KVLDS_B" -F -s "$D/kvB.sock" -s "127.0.0.1:$NATIVEB" \
	    -K "$D/key" -d "$D/dataB" ${KVLDS_OPTS:-}
	KVPIDB=$LAST
	bench_wait "$D/kvB.sock"
	bench_wait "$NATIVEB"
	"$P/bulk_insert/bulk_insert" "$D/kvB.sock" <"$D/pairs" >/dev/null ||
	    exit 1
fi
rm -f "$D/pairs"

# pair NAME TOOL: a TOOL -e (Unix socket $D/NAME.sock) -> TOOL -d (TCP)
# -> kvlds's Unix socket; sets NAME_PIDS.
pair() {
	local name=$1 tool=$2 dport dp
	dport=$(bench_freeport)
	bg "$tool" -F -d -s "127.0.0.1:$dport" -t "$D/kv.sock" -k "$D/key"
	dp=$LAST
	bg "$tool" -F -e -s "$D/$name.sock" -t "127.0.0.1:$dport" -k "$D/key"
	bench_wait "$dport"
	bench_wait "$D/$name.sock"
	printf -v "${name}_PIDS" '%s' "$dp $LAST"
	printf -v "${name}_DPORT" '%s' "$dport"
	printf -v "${name}_DPID" '%s' "$dp"
}
pair ours "$OURS"
ours_PIDS=$ours_PIDS
case "$RUNS" in *debian*) pair debian "$DEB" ;; esac

# run NAME: one random_read over transport NAME; prints "GETs/s
# GETs-per-CPU-second".
run() {
	local name=$1 args pids out t0 t1 rc c sum cc cpu
	case $name in
	unix)	args="$D/kv.sock"; pids=$KVPID ;;
	native)	args="-K $D/key 127.0.0.1:$NATIVE"; pids=$KVPID ;;
	nativeB) args="-K $D/key 127.0.0.1:$NATIVEB"; pids=$KVPIDB ;;
	ours)	args="$D/ours.sock"; pids="$KVPID $ours_PIDS" ;;
	debian)	args="$D/debian.sock"; pids="$KVPID $debian_PIDS" ;;
	clientkey)
		args="-K $D/key 127.0.0.1:$ours_DPORT"
		pids="$KVPID $ours_DPID" ;;
	esac
	out=$D/out.$name
	: >"$out"
	# shellcheck disable=SC2086
	"$P/random_read/random_read" --warmup "$W" --seconds "$S" \
	    ${ENC_CLIENT_OPTS:-} $args $N \
	    >>"$out" 2>>"$D/log" &
	c=$!
	# The server side's CPU from the end of the warm-up to the end.
	t0=""
	while [ -z "$t0" ] && kill -0 $c 2>/dev/null; do
		wcount "$out"
		if [ "$WL" -ge "$W" ]; then
			# shellcheck disable=SC2086
			ticks $pids
			t0=$TICKS
		else
			nap
		fi
	done
	wait $c
	rc=$?
	# shellcheck disable=SC2086
	ticks $pids
	t1=$TICKS
	if [ $rc -ne 0 ] || [ -z "$t0" ]; then
		echo "failed failed"
		return
	fi
	# Recorded GETs: the sum of the non-warm-up seconds.
	sum=$(awk 'NF == 2 && $1 ~ /^[0-9]+$/ { s += $2 } END { print s + 0 }' \
	    "$out")
	cc=$(sed -n 's/^client-cpu \([0-9.]*\)%$/\1/p' "$out")
	cpu=$(awk "BEGIN { printf \"%.3f\", ($t1 - $t0) / $HZ + ${cc:-0} / 100 * $S }")
	echo "$(tail -n 1 "$out") $(awk "BEGIN { printf \"%d\", $sum / $cpu }")"
}

declare -A fig per
RES=$D/results
: >"$RES"
printf '%-6s' round
for r in $RUNS; do printf ' %10s %10s' "$r" "$r/cpu-s"; done
printf '   %s\n' "native/X (GETs/s / per CPU-s)"
for round in $(seq "$ROUNDS"); do
	printf '%-6s' "$round"
	for r in $RUNS; do
		read -r g c <<<"$(run "$r")"
		fig[$r]=$g
		per[$r]=$c
		printf ' %10s %10s' "$g" "$c"
	done
	line=""
	for b in unix nativeB ours debian; do
		case " $RUNS " in *" $b "*) ;; *) continue ;; esac
		case " $RUNS " in *" native "*) ;; *) continue ;; esac
		x=$(awk "BEGIN { if (${fig[$b]} + 0 > 0 && ${fig[native]} + 0 > 0)
		    printf \"%.2f\", ${fig[native]} / ${fig[$b]}; else print \"-\" }")
		y=$(awk "BEGIN { if (${per[$b]} + 0 > 0 && ${per[native]} + 0 > 0)
		    printf \"%.2f\", ${per[native]} / ${per[$b]}; else print \"-\" }")
		line="$line $b=$x/$y"
		echo "$b $x $y" >>"$RES"
	done
	printf '  %s\n' "$line"
done
# med B COL: the median of column COL (2: GETs/s, 3: per CPU-s) of B.
med() {
	awk -v b="$1" -v c="$2" '$1 == b && $c != "-" { print $c }' "$RES" |
	    sort -n | awk '{ v[n++] = $1 } END { if (n == 0) print "-";
	    else if (n % 2) print v[(n - 1) / 2];
	    else printf "%.2f\n", (v[n / 2 - 1] + v[n / 2]) / 2 }'
}
echo "medians of the per-round ratios (GETs/s; GETs per CPU-second):"
for b in unix nativeB ours debian; do
	grep -q "^$b " "$RES" || continue
	printf '  native/%-7s %5s; %5s\n' "$b" "$(med "$b" 2)" "$(med "$b" 3)"
done
