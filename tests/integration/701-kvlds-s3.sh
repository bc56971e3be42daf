#!/bin/bash
# 701-kvlds-s3: kvlds with its pages on a real S3 server (Ceph's radosgw
# on 127.0.0.1, started once for every check here, as in 700):
#   - every request type, answered from pages in the store;
#   - a clean restart (the lease is released, the pointer is current);
#   - a second kvlds on the prefix: another owner is refused while the
#     lease is live, the same owner on this host by the local lock;
#   - kill -9 during a write storm, an immediate restart by the same
#     owner, and every acknowledged request is there;
#   - a daemon stopped past its lease: another owner takes over, and the
#     old one acknowledges nothing more (it exits);
#   - the cleaner deletes objects (fewer objects listed than commits made);
#   - a period in which the store answers only 503 is ridden out (a
#     fault-injecting proxy in front of radosgw); one longer than the
#     lease's validity makes the daemon refuse writes and exit.
# Skips if the Ceph packages cannot be installed (sh tests/deps.sh s3).
. "$(dirname "$0")/../lib.sh"

KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
[ -x "$KVLDS" ] || skip "kvlds not built"
if ! sh "$TOP/tests/deps.sh" s3 >"$T/deps.log" 2>&1; then
	skip "Ceph packages unavailable: $(tail -n 1 "$T/deps.log")"
fi
export PYTHONPATH="$TOP/tests"
CEPH=$T/ceph
# The daemons first (they release the lease on the way out), then Ceph.
trap 'rc=$?; for p in $PIDS; do stop "$p"; done
    "$TOP/tests/s3/stop-ceph.sh" "$CEPH"; (exit $rc); cleanup' EXIT

PORT=$(free_port)
t0=$(date +%s%N)
if ! "$TOP/tests/s3/start-ceph.sh" "$CEPH" "$PORT" >"$T/ceph-start.log" 2>&1
then
	cat "$T/ceph-start.log"
	skip "Ceph did not start: $(tail -n 1 "$T/ceph-start.log")"
fi
log "ceph: $(tail -n 1 "$T/ceph-start.log")" \
    "($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
EP=$(cat "$CEPH/endpoint")
CRED=$CEPH/credentials
. "$CRED"
BUCKET=kvlds-s3
URL=s3://$BUCKET/db1
mkdir -p "$T/locks" "$T/locks2"
export KVLDS_S3_LOCKDIR=$T/locks

# s3ls PREFIX: the keys under PREFIX in the bucket ("KEY SIZE" lines).
s3ls() {
	"$BIN_DIR_ABS/tests/s3/s3check" -e "$EP" -b "$BUCKET" -c "$CRED" \
	    -p "$1" list
}
# s3cat KEY: an object's contents.
s3cat() {
	curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" \
	    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$EP/$BUCKET/$1"
}

kv() { "$CLI" -t "$T/kv.sock" "$@"; }
# startkv NAME [ARGS...]: kvlds on $URL as owner "ci" (KPID).
startkv() {
	local name=$1; shift
	start "$name" "$KVLDS" -F -s "$T/kv.sock" -d "$URL" \
	    --s3-endpoint "${KVEP:-$EP}" --s3-credentials "$CRED" \
	    --s3-owner ci "$@"
	KPID=$LASTPID
	wait_socket "$T/kv.sock" 20
}
# stats NAME: SIGUSR1, then print the store's counters line (the
# daemon's own line, which comes after it, is then in the log too).
stats() {
	local n
	n=$(grep -c 'handshakes in progress' "$T/$1.log")
	kill -USR1 "$KPID"
	wait_until 10 eval "[ \$(grep -c 'handshakes in progress' \
	    '$T/$1.log') -gt $n ]" || fail "no statistics logged"
	grep 's3: requests' "$T/$1.log" | tail -n 1
}
# counter LINE NAME: the number after NAME in a counters line.
counter() {
	echo "$1" | grep -o "$2 [0-9]*" | head -n 1 | awk '{print $NF}'
}
# refused LOCKDIR LOG NEEDLE ARGS...: kvlds with ARGS exits non-zero
# saying NEEDLE.
refused() {
	local ld=$1 f=$2 needle=$3; shift 3
	if KVLDS_S3_LOCKDIR=$ld "$KVLDS" -F -d "$URL" --s3-endpoint "$EP" \
	    --s3-credentials "$CRED" "$@" >"$T/$f" 2>&1; then
		return 1
	fi
	grep -q "$needle" "$T/$f" || { cat "$T/$f"; return 1; }
}

