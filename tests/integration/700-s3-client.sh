#!/bin/bash
# 700-s3-client: lib/s3 against a real S3 server: Ceph's radosgw on
# 127.0.0.1 (one monitor, one OSD, the gateway; tests/s3/start-ceph.sh),
# driven by tests/s3/s3check: PUT, whole and ranged GET, overwrite, LIST
# with continuation, DELETE, 64 requests in flight over reused
# connections, a lease object's conditional create and renewal; then
# through tests/s3/faultproxy.py: 503s and a stalled request are ridden
# out by retries, endless 503s are an error after the retries, and a
# corrupted body is an error, never data; wrong credentials are refused;
# credentials come from a file or the environment.
#
# Installs the Ceph packages (sh tests/deps.sh s3) when they are missing;
# skips if that is impossible (not root, no network).
. "$(dirname "$0")/../lib.sh"

if ! sh "$TOP/tests/deps.sh" s3 >"$T/deps.log" 2>&1; then
	skip "Ceph packages unavailable: $(tail -n 1 "$T/deps.log")"
fi

S3CHECK=$BIN_DIR_ABS/tests/s3/s3check
[ -x "$S3CHECK" ] || fail "$S3CHECK not built"
CEPH=$T/ceph
trap 'rc=$?; "$TOP/tests/s3/stop-ceph.sh" "$CEPH"; (exit $rc); cleanup' EXIT

PORT=$(free_port)
t0=$(date +%s%N)
"$TOP/tests/s3/start-ceph.sh" "$CEPH" "$PORT" >"$T/ceph-start.log" 2>&1 ||
    { cat "$T/ceph-start.log"; fail "start-ceph.sh"; }
log "ceph: $(tail -n 2 "$T/ceph-start.log" | tr '\n' ' ')" \
    "($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
EP=$(cat "$CEPH/endpoint")
CRED=$CEPH/credentials
B=kvtest-s3

s3check() { "$S3CHECK" -b "$B" -c "$CRED" "$@"; }

# logged LOG COMMAND...: run COMMAND with its output in LOG; show the LOG
# if it fails.
logged() {
	local f=$1; shift
	"$@" >"$f" 2>&1 && return 0
	cat "$f"
	return 1
}

check "every request type against radosgw" \
    logged "$T/basic.log" s3check -e "$EP" -p basic/ basic
grep '^connections' "$T/basic.log"

# proxy NAME ARGS...: start faultproxy.py in front of radosgw; sets PX
# to its endpoint and PXPID to its pid.
proxy() {
	local name=$1 p; shift
	p=$(free_port)
	start "$name" python3 "$TOP/tests/s3/faultproxy.py" "$p" "$PORT" "$@"
	PXPID=$LASTPID
	wait_port "$p"
	PX=http://127.0.0.1:$p
}

# Four 503s, then a request held past the client's 1.5 s timeout.
proxy px-retry --fail503 4 --stall 1 4
check "503s and a timeout are ridden out" \
    logged "$T/retry.log" s3check -e "$PX" -t 1500 -p retry/ retry
grep '^stats' "$T/retry.log"
stop "$PXPID"
grep -q 'failed 4 stalled 1' "$T/px-retry.log" ||
    fail "the proxy did not inject the faults: $(cat "$T/px-retry.log")"

# More 503s than retries: an error, reported.
proxy px-down --fail503 1000
if s3check -e "$PX" -r 2 -p down/ retry >"$T/down.log" 2>&1; then
	fail "a server that only answers 503 was not an error"
fi
grep -q 'retries exhausted' "$T/down.log" || fail "no error reported"
log "ok: endless 503s are an error after the retries"
stop "$PXPID"

# A body corrupted on the way: never returned as data.
proxy px-corrupt --corrupt corrupt
check "a corrupted body is an error" \
    logged "$T/corrupt.log" s3check -e "$PX" -r 1 -p c/ corrupt
grep -q 'checksum mismatch' "$T/corrupt.log" || fail "mismatch not reported"
stop "$PXPID"

# Wrong secret: refused at once (403 is not retried).
sed 's/^AWS_SECRET_ACCESS_KEY=.*/AWS_SECRET_ACCESS_KEY=wrong/' "$CRED" \
    >"$T/badcred"
if "$S3CHECK" -b "$B" -c "$T/badcred" -e "$EP" -p bad/ retry \
    >"$T/bad.log" 2>&1; then
	fail "a wrong secret was accepted"
fi
grep -q 'HTTP 403' "$T/bad.log" || fail "no 403 reported: $(cat "$T/bad.log")"
log "ok: a wrong secret is refused"

# Credentials from the environment; a malformed credentials file.
ak=$(sed -n 's/^AWS_ACCESS_KEY_ID=//p' "$CRED")
sk=$(sed -n 's/^AWS_SECRET_ACCESS_KEY=//p' "$CRED")
check "credentials from the environment" logged "$T/env.log" \
    env AWS_ACCESS_KEY_ID="$ak" AWS_SECRET_ACCESS_KEY="$sk" \
    "$S3CHECK" -b "$B" -e "$EP" -p env/ ping
printf 'AWS_ACCESS_KEY_ID = %s\nAWS_SECRET_ACCESS_KEY=%s\n' "$ak" "$sk" \
    >"$T/malformed"
if "$S3CHECK" -b "$B" -c "$T/malformed" -e "$EP" ping >"$T/mal.log" 2>&1
then
	fail "a malformed credentials file was accepted"
fi
grep -q 'malformed:1: not AWS_ACCESS_KEY_ID=' "$T/mal.log" ||
    fail "malformed credentials not reported: $(cat "$T/mal.log")"
log "ok: a malformed credentials file is refused"

# Stop in order, by pid; nothing of the cluster may be left running.
pids=$(awk '{ print $2 }' "$CEPH/pids")
t0=$(date +%s%N)
"$TOP/tests/s3/stop-ceph.sh" "$CEPH"
log "ceph stopped in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
for p in $pids; do
	alive "$p" && fail "ceph daemon $p still running"
done
sanitizer_clean || fail "sanitizer reports"
log "done"
