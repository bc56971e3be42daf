#!/bin/bash
# 630: on-disk corruption (tests/torture/corrupt.py).  On copies of a
# stopped store: bit flips in the root, inner and leaf pages of the live
# tree and in each header field, a zeroed leaf, bit flips in dead pages,
# in either checkpoint slot, in the log's copy of the newest commit
# record and in both copies at once, a truncated newest batch, a missing
# checkpoint, a missing segment.  Live damage must be detected with the
# file and offset named; a single damaged copy of the newest commit must
# be survived; no case may ever return a wrong value or silently roll
# back to an older commit.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds/kvlds is not built"
[ -f "$TOP/kvlds/pagestore.h" ] || skip "the engine (kvlds/pagestore.c) has not landed"

check "corruption cases, page size 1024" python3 \
    "$TOP/tests/torture/corrupt.py" --kvlds "$KVLDS" --workdir "$T/a" \
    --kvlds-args "-b 1024" --keys 1500
check "corruption cases, page size 4096" python3 \
    "$TOP/tests/torture/corrupt.py" --kvlds "$KVLDS" --workdir "$T/b" \
    --kvlds-args "" --keys 3000 --leaves 2