# --- every request type
startkv kv1
check "set" kv set k1 v1
check "get" [ "$(kv get k1)" = v1 ]
check "add of an existing key is not done" eval "! kv add k1 x"
check "add" kv add k2 v2
check "modify of an absent key is not done" eval "! kv modify k3 x"
check "modify" kv modify k2 v2b
check "cas with a wrong value is not done" eval "! kv cas k2 wrong x"
check "cas" kv cas k2 v2b v2c
check "cad with a wrong value is not done" eval "! kv cad k2 wrong"
check "cad" kv cad k2 v2c
check "get of a deleted key is absent" eval "! kv get k2"
check "delete" kv delete k1
seq 1 3000 | awk '{printf "set key%05d value%d\n", $1, $1}' |
    kv batch >/dev/null || fail "batch of 3000 SETs"
check "range sees all 3000" [ "$(kv range | wc -l)" = 3000 ]
check "range with bounds" [ "$(kv range key00100 key00200 | wc -l)" = 100 ]
check "params" eval "kv params | grep -q 255"
objs=$(s3ls db1/b/ | wc -l)
check "batch objects, pointer and lease in the bucket" \
    [ "$objs" -ge 2 -a -n "$(s3ls db1/commit)" -a -n "$(s3ls db1/lease)" ]
line=$(stats kv1)
log "$line"
[ "$(counter "$line" "batch PUTs")" -ge 2 ] || fail "no batch PUTs counted"

# --- clean restart
stop "$KPID"
check "clean exit" [ $? = 0 ]
check "the lease is released on exit" eval "s3cat db1/lease | grep -q '^expiry=0$'"
t0=$(date +%s%N)
startkv kv2
log "restart: serving after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "after a restart: every pair" [ "$(kv range | wc -l)" = 3000 ]
check "after a restart: a value read from the store" \
    [ "$(kv get key02999)" = value2999 ]

# --- a second kvlds on the same prefix
check "another owner is refused while the lease is live" \
    refused "$T/locks2" other.log "lease is held by ci" \
    -s "$T/kv2.sock" --s3-owner other
check "the same owner on this host is refused by the local lock" \
    refused "$T/locks" same.log "in use by another kvlds on this host" \
    -s "$T/kv2.sock" --s3-owner ci
stop "$KPID"

# --- kill -9 during a write storm; the owner restarts at once
startkv kv3
python3 "$TOP/tests/kvstorm.py" "$T/kv.sock" "$T/state.json" \
    "$T/progress" 8 200 "storm-" >"$T/storm.log" 2>&1 &
SPID=$!
PIDS="$PIDS $SPID"
acked() { [ -s "$T/progress" ] && [ "$(cat "$T/progress")" -ge "$1" ]; }
wait_until 60 acked 2000 || fail "storm made no progress"
kill -KILL "$KPID"
wait "$SPID" || fail "storm client failed: $(cat "$T/storm.log")"
log "storm: $(cat "$T/storm.log")"
t0=$(date +%s%N)
startkv kv4
log "restart after kill -9: serving after" \
    "$(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "after kill -9: every acknowledged request" \
    python3 "$TOP/tests/kvstorm.py" --verify "$T/kv.sock" "$T/state.json"
line=$(stats kv4)
check "the pointer lagged and recovery followed the listing (tail GETs)" \
    [ "$(counter "$line" "tail GETs")" -ge 1 ]
check "after kill -9: the earlier pairs" [ "$(kv range key key~ | wc -l)" = 3000 ]
stop "$KPID"

# --- a stopped daemon loses its lease: taken over, it acknowledges nothing
export KVLDS_S3_LEASE_SECONDS=4
startkv kv5
check "write before the stop" kv set lease a
kill -STOP "$KPID"
takeover() {
	KVLDS_S3_LOCKDIR="$T/locks2" "$KVLDS" -F -s "$T/kv6.sock" -d "$URL" \
	    --s3-endpoint "$EP" --s3-credentials "$CRED" --s3-owner other \
	    >>"$T/kv6.log" 2>&1 &
	K6=$!
	PIDS="$PIDS $K6"
	wait_until 5 sock_ready "$T/kv6.sock" && return 0
	stop "$K6"
	return 1
}
t0=$(date +%s%N)
wait_until 30 takeover || fail "the lease was never taken over"
log "taken over after $(( ($(date +%s%N) - t0) / 1000000 )) ms:" \
    "$(grep -c 'lease is held' "$T/kv6.log") refusals first"
