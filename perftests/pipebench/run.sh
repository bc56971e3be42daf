#!/bin/bash
# pipebench/run.sh: our spiped against Debian's, side by side in one run.
#
#	sh perftests/pipebench/run.sh [SIZE] [ROUNDS] [HANDSHAKES]
#
# For each tool, a pair "spiped -e -> spiped -d -> pipebench sink/echo" on
# 127.0.0.1, then, alternating ours and theirs ROUNDS times:
#   - throughput of one connection (SIZE bytes, default 512M, one way;
#     pipebench -q: the ends neither generate nor hash data per byte, so
#     that they leave the CPU to the daemons; the sink checks the count),
#     MiB/s;
#   - sequential handshakes per second with forward secrecy (HANDSHAKES
#     connections, each echoing one byte), connections/s;
#   - 4 connections at once (SIZE/4 each), total MiB/s;
#   - CPU time of both daemons per MiB moved on one connection (from
#     /proc/PID/stat: independent of what else loads the machine);
# and once, system calls per MiB moved, counted by strace -c -f on both
# daemons of each pair over a 256 MiB transfer.  Prints the best of the
# rounds for each figure, both tools and the ratio ours/theirs.
# Needs /usr/bin/spiped (Debian's package spiped) and strace.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OURS=$TOP/spiped/spiped
PB=$TOP/perftests/pipebench/pipebench
DEB=/usr/bin/spiped
SIZE=${1:-512M}
ROUNDS=${2:-3}
HS=${3:-500}
W=$(mktemp -d /tmp/pipebench.XXXXXX)
PIDS=""

cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT

[ -x "$DEB" ] || { echo "Debian's spiped is not installed"; exit 1; }
[ -x "$OURS" ] && [ -x "$PB" ] || { echo "build first (make all)"; exit 1; }

port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
waitport() {
	local i
	for i in $(seq 500); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.01
	done
	echo "port $1 not ready"; exit 1
}
bg() { "$@" >>"$W/log" 2>&1 & PIDS="$PIDS $!"; LAST=$!; }

head -c 32 /dev/urandom >"$W/key"
SINK=$(port); bg "$PB" sink -q -s "127.0.0.1:$SINK"
ECHO=$(port); bg "$PB" echo -s "127.0.0.1:$ECHO"
waitport "$SINK"; waitport "$ECHO"

# pair NAME TOOL TARGET: start -d and -e; set NAME to the -e port and
# NAME_PIDS to both daemons' pids.
pair() {
	local name=$1 tool=$2 target=$3 d e dp
	d=$(port); bg "$tool" -F -d -s "127.0.0.1:$d" -t "127.0.0.1:$target" -k "$W/key"
	dp=$LAST
	e=$(port); bg "$tool" -F -e -s "127.0.0.1:$e" -t "127.0.0.1:$d" -k "$W/key"
	waitport "$d"; waitport "$e"
	printf -v "$name" '%s' "$e"
	printf -v "${name}_PIDS" '%s' "$dp $LAST"
}
pair O_SINK "$OURS" "$SINK"; pair D_SINK "$DEB" "$SINK"
pair O_ECHO "$OURS" "$ECHO"; pair D_ECHO "$DEB" "$ECHO"

# CPU time (user + system, ms) used so far by the given processes.
cpu_ms() {
	local p t=0 hz
	hz=$(getconf CLK_TCK)
	for p in "$@"; do
		t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$p/stat") ))
	done
	echo $(( t * 1000 / hz ))
}

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
max() { if awk "BEGIN{exit !($1 > $2)}"; then echo "$1"; else echo "$2"; fi; }

