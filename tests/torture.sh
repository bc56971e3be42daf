#!/bin/sh
# torture.sh: the long reliability runs behind `make torture`, then one
# table of results.
#
#   crash       kill -9 of kvlds at random moments under load, >= 200
#               restarts, every acknowledged write checked
#               (tests/torture/crashcheck.py)
#   power loss  faultinj power cuts, torn and reordered writes under load
#   torn sweep  writes torn at every byte offset (writes up to 64 KiB;
#               sampled beyond), recovery checked (tests/torture/tornsweep.py)
#   corruption  bit flips in pages, commit records, checkpoints
#               (tests/torture/corrupt.py)
#   I/O faults  EIO/ENOSPC on write and fsync, EIO on read
#   fuzz        every libFuzzer target for FUZZ_SECS (tests/fuzz/run.sh)
#   hostile     floods, slow-loris, garbage, 4 GiB claims
#               (tests/integration/640-hostile.sh)
#   soak        SOAK_SECS at 90% of the measured peak rate with 200
#               connections, throughput/p99/RSS every second
#               (tests/torture/kvsoak)
#
# Environment (defaults are the full run): KILLS (200), FAULT_ROUNDS
# (100), IO_ROUNDS (60), SWEEP_SECS (time budget of the torn sweep, 1200),
# FUZZ_SECS (60), SOAK_SECS (600), SOAK_CONNS (200), BIN_DIR (.), ONLY
# (a space-separated subset of: crash power sweep corrupt io fuzz hostile
# soak).  Logs are kept in $TORTURE_DIR (default a new /tmp/torture.*).
# Exit status 0 when every part passed.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
BIN_DIR=${BIN_DIR:-.}
BIN=$(cd "$BIN_DIR" && pwd)
KILLS=${KILLS:-200}
FAULT_ROUNDS=${FAULT_ROUNDS:-100}
IO_ROUNDS=${IO_ROUNDS:-60}
SWEEP_SECS=${SWEEP_SECS:-1200}
FUZZ_SECS=${FUZZ_SECS:-60}
SOAK_SECS=${SOAK_SECS:-600}
SOAK_CONNS=${SOAK_CONNS:-200}
ONLY=${ONLY:-crash power sweep corrupt io fuzz hostile soak}
KVLDS=$BIN/kvlds/kvlds
FI=$BIN/tests/faultinj/faultinj.so
SOAK=$BIN/tests/torture/kvsoak
TD=$TOP/tests/torture
W=${TORTURE_DIR:-$(mktemp -d /tmp/torture.XXXXXX)}
mkdir -p "$W"
ROWS=$W/table
: >"$ROWS"
bad=0

say() { echo "[$(date +%T)] $*"; }
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
# row PART RESULT FIGURES
row() { printf '%-12s %-5s %s\n' "$1" "$2" "$3" >>"$ROWS"; }

# run PART LOG COMMAND...: run COMMAND with output to LOG (and a tail).
run() {
	part=$1 logf=$2; shift 2
	say "$part: $*"
	"$@" >"$logf" 2>&1
	rc=$?
	tail -n 3 "$logf" | sed 's/^/    /'
	[ $rc = 0 ] || { bad=1; say "$part: FAILED (rc $rc), log $logf"; }
	return $rc
}

if [ ! -x "$KVLDS" ]; then
	echo "torture.sh: $KVLDS is not built: only the fuzzers can run"
	if want fuzz; then ONLY=fuzz; else ONLY=""; fi
fi

if want crash; then
	# 1 round in 10 of the first run ends with SIGTERM instead.
	n1=$((KILLS * 3 / 4 + KILLS / 10 + 1)); n2=$((KILLS / 8)); n3=$((KILLS / 8))
	run crash "$W/crash1.log" python3 "$TD/crashcheck.py" \
	    --kvlds "$KVLDS" --workdir "$W/crash1" --rounds "$n1" \
	    --conns 16 --keys 64 --kill-max 1.0 --term-every 10 \
	    --startkill-every 7
	run crash "$W/crash2.log" python3 "$TD/crashcheck.py" \
	    --kvlds "$KVLDS" --workdir "$W/crash2" --kvlds-args "-b 1024" \
	    --rounds "$n2" --conns 32 --keys 100 --kill-max 1.5
	run crash "$W/crash3.log" python3 "$TD/crashcheck.py" \
	    --kvlds "$KVLDS" --workdir "$W/crash3" \
	    --kvlds-args "-b 2048 -w 0.003 -g 100" --rounds "$n3" --conns 64 \
	    --keys 32 --depth 4 --kill-max 1.5
	k=0 l=0 f=0 a=0 t=0 sk=0
	for x in 1 2 3; do
		s=$(grep '^crashcheck: [0-9]* rounds' "$W/crash$x.log" | tail -n 1)
		k=$((k + $(echo "$s" | sed -n 's/^crashcheck: [0-9]* rounds, \([0-9]*\) kills,.*/\1/p' | grep . || echo 0)))
		t=$((t + $(echo "$s" | sed -n 's/.* \([0-9]*\) SIGTERMs under load.*/\1/p' | grep . || echo 0)))
		sk=$((sk + $(echo "$s" | sed -n 's/.* \([0-9]*\) kills during start-up.*/\1/p' | grep . || echo 0)))
		a=$((a + $(echo "$s" | sed -n 's/.* \([0-9]*\) acks.*/\1/p' | grep . || echo 0)))
		l=$((l + $(echo "$s" | sed -n 's/.*lost acknowledged writes: \([0-9]*\).*/\1/p' | grep . || echo 0)))
		f=$((f + $(echo "$s" | sed -n 's/.*failures: \([0-9]*\).*/\1/p' | grep . || echo 1)))
	done
	[ "$f" = 0 ] && r=PASS || r=FAIL
	row crash "$r" "kill -9 survived $k (target $KILLS), plus $sk kills during start-up and $t SIGTERMs under load; acknowledgements checked $a, lost acknowledged writes $l, failures $f"