check "the new owner sees the old owner's writes" \
    [ "$("$CLI" -t "$T/kv6.sock" get lease)" = a ]
check "the new owner writes" "$CLI" -t "$T/kv6.sock" set lease b
kill -CONT "$KPID"
check "the old owner acknowledges no write" eval "! kv set lease c"
wait_until 10 eval "! alive $KPID" || fail "the old owner did not exit"
wait "$KPID"
check "the old owner exited with an error" [ $? != 0 ]
grep -E 'lease (is|was)' "$T/kv5.log" | head -n 2
check "the write refused to the old owner is absent" \
    [ "$("$CLI" -t "$T/kv6.sock" get lease)" = b ]
stop "$K6"
unset KVLDS_S3_LEASE_SECONDS

# --- the cleaner deletes objects
export KVLDS_SEGMENT_SIZE=65536
startkv kv7
for r in 1 2 3 4; do
	seq 1 3000 | awk -v r=$r '{printf "set key%05d round%d-%d\n", $1, r, $1}' |
	    kv -w 64 batch >/dev/null || fail "overwrite round $r"
done
line=$(stats kv7)
log "$line"
ndel=$(counter "$line" DELETEs)
nput=$(counter "$line" "batch PUTs")
nlist=$(s3ls db1/b/ | wc -l)
nseg=$(grep 'handshakes in progress' "$T/kv7.log" | tail -n 1 |
    grep -o 'segments [0-9][0-9]*' | head -n 1 | cut -d' ' -f2)
log "cleaner: $nput batches written, $ndel objects deleted;" \
    "$nlist listed, $nseg in the store's count"
check "the cleaner deleted objects" [ "$ndel" -gt 0 ]
check "the deleted objects are gone from the listing" [ "$nlist" = "$nseg" ]
check "the overwritten values" [ "$(kv get key01234)" = round4-1234 ]
stop "$KPID"
unset KVLDS_SEGMENT_SIZE
startkv kv8
check "after cleaning and a restart: every pair" \
    [ "$(kv range key key~ | wc -l)" = 3000 -a "$(kv get key00007)" = round4-7 ]
stop "$KPID"

# --- a period of 503s is ridden out
PXPORT=$(free_port)
start px python3 "$TOP/tests/s3/faultproxy.py" "$PXPORT" "$PORT"
PXPID=$LASTPID
wait_port "$PXPORT"
KVEP=http://127.0.0.1:$PXPORT startkv kv9
check "write through the proxy" kv set before 503
kill -USR1 "$PXPID"
seq 1 200 | awk '{printf "set during%03d x%d\n", $1, $1}' |
    kv batch >"$T/during.log" 2>&1 &
WPID=$!
PIDS="$PIDS $WPID"
sleep 2		# The outage: every request to the store is answered 503.
kill -USR1 "$PXPID"
wait "$WPID" || fail "writes during the 503 period: $(cat "$T/during.log")"
check "the writes made during the 503 period" \
    [ "$(kv range during duringz | wc -l)" = 200 ]
line=$(stats kv9)
log "$line"
check "requests were retried" [ "$(counter "$line" retries)" -gt 0 ]
stop "$KPID"
check "clean exit after the 503 period" [ $? = 0 ]

# --- an outage longer than the lease: the daemon acknowledges nothing more
KVLDS_S3_LEASE_SECONDS=4 KVEP=http://127.0.0.1:$PXPORT startkv kv10
check "write before the outage" kv set outage before
kill -USR1 "$PXPID"
sleep 3		# Past the lease's validity (4 s less a 2 s margin).
check "no write is acknowledged once the lease could not be renewed" \
    eval "! kv set outage during"
kill -USR1 "$PXPID"
wait_until 30 eval "! alive $KPID" || fail "the daemon did not exit"
wait "$KPID"
check "it exited with an error" [ $? != 0 ]
grep -E 'lease' "$T/kv10.log" | head -n 2
startkv kv11
check "after the outage: the acknowledged write, not the refused one" \
    [ "$(kv get outage)" = before ]
stop "$KPID"
stop "$PXPID"
log "proxy: $(cat "$T/px.log")"
