# lib.sh: the shared harness of the integration scenarios
# (tests/integration/NNN-name.sh).  Source it first:
#
#	. "$(dirname "$0")/../lib.sh"
#
# It gives each scenario a private temporary folder $T, runs the programs
# it starts in the background under valgrind (VALGRIND=1) when asked,
# stops every one of them by pid when the scenario ends however it ends,
# and fails the scenario if a sanitizer or valgrind reported anything in
# their logs.  Servers listen on Unix sockets in $T or on 127.0.0.1 only.

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR_ABS=${BIN_DIR_ABS:-$TOP}
T=$(mktemp -d /tmp/kvtest.XXXXXX)
PIDS=""

# bin NAME: path to a built program, e.g. "$(bin spiped)".
bin() {
	case "$1" in
	kvlds|spiped|spipe) echo "$BIN_DIR_ABS/$1/$1" ;;
	kvlds-*) echo "$BIN_DIR_ABS/kvlds/$1/$1" ;;
	spiped-*) echo "$BIN_DIR_ABS/spiped/$1/$1" ;;
	*) echo "$BIN_DIR_ABS/perftests/$1/$1" ;;
	esac
}

log() { echo "[$(date +%T.%N | cut -c1-12)] $*"; }
fail() { log "FAIL: $*"; exit 1; }
skip() { echo "$*"; exit 77; }

# check DESCRIPTION COMMAND...: run COMMAND, fail the scenario if it fails.
check() {
	local what=$1; shift
	if "$@"; then log "ok: $what"; else fail "$what"; fi
}

# start LOGNAME COMMAND...: start COMMAND in the background (under
# valgrind when VALGRIND=1), stdout+stderr to $T/LOGNAME.log; sets $!
# style variable LASTPID and remembers the pid for cleanup.
start() {
	local name=$1; shift
	if [ "${VALGRIND:-0}" = 1 ]; then
		valgrind -q --error-exitcode=99 --leak-check=full \
		    --errors-for-leak-kinds=definite \
		    --log-file="$T/vg.$name.%p" "$@" >"$T/$name.log" 2>&1 &
	else
		"$@" >"$T/$name.log" 2>&1 &
	fi
	LASTPID=$!
	PIDS="$PIDS $LASTPID"
}

# helper NAME COMMAND...: like start, but never under valgrind (test
# helpers, not what is tested).
helper() {
	local name=$1
	shift
	"$@" >"$T/$name.log" 2>&1 &
	LASTPID=$!
	PIDS="$PIDS $LASTPID"
}

# wait_until SECONDS COMMAND...: poll COMMAND every 10 ms until it
# succeeds; fail after SECONDS.  The readiness check every wait uses.
wait_until() {
	local limit=$1; shift
	local end=$(( $(date +%s%N) + limit * 1000000000 ))
	until "$@" 2>/dev/null; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.01
	done
}

# wait_socket PATH [SECONDS]: wait for a Unix socket to accept.
sock_ready() {
	[ -S "$1" ] && python3 -c "
import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$1"
}
wait_socket() {
	wait_until "${2:-10}" sock_ready "$1" || fail "socket $1 not ready"
}

# wait_port PORT [SECONDS]: wait for 127.0.0.1:PORT to accept.
port_ready() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
	wait_until "${2:-10}" port_ready "$1" || fail "port $1 not ready"
}

# free_port: print a TCP port on 127.0.0.1 nobody listens on.
free_port() {
	python3 -c "
import socket
s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"
}

# alive PID: is that process still running (and not a zombie)?
alive() {
	kill -0 "$1" 2>/dev/null &&
	    ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# stop PID [SIGNAL]: signal PID (TERM), wait up to 10 s, then KILL.
# Returns the process's exit status when it is our child.
stop() {
	local pid=$1 sig=${2:-TERM}
	kill -"$sig" "$pid" 2>/dev/null || return 0
	wait_until 10 eval "! alive $pid" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# sanitizer_clean: fail if an ASan/UBSan or valgrind report is in a log.
sanitizer_clean() {
	if grep -l -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' \
	    "$T"/*.log 2>/dev/null; then
		return 1
	fi
	for f in "$T"/vg.*; do
		[ -s "$f" ] && { cat "$f"; return 1; }
	done
	return 0
}

cleanup() {
	local rc=$? p
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait_until 10 eval "! alive $p" || kill -KILL "$p" 2>/dev/null
	done
	if ! sanitizer_clean; then
		echo "sanitizer/valgrind reports found in $T"
		[ $rc = 0 ] && rc=1
	fi
	if [ $rc = 0 ] || [ $rc = 77 ]; then
		rm -rf "$T"
	else
		echo "logs kept in $T"; tail -n 20 "$T"/*.log 2>/dev/null
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