fi

if want power; then
	run power "$W/power.log" python3 "$TD/crashcheck.py" \
	    --kvlds "$KVLDS" --workdir "$W/power" --faultinj "$FI" \
	    --faults powerloss,torn,reorder,powerloss-sync,reorder-sync,torn-write \
	    --fault-at-max 300 --rounds "$FAULT_ROUNDS" --conns 16 --keys 64 \
	    --kill-max 2.0
	s=$(grep '^crashcheck: [0-9]* rounds' "$W/power.log" | tail -n 1)
	[ -n "$s" ] && echo "$s" | grep -q 'failures: 0$' && r=PASS || r=FAIL
	row "power loss" "$r" "$(echo "$s" | sed 's/^crashcheck: //;s/, [0-9]* RANGE pairs//')"
fi

if want sweep; then
	half=$((SWEEP_SECS / 2))
	run sweep "$W/sweep512.log" python3 "$TD/tornsweep.py" \
	    --kvlds "$KVLDS" --faultinj "$FI" --workdir "$W/sweep512" \
	    --kvlds-args "-b 512" --prefill 200 --writes 10 --every 65536 \
	    --max-time "$half"
	run sweep "$W/sweep4k.log" python3 "$TD/tornsweep.py" \
	    --kvlds "$KVLDS" --faultinj "$FI" --workdir "$W/sweep4k" \
	    --writes 6 --every 65536 --samples 600 --max-time "$half"
	c=0 o=0 f=0
	for x in 512 4k; do
		s=$(grep '^tornsweep: [0-9]* cases' "$W/sweep$x.log" | tail -n 1)
		c=$((c + $(echo "$s" | sed -n 's/^tornsweep: \([0-9]*\) cases.*/\1/p' | grep . || echo 0)))
		o=$((o + $(echo "$s" | sed -n 's/.* \([0-9]*\) recovered.*/\1/p' | grep . || echo 0)))
		f=$((f + $(echo "$s" | sed -n 's/.* \([0-9]*\) failed.*/\1/p' | grep . || echo 1)))
	done
	w=$(grep -h '^write [0-9]*:' "$W"/sweep*.log | sed 's/^write [0-9]*: [^ ]* offset [0-9]*, \([0-9]*\) bytes, \([0-9]*\) tear.*/\1 B x \2/' | tr '\n' ';')
	[ "$f" = 0 ] && r=PASS || r=FAIL
	row "torn sweep" "$r" "cases $c, recovered $o, failed $f (writes: $w)"
fi

if want corrupt; then
	run corrupt "$W/corrupt1.log" python3 "$TD/corrupt.py" \
	    --kvlds "$KVLDS" --workdir "$W/corrupt1" --kvlds-args "-b 1024" \
	    --keys 3000 --leaves 12
	run corrupt "$W/corrupt2.log" python3 "$TD/corrupt.py" \
	    --kvlds "$KVLDS" --workdir "$W/corrupt2" --kvlds-args "-b 4096" \
	    --keys 6000 --leaves 12
	c=0 d=0 f=0
	for x in 1 2; do
		s=$(grep '^corrupt: [0-9]* cases' "$W/corrupt$x.log" | tail -n 1)
		c=$((c + $(echo "$s" | sed -n 's/^corrupt: \([0-9]*\) cases.*/\1/p' | grep . || echo 0)))
		d=$((d + $(echo "$s" | sed -n 's/.*(\([0-9]*\) live-data.*/\1/p' | grep . || echo 0)))
		f=$((f + $(echo "$s" | sed -n 's/.*, \([0-9]*\) failed.*/\1/p' | grep . || echo 1)))
	done
	[ "$f" = 0 ] && r=PASS || r=FAIL
	fl=$(grep -h '^FAIL: ' "$W"/corrupt*.log | cut -c7-70 | sort -u | tr '\n' ';')
	row corruption "$r" "cases $c, live-data corruptions detected $d, failed $f${fl:+ ($fl)}"
fi

