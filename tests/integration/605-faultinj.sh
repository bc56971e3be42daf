#!/bin/bash
# 605: the fault-injection layer itself (tests/faultinj/faultinj.so),
# driven by a small Python writer: counting and logging, EIO and ENOSPC
# (sticky, and a failed fsync losing the unsynced data), power loss
# (unsynced writes undone, synced data kept), torn writes, snapshots,
# and files outside FAULTINJ_DIR left alone.
. "$(dirname "$0")/../lib.sh"
FI=$BIN_DIR_ABS/tests/faultinj/faultinj.so
[ -f "$FI" ] || skip "tests/faultinj/faultinj.so is not built"
case "$(ldd "$(command -v python3)")" in
*libasan*) skip "python3 is sanitizer-linked" ;;
esac

cat >"$T/w.py" <<'PY'
import os, sys
d = sys.argv[1]
out = open(sys.argv[2], "w")
def note(*a):
    out.write(" ".join(str(x) for x in a) + "\n"); out.flush()
f = os.open(d + "/f", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
g = os.open(d + "/g", os.O_RDWR | os.O_CREAT, 0o644)
o = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT, 0o644)   # untracked
steps = [lambda: os.write(f, b"A" * 100),          # 1 write
         lambda: os.fsync(f),                       # 2 sync
         lambda: os.write(f, b"B" * 100),           # 3 write
         lambda: os.pwrite(g, b"X" * 50, 0),        # 4 write
         lambda: os.fdatasync(g),                   # 5 sync
         lambda: os.pwrite(g, b"Y" * 20, 10),       # 6 write
         lambda: os.write(f, b"C" * 100),           # 7 write
         lambda: os.fsync(f),                       # 8 sync
         lambda: os.fsync(f)]                       # 9 sync
for i, s in enumerate(steps, 1):
    os.write(o, b"untracked")
    try:
        s()
        note(i, "ok")
    except OSError as e:
        note(i, "err", e.errno)
note("done")
PY

# run NAME ENV...: run the writer with the preload and ENV; sets $D.
run() {
	local name=$1; shift
	D=$T/$name; mkdir -p "$D"
	env LD_PRELOAD="$FI" FAULTINJ_DIR="$D" FAULTINJ_LOG="$T/$name.log" "$@" \
	    python3 "$T/w.py" "$D" "$T/$name.out" "$T/$name.untracked" \
	    >/dev/null 2>&1
	RC=$?
}
content() { tr -d '\n' <"$1"; }
expect() {	# expect WHAT ACTUAL WANTED
	[ "$2" = "$3" ] && log "ok: $1" || fail "$1: got '$2', want '$3'"
}
rep() { printf "%${2}s" "" | tr ' ' "$1"; }

run count
expect "count: exit 0" "$RC" 0
expect "count: 9 counted calls logged" "$(grep -c '^[1-9] ' "$T/count.log")" 9
expect "count: untracked file not logged" \
    "$(grep -c untracked "$T/count.log")" 0
expect "count: f" "$(content "$D/f")" "$(rep A 100)$(rep B 100)$(rep C 100)"

run eio FAULTINJ_MODE=eio FAULTINJ_AT=6
expect "eio: write 6 fails" "$(sed -n 6p "$T/eio.out")" "6 err 5"
expect "eio: later writes fail too" "$(sed -n 7p "$T/eio.out")" "7 err 5"
expect "eio: syncs still work" "$(sed -n 8p "$T/eio.out")" "8 ok"

run nospc FAULTINJ_MODE=enospc FAULTINJ_AT=8
expect "enospc: fsync fails" "$(sed -n 8p "$T/nospc.out")" "8 err 28"
expect "enospc: and keeps failing" "$(sed -n 9p "$T/nospc.out")" "9 err 28"
expect "enospc: the failed fsync lost f's unsynced writes" \
    "$(content "$D/f")" "$(rep A 100)"
expect "enospc: g untouched" "$(content "$D/g")" \
    "$(rep X 10)$(rep Y 20)$(rep X 20)"

run power FAULTINJ_MODE=powerloss FAULTINJ_AT=7
expect "powerloss: killed" "$RC" 137
expect "powerloss: f back to its synced 100 bytes" "$(content "$D/f")" \
    "$(rep A 100)"
expect "powerloss: g back to its synced state" "$(content "$D/g")" \
    "$(rep X 50)"
expect "powerloss: untracked file kept (7 writes)" \
    "$(content "$T/power.untracked" | wc -c)" 63

run torn FAULTINJ_MODE=torn FAULTINJ_AT=7 FAULTINJ_TORN=33
expect "torn: killed" "$RC" 137
expect "torn: earlier unsynced writes kept, write 7 torn at 33" \
    "$(content "$D/f")" "$(rep A 100)$(rep B 100)$(rep C 33)"

run snap FAULTINJ_MODE=snapshot FAULTINJ_AT=6 FAULTINJ_SNAP="$T/snapdir"
expect "snapshot: killed" "$RC" 137
expect "snapshot: g as it stood" "$(content "$T/snapdir/g")" "$(rep X 50)"
expect "snapshot: write saved" "$(head -n 1 "$T/snapdir.write")" "g 10 20"

run reorder FAULTINJ_MODE=reorder FAULTINJ_AT=8 FAULTINJ_SEED=3
expect "reorder: killed" "$RC" 137
case "$(content "$D/f")" in
"$(rep A 100)"*) log "ok: reorder: synced prefix kept" ;;
*) fail "reorder: synced data lost" ;;
esac
