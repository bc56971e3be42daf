#!/bin/bash
# start-ceph.sh DIR PORT: start a one-node Ceph cluster (one monitor, one
# OSD on a sparse 10 GiB file, the radosgw S3 gateway; no manager) on
# 127.0.0.1, as root, without systemd, with everything under DIR (which
# must be absent or empty, on a filesystem that supports O_DIRECT: not
# tmpfs).  radosgw serves S3 on 127.0.0.1:PORT.
#
# On success it prints "endpoint http://127.0.0.1:PORT" and leaves:
#   DIR/pids         "NAME PID" lines (mon, osd, rgw) for stop-ceph.sh
#   DIR/credentials  the test user's keys, in the format of lib/s3's
#                    --s3-credentials files
#   DIR/endpoint     the endpoint URL
#   DIR/log/         the daemons' logs
# On failure it stops whatever it started and exits 1.
#
# Needs the packages of `sh tests/deps.sh s3`.  Stop with stop-ceph.sh DIR.
# Do not run this under timeout(1) by itself: a timeout kills the whole
# process group, daemons included, in no particular order.
set -u
D=${1:?usage: start-ceph.sh DIR PORT}
PORT=${2:?usage: start-ceph.sh DIR PORT}
ACCESS=S3TESTACCESSKEY
SECRET=s3testsecretkey0123456789

for p in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool \
    ceph python3; do
	command -v $p >/dev/null || { echo "start-ceph: $p missing" >&2; exit 1; }
done
if [ -e "$D" ] && [ -n "$(ls -A "$D")" ]; then
	echo "start-ceph: $D is not empty" >&2
	exit 1
fi
mkdir -p "$D"/mon "$D"/osd "$D"/rgw "$D"/log "$D"/run || exit 1
D=$(cd "$D" && pwd)
C=$D/ceph.conf
t0=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - t0) / 1000000 )) ms"; }

# The monitor's port: any free one, so that several clusters can coexist.
MONPORT=$(python3 -c "
import socket
s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")

die() {
	echo "start-ceph: $*" >&2
	tail -n 20 "$D"/log/*.out >&2 2>/dev/null
	"$(dirname "$0")/stop-ceph.sh" "$D"
	exit 1
}

# poll SECONDS COMMAND...: retry COMMAND every 0.2 s until it succeeds.
poll() {
	local end=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# started NAME: remember the last background job's pid under NAME.
started() { echo "$1 $!" >>"$D/pids"; }

FSID=$(cat /proc/sys/kernel/random/uuid)
# Without cephx (auth ... = none) the monitor must still be told to talk
# crc to clients, or radosgw never gets past its first auth request.
# tcp_nodelay: without it a small GET waits ~40 ms (radosgw's Nagle
# against the client's delayed ACK): 46 ms per 4 KiB GET, 1.4 ms with it.
cat >"$C" <<EOF2
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MONPORT
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/log/\$name.log
keyring = $D/keyring
mon data = $D/mon/\$name
osd data = $D/osd/\$name
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
osd objectstore = bluestore
bluestore block path = $D/osd/\$name/block.file
bluestore block create = true
bluestore block size = 10737418240
osd memory target = 1073741824
[client.rgw.t]
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw data = $D/rgw
EOF2

# Monitor: a keyring and a one-entry monitor map, then its store.
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. \
    --cap mon 'allow *' >/dev/null || die "ceph-authtool failed"
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MONPORT]" \
    "$D/monmap" >/dev/null || die "monmaptool failed"
ceph-mon -c "$C" --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring" \
    >"$D/log/mon-mkfs.out" 2>&1 || die "ceph-mon --mkfs failed"
ceph-mon -c "$C" -i a -f >"$D/log/mon.out" 2>&1 &
started mon
poll 60 ceph -c "$C" --connect-timeout 5 mon stat ||
    die "the monitor did not answer"

# OSD: registered with the monitor, its directory made before its mkfs.
OSDUUID=$(cat /proc/sys/kernel/random/uuid)
ID=$(ceph -c "$C" --connect-timeout 10 osd new "$OSDUUID") ||
    die "ceph osd new failed"
mkdir -p "$D/osd/osd.$ID"
ceph-osd -c "$C" -i "$ID" --mkfs --osd-uuid "$OSDUUID" \
    >"$D/log/osd-mkfs.out" 2>&1 || die "ceph-osd --mkfs failed"
ceph-osd -c "$C" -i "$ID" -f >"$D/log/osd.out" 2>&1 &
started osd
poll 120 sh -c "ceph -c '$C' --connect-timeout 5 osd dump |
    grep -q '^osd.$ID up'" || die "the OSD did not come up"
t_osd=$(elapsed)

# Gateway, then the test user.
radosgw -c "$C" -n client.rgw.t -f >"$D/log/rgw.out" 2>&1 &
started rgw
# Served once an anonymous listing of buckets answers (python3 rather than
# curl(1), which the build does not need).
poll 120 python3 -c "
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=5).read()" \
    "http://127.0.0.1:$PORT/" || die "radosgw did not serve on port $PORT"
radosgw-admin -c "$C" user create --uid=s3test --display-name=s3test \
    --access-key="$ACCESS" --secret="$SECRET" >"$D/log/user.out" 2>&1 ||
    die "radosgw-admin user create failed"

cat >"$D/credentials" <<EOF2
# test user of start-ceph.sh
AWS_ACCESS_KEY_ID=$ACCESS
AWS_SECRET_ACCESS_KEY=$SECRET
EOF2
echo "http://127.0.0.1:$PORT" >"$D/endpoint"
echo "ceph up: osd after $t_osd, S3 after $(elapsed)" >&2
echo "endpoint http://127.0.0.1:$PORT"