if want io; then
	run io "$W/io1.log" python3 "$TD/crashcheck.py" \
	    --kvlds "$KVLDS" --workdir "$W/io1" --faultinj "$FI" \
	    --faults eio-write,enospc-write,eio-sync,enospc-sync,eio,enospc \
	    --fault-at-max 300 --rounds "$IO_ROUNDS" --conns 8 --keys 64 \
	    --kill-max 2.0
	run io "$W/io2.log" python3 "$TD/crashcheck.py" \
	    --kvlds "$KVLDS" --workdir "$W/io2" --faultinj "$FI" \
	    --kvlds-args "-b 512 -C 16" --faults eio-read --fault-at-max 600 \
	    --rounds $((IO_ROUNDS / 3)) --conns 8 --keys 100 --kill-max 1.5
	n=0 e=0 l=0 f=0
	for x in 1 2; do
		s=$(grep '^crashcheck: [0-9]* rounds' "$W/io$x.log" | tail -n 1)
		n=$((n + $(echo "$s" | sed -n 's/.* \([0-9]*\) fault runs.*/\1/p' | grep . || echo 0)))
		e=$((e + $(echo "$s" | sed -n 's/.* \([0-9]*\) self-exits.*/\1/p' | grep . || echo 0)))
		l=$((l + $(echo "$s" | sed -n 's/.*lost acknowledged writes: \([0-9]*\).*/\1/p' | grep . || echo 0)))
		f=$((f + $(echo "$s" | sed -n 's/.*failures: \([0-9]*\).*/\1/p' | grep . || echo 1)))
	done
	[ "$f" = 0 ] && r=PASS || r=FAIL
	row "I/O faults" "$r" "fault runs $n, daemon exits on a fault $e, lost acknowledged writes $l, failures $f"
fi

if want fuzz; then
	if [ -f tests/fuzz/run.sh ]; then
		run fuzz "$W/fuzz.log" sh tests/fuzz/run.sh "$FUZZ_SECS"
		rc=$?
		if [ $rc = 77 ]; then
			row fuzz SKIP "$(tail -n 1 "$W/fuzz.log")"
		else
			sed -n '/^fuzz summary/,$p' "$W/fuzz.log" | sed 1d |
			    sed 's/^ *//' >"$W/fuzz.sum"
			[ $rc = 0 ] && r=PASS || r=FAIL
			row fuzz "$r" "$FUZZ_SECS s per target: $(tr '\n' ';' <"$W/fuzz.sum")"
		fi
	else
		row fuzz SKIP "tests/fuzz/run.sh is missing"
	fi
fi

if want hostile; then
	run hostile "$W/hostile.log" env BIN_DIR_ABS="$BIN" bash \
	    tests/integration/640-hostile.sh
	for k in kvlds spiped; do
		s=$(grep "^hostile $k:" "$W/hostile.log" | tail -n 1)
		[ -n "$s" ] || continue
		echo "$s" | grep -q 'failures 0$' && r=PASS || r=FAIL
		row "hostile" "$r" "$(echo "$s" | sed 's/^hostile //;s/PASS, //;s/FAIL, //')"
	done
fi

if want soak; then
	say "soak: measuring the peak rate, then $SOAK_SECS s at 90% of it"
	SD=$W/soak
	mkdir -p "$SD"
	"$KVLDS" -s "$SD/kv.sock" -d "$SD/data" -F -n 1000 >"$SD/kvlds.log" 2>&1 &
	SPID=$!
	i=0
	while [ ! -S "$SD/kv.sock" ] && [ $i -lt 500 ]; do
		sleep 0.02; i=$((i + 1))
	done
	sleep 0.2
	"$SOAK" -s "$SD/kv.sock" -c "$SOAK_CONNS" -t 20 -p $SPID \
	    >"$W/soak-peak.log" 2>&1
	peak=$(sed -n 's/.*: mean \([0-9]*\) ops\/s.*/\1/p' "$W/soak-peak.log")
	peak=${peak:-0}
	rate=$((peak * 9 / 10))
	if [ "$rate" -gt 0 ]; then
		run soak "$W/soak.log" "$SOAK" -s "$SD/kv.sock" \
		    -c "$SOAK_CONNS" -t "$SOAK_SECS" -r "$rate" -p $SPID
		s=$(grep '^kvsoak:' "$W/soak.log" | tail -n 1)
		echo "$s" | grep -q 'failed requests 0;.*lost acknowledged writes 0$' &&
		    r=PASS || { r=FAIL; bad=1; }
		row soak "$r" "peak $peak ops/s (GET/SET 50/50, fsync on), held at $rate: $(echo "$s" | sed 's/^kvsoak: //;s/ rate [0-9]*\/s://')"
	else
		bad=1
		row soak FAIL "could not measure the peak: $(tail -n 2 "$W/soak-peak.log" | tr '\n' ' ')"
	fi
	kill -TERM $SPID 2>/dev/null
	wait $SPID
	src=$?
	[ $src = 0 ] || { bad=1; row soak FAIL "kvlds exited $src on SIGTERM after the soak"; }
fi

echo
echo "==================== make torture: results ===================="
cat "$ROWS"
echo "(logs in $W)"
grep -q ' FAIL ' "$ROWS" && bad=1
exit $bad
