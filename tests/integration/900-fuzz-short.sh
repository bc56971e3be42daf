#!/bin/bash
# 900-fuzz-short: build every libFuzzer target in tests/fuzz and run each
# briefly (10 s, less when there are many targets, so that the scenario
# stays near 1.5 minutes), failing on any crash or sanitizer report.
# `make fuzz` runs the same targets for 60 s each.
. "$(dirname "$0")/../lib.sh"

# The fuzz binaries carry their own sanitizers and do not depend on the
# build tree, so the sanitizer pass would only repeat the plain one.
[ "${SANITIZE:-0}" = 1 ] && skip "fuzzing already ran under make test"
command -v clang >/dev/null 2>&1 || skip "clang not installed"
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a \
    >/dev/null 2>&1 || skip "libFuzzer runtime (libclang-rt-dev) missing"

n=$(ls "$TOP"/tests/fuzz/fuzz_*.c 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || skip "no fuzz targets"
secs=10
if [ $((n * secs)) -gt 90 ]; then
	secs=$((90 / n))
	[ "$secs" -ge 3 ] || secs=3
fi
log "fuzzing $n targets for $secs s each"

FUZZ_OUT="$T/fuzz" sh "$TOP/tests/fuzz/run.sh" "$secs" >"$T/fuzz-run.out" 2>&1
rc=$?
cat "$T/fuzz-run.out"
[ $rc = 77 ] && skip "fuzz run skipped"
[ $rc = 0 ] || fail "fuzzing found crashes or a target failed to build"

# Every target really ran.
ran=$(grep -c '^ok   .*: [1-9][0-9]* executions, 0 crashes' "$T/fuzz-run.out")
check "all $n targets executed inputs" [ "$ran" = "$n" ]
