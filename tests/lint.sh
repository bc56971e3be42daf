#!/bin/sh
# lint.sh: cppcheck and clang-tidy over every C source of the project
# (lib, the programs, the tests; not build output).  The clang-tidy check
# set lives in the top-level .clang-tidy; tests/lint-cunit.h teaches the
# analyzer that CUnit fatal assertions stop a test.  Prints every finding
# and exits non-zero if either tool reports one (or fails to run).
cd "$(dirname "$0")/.." || exit 1
SRCS=$(find lib kvlds spiped spipe perftests tests -name '*.c' \
    2>/dev/null | sort)
[ -n "$SRCS" ] || { echo "lint: no C sources"; exit 0; }
FLAGS="-std=c11 -D_GNU_SOURCE -Ilib -I. -Itests/unit
    -include tests/lint-cunit.h"
rc=0
out=$(mktemp /tmp/lint.XXXXXX) || exit 1
trap 'rm -f "$out"' EXIT

# shellcheck disable=SC2086
if ! cppcheck --quiet --error-exitcode=1 --std=c11 \
    --enable=warning,portability --inline-suppr \
    --suppress=missingIncludeSystem -D__GNUC__ -D_GNU_SOURCE \
    -Ilib -I. -Itests/unit $SRCS; then
	echo "lint: cppcheck reported findings" >&2
	rc=1
fi

# clang-tidy's status is kept (no pipe); only its "N warnings generated"
# chatter is dropped from what is shown.
# shellcheck disable=SC2086
clang-tidy --quiet $SRCS -- $FLAGS >"$out" 2>&1
trc=$?
grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|NOLINT|^Error while processing' \
    "$out"
if [ $trc != 0 ]; then
	echo "lint: clang-tidy reported findings (status $trc)" >&2
	rc=1
fi
[ $rc = 0 ] && echo "lint clean"
exit $rc
