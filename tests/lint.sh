#!/bin/sh
# lint.sh: cppcheck and clang-tidy over every C source of the project.
# Exits non-zero on any finding.
set -e
SRCS=$(find lib kvlds spiped spipe perftests -name '*.c' | sort)
[ -n "$SRCS" ] || exit 0
cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
    --inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -D_GNU_SOURCE \
    -Ilib -I. $SRCS
# shellcheck disable=SC2086
clang-tidy --quiet --warnings-as-errors='*' \
    --checks='-*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,-bugprone-narrowing-conversions,-bugprone-assignment-in-if-condition,-bugprone-macro-parentheses' \
    $SRCS -- -std=c11 -D_GNU_SOURCE -Ilib -I. 2>&1 | grep -v '^[0-9]* warnings generated' || true
echo "lint clean"
