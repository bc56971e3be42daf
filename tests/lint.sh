#!/bin/sh
# lint.sh: cppcheck and clang-tidy over every C source of the project
# (lib, the programs, the tests; not build output).  The clang-tidy check
# set lives in the top-level .clang-tidy; tests/lint-shim.h teaches the
# analyzer that CUnit fatal assertions stop a test and that optarg is set.
# Prints every finding and exits non-zero if either tool reports one (or
# fails to run).
#
# Environment: LINT_JOBS  parallel clang-tidy processes (2).
cd "$(dirname "$0")/.." || exit 1
SRCS=$(find lib kvlds spiped spipe perftests tests -name '*.c' \
    2>/dev/null | sort)
[ -n "$SRCS" ] || { echo "lint: no C sources"; exit 0; }
FLAGS="-std=c11 -D_GNU_SOURCE -Ilib -I. -Itests/unit
    -include tests/lint-shim.h"
export FLAGS
rc=0
out=$(mktemp -d /tmp/lint.XXXXXX) || exit 1
trap 'rm -rf "$out"' EXIT

# shellcheck disable=SC2086
if ! cppcheck --quiet --error-exitcode=1 --std=c11 \
    --enable=warning,portability --inline-suppr \
    --suppress=missingIncludeSystem -D__GNUC__ -D_GNU_SOURCE \
    -Ilib -I. -Itests/unit $SRCS; then
	echo "lint: cppcheck reported findings" >&2
	rc=1
fi

# One clang-tidy per file, LINT_JOBS at a time, each into its own log so
# that reports do not interleave.  No pipe hides a status: a file whose
# clang-tidy fails is recorded in $out/failed.
# shellcheck disable=SC2016
printf '%s\n' $SRCS | xargs -P "${LINT_JOBS:-2}" -I{} sh -c '
	log="$1/$(echo "$2" | tr / _).log"
	# shellcheck disable=SC2086
	clang-tidy --quiet "$2" -- $FLAGS >"$log" 2>&1 ||
	    echo "$2" >>"$1/failed"' sh "$out" {}
for f in "$out"/*.log; do
	grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' "$f"
done
if [ -s "$out/failed" ]; then
	echo "lint: clang-tidy reported findings in:" $(cat "$out/failed") >&2
	rc=1
fi
[ $rc = 0 ] && echo "lint clean"
exit $rc
