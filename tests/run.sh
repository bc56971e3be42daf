#!/bin/sh
# run.sh [--smoke]: run every unit test binary and every integration
# scenario, then print one closing line "N passed, N failed, N skipped".
#
# Environment:
#   BIN_DIR   build root holding the programs and tests/unit binaries (.)
#   VALGRIND  1 = run unit tests and daemons under valgrind memcheck
#   SANITIZE  1 = binaries are ASan/UBSan builds (scripts scan their logs)
#   ONLY      a pattern: run only the unit tests / scenarios matching it
#   TEST_TIMEOUT  seconds one integration scenario may take (300)
SMOKE=0
[ "$1" = "--smoke" ] && SMOKE=1
BIN_DIR=${BIN_DIR:-.}
export BIN_DIR
BIN_DIR_ABS=$(cd "$BIN_DIR" && pwd)
export BIN_DIR_ABS
LOGDIR=${LOGDIR:-$BIN_DIR/tests/logs}
mkdir -p "$LOGDIR"
passed=0 failed=0 skipped=0
failures=""

match() {
	[ -z "$ONLY" ] && return 0
	case "$1" in *$ONLY*) return 0 ;; esac
	return 1
}

VG=""
if [ "$VALGRIND" = 1 ]; then
	VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
fi

for t in "$BIN_DIR"/tests/unit/test_*; do
	[ -x "$t" ] || continue
	case "$t" in *.o|*.d) continue ;; esac
	name=$(basename "$t")
	match "$name" || continue
	log="$LOGDIR/$name.log"
	$VG "$t" >"$log" 2>&1
	rc=$?
	line=$(grep '^UNIT .*: [0-9]* passed, [0-9]* failed' "$log" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed 's/.*: \([0-9]*\) passed.*/\1/')
		f=$(echo "$line" | sed 's/.*passed, \([0-9]*\) failed.*/\1/')
	else
		p=0 f=1
	fi
	[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" != 0 ]; then
		echo "FAIL unit $name (rc $rc)"
		grep -v '^$' "$log" | tail -n 30 | sed 's/^/    /'
		failures="$failures $name"
	else
		echo "ok   unit $name ($p cases)"
	fi
done

for s in tests/integration/[0-9]*.sh; do
	[ -f "$s" ] || continue
	name=$(basename "$s" .sh)
	match "$name" || continue
	if [ "$SMOKE" = 1 ] && ! grep -q '^# smoke' "$s"; then
		continue
	fi
	log="$LOGDIR/$name.log"
	start=$(date +%s)
	timeout -k 10 "${TEST_TIMEOUT:-300}" bash "$s" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0)	passed=$((passed + 1)); echo "ok   $name (${secs}s)" ;;
	77)	skipped=$((skipped + 1))
		echo "skip $name: $(tail -n 1 "$log")" ;;
	*)	failed=$((failed + 1)); failures="$failures $name"
		echo "FAIL $name (rc $rc, ${secs}s)"
		tail -n 30 "$log" | sed 's/^/    /' ;;
	esac
done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
