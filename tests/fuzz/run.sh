#!/bin/sh
# run.sh SECONDS [TARGET...]: build every libFuzzer target (or the named
# ones) and run each for SECONDS seconds, then print per-target executions
# and crashes.  Exits non-zero if any target crashed or failed to build;
# exits 77 if clang is missing.
#
# A target is tests/fuzz/fuzz_NAME.c defining LLVMFuzzerTestOneInput.  It
# declares what it needs to link in comment lines that this script reads:
#
#	// SOURCES: lib/packet/packet.c lib/crc32c/crc32c.c ...
#	// CFLAGS: -DSOMETHING            (optional)
#	// LIBS: -levent                  (optional)
#
# (paths relative to the top of the repository; several lines of each kind
# add up).  It is built with
#	clang -g -O1 -fsanitize=fuzzer,address,undefined
# straight from those sources, independently of the normal build tree,
# into build/fuzz/NAME/.  Its seed corpus is tests/fuzz/corpus/NAME/
# (read only: new inputs go to build/fuzz/NAME/corpus/, crash inputs to
# build/fuzz/NAME/crash-*).
#
# Environment: FUZZ_ARGS adds libFuzzer options; CC_FUZZ replaces clang;
# FUZZ_OUT replaces build/fuzz as the output folder.
# Targets run one after another (the machine is shared).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1
SECS=${1:-60}
[ $# -gt 0 ] && shift
CC_FUZZ=${CC_FUZZ:-clang}
OUT=${FUZZ_OUT:-$TOP/build/fuzz}

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
	echo "run.sh: $CC_FUZZ not found; cannot fuzz"
	exit 77
fi

if [ $# -gt 0 ]; then
	targets=""
	for t in "$@"; do targets="$targets tests/fuzz/fuzz_$t.c"; done
else
	targets=$(ls tests/fuzz/fuzz_*.c 2>/dev/null)
fi
[ -n "$targets" ] || { echo "run.sh: no fuzz targets"; exit 1; }

# directive FILE KEY: the words of every "// KEY:" line of FILE.
directive() {
	sed -n "s|^// $2:[[:space:]]*||p" "$1" | tr '\n' ' '
}

bad=0
summary=""
for src in $targets; do
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	dir=$OUT/$name
	mkdir -p "$dir/corpus"
	srcs=$(directive "$src" SOURCES)
	cflags=$(directive "$src" CFLAGS)
	libs=$(directive "$src" LIBS)
	# shellcheck disable=SC2086
	if ! "$CC_FUZZ" -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE \
	    -Ilib -I. -Itests/fuzz $cflags -o "$dir/fuzz_$name" "$src" \
	    $srcs $libs >"$dir/build.log" 2>&1; then
		echo "FAIL $name: build failed:"
		sed 's/^/    /' "$dir/build.log" | head -n 30
		bad=1
		summary="$summary
  $name: build failed"
		continue
	fi

	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=""
	rm -f "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*
	# shellcheck disable=SC2086
	"$dir/fuzz_$name" -max_total_time="$SECS" -print_final_stats=1 \
	    -artifact_prefix="$dir/" -timeout=10 -rss_limit_mb=1024 \
	    ${FUZZ_ARGS:-} "$dir/corpus" $seeds >"$dir/run.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' \
	    "$dir/run.log" | tail -n 1)
	crashes=$(find "$dir" -maxdepth 1 \( -name 'crash-*' -o \
	    -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	if [ "$rc" != 0 ] && [ "$crashes" = 0 ]; then
		crashes=1
	fi
	line="$name: ${execs:-0} executions, $crashes crashes"
	summary="$summary
  $line"
	if [ "$crashes" != 0 ]; then
		bad=1
		echo "FAIL $line (rc $rc); log $dir/run.log:"
		grep -E 'ERROR|runtime error|SUMMARY|#0|#1 |#2 |#3 ' \
		    "$dir/run.log" | head -n 20 | sed 's/^/    /'
		ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* \
		    "$dir"/oom-* 2>/dev/null | sed 's/^/    input: /'
	else
		echo "ok   $line"
	fi
done

echo "fuzz summary ($SECS s per target):$summary"
exit $bad
