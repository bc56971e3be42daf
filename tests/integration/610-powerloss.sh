#!/bin/bash
# 610: power loss, short version.  (a) Torn writes: snapshots of the data
# directory taken at chosen writes of a sequential workload, each write
# torn at ~40 sampled byte offsets (at most ~200 cases), must recover to
# the last acknowledged state (tests/torture/tornsweep.py).  (b) Power
# cuts under a concurrent load through tests/faultinj/faultinj.so: at a
# random write or fsync, everything written since each file's last fsync
# is dropped (powerloss), the last write is torn (torn), or a random
# subset of the unsynced writes survives (reorder); after a restart
# without the preload every acknowledged write must be there.
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
FI=$BIN_DIR_ABS/tests/faultinj/faultinj.so
[ -x "$KVLDS" ] || skip "kvlds/kvlds is not built"
[ -f "$FI" ] || skip "tests/faultinj/faultinj.so is not built"

check "torn writes at sampled offsets" python3 \
    "$TOP/tests/torture/tornsweep.py" --kvlds "$KVLDS" --faultinj "$FI" \
    --workdir "$T/sweep" --writes 4 --samples 40
check "torn writes, page size 512" python3 \
    "$TOP/tests/torture/tornsweep.py" --kvlds "$KVLDS" --faultinj "$FI" \
    --workdir "$T/sweep512" --kvlds-args "-b 512" --prefill 200 \
    --writes 2 --samples 25
check "power cuts under load (powerloss, torn, reorder)" python3 \
    "$TOP/tests/torture/crashcheck.py" --kvlds "$KVLDS" --workdir "$T/cc" \
    --faults powerloss,torn,reorder,powerloss-sync,reorder-sync \
    --faultinj "$FI" --fault-at-max 120 --rounds 20 --conns 12 --keys 40 \
    --kill-max 1.5 -v
