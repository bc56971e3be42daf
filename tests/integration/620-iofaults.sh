#!/bin/bash
# 620: I/O faults through tests/faultinj/faultinj.so: EIO and ENOSPC on
# writes, EIO and ENOSPC on fsync (which keeps failing once it has),
# EIO on reads.  After a write or fsync fault kvlds must stop
# acknowledging and exit non-zero naming the error; after a restart
# without faults nothing acknowledged may be missing
# (tests/torture/crashcheck.py checks both).
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
FI=$BIN_DIR_ABS/tests/faultinj/faultinj.so
[ -x "$KVLDS" ] || skip "kvlds/kvlds is not built"
[ -f "$FI" ] || skip "tests/faultinj/faultinj.so is not built"

check "EIO/ENOSPC on write and fsync" python3 \
    "$TOP/tests/torture/crashcheck.py" --kvlds "$KVLDS" --workdir "$T/w" \
    --faults eio-write,enospc-write,eio-sync,enospc-sync,eio,enospc \
    --faultinj "$FI" --fault-at-max 120 --rounds 12 --conns 8 --keys 40 \
    --kill-max 1.5 -v
check "EIO on read (small page cache)" python3 \
    "$TOP/tests/torture/crashcheck.py" --kvlds "$KVLDS" --workdir "$T/r" \
    --kvlds-args "-b 512 -C 16" --faults eio-read --faultinj "$FI" \
    --fault-at-max 300 --rounds 6 --conns 8 --keys 100 --kill-max 1.0 -v
