#!/bin/bash
# stop-ceph.sh DIR: stop the daemons start-ceph.sh DIR started, by the
# pids it recorded, in the order that lets each exit promptly: radosgw
# first (it hangs for minutes on SIGTERM once the OSD is gone), then the
# OSD, then the monitor.  Each gets SIGTERM and 15 s before SIGKILL.
# Leaves the data under DIR in place.
set -u
D=${1:?usage: stop-ceph.sh DIR}
[ -f "$D/pids" ] || exit 0

alive() {
	kill -0 "$1" 2>/dev/null &&
	    ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

stop_one() {
	local pid i
	for pid in $(awk -v n="$1" '$1 == n { print $2 }' "$D/pids"); do
		kill -TERM "$pid" 2>/dev/null || continue
		for i in $(seq 75); do
			alive "$pid" || break
			sleep 0.2
		done
		alive "$pid" && kill -KILL "$pid" 2>/dev/null
	done
}

stop_one rgw
stop_one osd
stop_one mon
rm -f "$D/pids"
exit 0
