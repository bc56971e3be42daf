#!/bin/bash
# 600: crash consistency, short version: >= 20 kill -9's of kvlds at
# random moments (plus SIGTERMs under load, which must exit 0, and kills
# during start-up) under a pipelined mix of SET/ADD/MODIFY/DELETE/CAS/CAD
# over 16 connections, each followed by a restart and a full check of
# every acknowledged write, the shared CAS counters and RANGE
# (tests/torture/crashcheck.py).
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds/kvlds is not built"

log "default page size: 22 kill -9, 3 SIGTERM under load, 5 start-up kills"
check "crashcheck, 25 rounds" python3 "$TOP/tests/torture/crashcheck.py" \
    --kvlds "$KVLDS" --workdir "$T/a" --rounds 25 --conns 16 --keys 48 \
    --kill-max 0.6 --term-every 8 --startkill-every 5 -v
log "page size 1024 (deeper trees, more splits), group commit delay"
check "crashcheck -b 1024 -w 0.002 -g 64, 6 rounds" python3 \
    "$TOP/tests/torture/crashcheck.py" --kvlds "$KVLDS" --workdir "$T/b" \
    --kvlds-args "-b 1024 -w 0.002 -g 64" --rounds 6 --conns 8 --keys 200 \
    --kill-max 0.8 -v
log "the checker itself catches a store that loses acknowledged writes"
if python3 "$TOP/tests/torture/crashcheck.py" --kvlds "$KVLDS" \
    --workdir "$T/c" --rounds 2 --kill-min 0.4 --kill-max 0.5 --sabotage \
    >"$T/sabotage.out" 2>&1; then
	cat "$T/sabotage.out"
	fail "crashcheck did not notice writes cut from the store"
fi
grep -q '^FAIL: ' "$T/sabotage.out" ||
    { cat "$T/sabotage.out"; fail "sabotage not reported"; }
log "ok: sabotage detected"
