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

# A real full file system: kvlds on a 3 MiB tmpfs fills it (short writes,
# then ENOSPC), must exit non-zero naming the error; the tmpfs is then
# grown and the restarted daemon must hold every acknowledged write.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/small" &&
    mount -t tmpfs -o size=3m tmpfs "$T/small" 2>/dev/null; then
	trap 'rc=$?; umount "$T/small" 2>/dev/null; (exit $rc); cleanup' EXIT
	python3 "$TOP/tests/torture/crashcheck.py" --kvlds "$KVLDS" \
	    --workdir "$T/e" --datadir "$T/small/data" --rounds 1 \
	    --kill-min 20 --kill-max 20 \
	    --after-exit "mount -o remount,size=64m '$T/small'" -v \
	    >"$T/enospc.out" 2>&1
	rc=$?
	cat "$T/enospc.out"
	check "real ENOSPC on a full tmpfs: nothing acknowledged lost" \
	    test "$rc" = 0
	check "real ENOSPC: kvlds exited by itself" \
	    grep -q ' 1 self-exits' "$T/enospc.out"
else
	log "not root or no tmpfs mount: the real ENOSPC case is skipped"
fi