declare -A best
for k in o_tp d_tp o_hs d_hs o_par d_par; do best[$k]=0; done
best[o_cpu]=999999; best[d_cpu]=999999
mib=$(( $(numfmt --from=iec "$SIZE") / 1048576 ))
quarter=$(( $(numfmt --from=iec "$SIZE") / 4 ))
for r in $(seq "$ROUNDS"); do
	for who in o d; do
		if [ $who = o ]; then es=$O_SINK; ee=$O_ECHO; pp=$O_SINK_PIDS
		else es=$D_SINK; ee=$D_ECHO; pp=$D_SINK_PIDS; fi
		# shellcheck disable=SC2086
		c0=$(cpu_ms $pp)
		v=$("$PB" send -q -t "127.0.0.1:$es" -n "$SIZE" | tee -a "$W/log" | field 'MiB\/s')
		# shellcheck disable=SC2086
		c=$(awk "BEGIN { printf \"%.2f\", ($(cpu_ms $pp) - $c0) / $mib }")
		best[${who}_tp]=$(max "${v:-0}" "${best[${who}_tp]}")
		if awk "BEGIN{exit !($c < ${best[${who}_cpu]})}"; then best[${who}_cpu]=$c; fi
		v=$("$PB" hs -t "127.0.0.1:$ee" -n "$HS" | tee -a "$W/log" | field 'conn\/s')
		best[${who}_hs]=$(max "${v:-0}" "${best[${who}_hs]}")
		v=$("$PB" send -q -t "127.0.0.1:$es" -n "$quarter" -c 4 | tee -a "$W/log" | field 'MiB\/s')
		best[${who}_par]=$(max "${v:-0}" "${best[${who}_par]}")
		echo "round $r $who: tp ${best[${who}_tp]} hs ${best[${who}_hs]} par ${best[${who}_par]}" >&2
	done
done

# System calls per MiB: both daemons of a fresh pair under strace -c.
syscalls() {
	local tool=$1 d e dp ep total
	d=$(port); strace -c -f -o "$W/st.d" "$tool" -F -d -s "127.0.0.1:$d" -t "127.0.0.1:$SINK" -k "$W/key" >>"$W/log" 2>&1 &
	dp=$!; PIDS="$PIDS $dp"
	e=$(port); strace -c -f -o "$W/st.e" "$tool" -F -e -s "127.0.0.1:$e" -t "127.0.0.1:$d" -k "$W/key" >>"$W/log" 2>&1 &
	ep=$!; PIDS="$PIDS $ep"
	waitport "$d"; waitport "$e"
	"$PB" send -q -t "127.0.0.1:$e" -n 256M >>"$W/log" || echo "strace transfer failed" >&2
	# Signal the daemons themselves; strace then writes its summary.
	kill -TERM $(ps -o pid= --ppid "$ep") $(ps -o pid= --ppid "$dp")
	wait "$ep" "$dp" 2>/dev/null
	total=$(cat "$W/st.d" "$W/st.e" | awk '$NF == "total" { s += $(NF-2) } END { print s }')
	echo $(( total / 256 ))
	cp "$W/st.e" "$W/strace.$2.e"; cp "$W/st.d" "$W/strace.$2.d"
}
o_sc=$(syscalls "$OURS" ours)
d_sc=$(syscalls "$DEB" debian)

ratio() { awk "BEGIN { if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"-\" }"; }
printf '%-40s %12s %12s %8s\n' "figure (best of $ROUNDS)" ours debian ratio
printf '%-40s %12s %12s %8s\n' "1 connection, MiB/s ($SIZE)" "${best[o_tp]}" "${best[d_tp]}" "$(ratio "${best[o_tp]}" "${best[d_tp]}")"
printf '%-40s %12s %12s %8s\n' "handshakes/s, PFS, sequential ($HS)" "${best[o_hs]}" "${best[d_hs]}" "$(ratio "${best[o_hs]}" "${best[d_hs]}")"
printf '%-40s %12s %12s %8s\n' "4 connections at once, MiB/s" "${best[o_par]}" "${best[d_par]}" "$(ratio "${best[o_par]}" "${best[d_par]}")"
printf '%-40s %12s %12s %8s\n' "CPU ms per MiB (-e + -d, 1 connection)" "${best[o_cpu]}" "${best[d_cpu]}" "$(ratio "${best[o_cpu]}" "${best[d_cpu]}")"
printf '%-40s %12s %12s %8s\n' "syscalls per MiB (-e and -d, strace -c)" "$o_sc" "$d_sc" "$(ratio "$o_sc" "$d_sc")"
if [ -n "${KEEP_STRACE:-}" ]; then
	cp "$W"/strace.* "$KEEP_STRACE"/ 2>/dev/null
fi
