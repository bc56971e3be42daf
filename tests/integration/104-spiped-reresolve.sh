#!/bin/bash
# smoke
# spiped -r: the target's name is looked up again every -r seconds, so a
# name that comes to point elsewhere is followed; a failed lookup keeps
# the addresses it had; -R never looks again.  The name lives in a
# private /etc/hosts: each spiped runs in its own mount namespace
# (unshare -m) with a file of $T bind-mounted over /etc/hosts, so the
# test changes what the name resolves to by rewriting that file (in
# place: the bind mount holds its inode).  Skipped where mount namespaces
# are not allowed.
#
# The name first points at 127.0.0.3, where nothing listens (connection
# refused), then at 127.0.0.1, where a spiped -d in front of an echo
# server listens on the same port, then is removed, then points at
# 127.0.0.3 again.
. "$(dirname "$0")/../lib.sh"

SP=$(bin spiped)
PB=$(bin pipebench)
NAME=rr.spiped.test
head -c 32 /dev/urandom >"$T/key"

# resolve_to [ADDRESS]: make $NAME resolve to ADDRESS (absent: to nothing).
resolve_to() {
	{
		printf '127.0.0.1\tlocalhost\n'
		[ -n "${1:-}" ] && printf '%s\t%s\n' "$1" "$NAME"
	} >"$T/hosts"
}
resolve_to 127.0.0.3
# "${NS[@]}" COMMAND...: run COMMAND with $T/hosts as its /etc/hosts, as
# the same process (so that start's pid is COMMAND's).
NS=(unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$T/hosts")
"${NS[@]}" getent hosts "$NAME" 2>/dev/null | grep -q '^127\.0\.0\.3' ||
    skip "cannot run in a mount namespace with a private /etc/hosts"

# start_ns NAME COMMAND...: start, with $T/hosts as /etc/hosts; under
# valgrind (VALGRIND=1) goes COMMAND, not unshare.
start_ns() {
	local name=$1 vg=()
	shift
	if [ "${VALGRIND:-0}" = 1 ]; then
		vg=(valgrind -q --error-exitcode=99 --leak-check=full
		    --errors-for-leak-kinds=definite
		    "--log-file=$T/vg.$name.%p")
	fi
	helper "$name" "${NS[@]}" "${vg[@]}" "$@"
}

ECHO=$(free_port)
helper echo "$PB" echo -s "127.0.0.1:$ECHO"
wait_port "$ECHO"
D=$(free_port)
start d "$SP" -F -d -s "127.0.0.1:$D" -t "127.0.0.1:$ECHO" -k "$T/key"
wait_port "$D"

# Both resolve $NAME:$D at start (127.0.0.3); rr looks again every second.
E1=$(free_port)
start_ns rr "$SP" -F -e -s "127.0.0.1:$E1" -t "$NAME:$D" -k "$T/key" -r 1
E2=$(free_port)
start_ns norr "$SP" -F -e -s "127.0.0.1:$E2" -t "$NAME:$D" -k "$T/key" -R
wait_port "$E1"
wait_port "$E2"

# through PORT: 10 KiB echoed back through the spiped on PORT.
through() {
	"$PB" send -e -t "127.0.0.1:$1" -n 10k >/dev/null 2>&1
}
through "$E1" && fail "-r 1: reached a target while $NAME is 127.0.0.3"
through "$E2" && fail "-R: reached a target while $NAME is 127.0.0.3"
grep -q "cannot connect to the target" "$T/rr.log" ||
    fail "no connect failure logged"
log "ok: both refused while $NAME is 127.0.0.3"

resolve_to 127.0.0.1
t0=$(date +%s%N)
wait_until 5 through "$E1" || fail "-r 1 did not follow $NAME to 127.0.0.1"
log "ok: -r 1 followed $NAME to 127.0.0.1 after" \
    "$(( ($(date +%s%N) - t0) / 1000000 )) ms"
through "$E2" && fail "-R looked the name up again"
log "ok: -R still uses 127.0.0.3"

# A failed lookup keeps the old addresses: wait for two to be logged
# (so that at least one whole period ran on a failed lookup), and still
# get through.
failed_lookups() { grep -c "cannot resolve" "$T/rr.log"; }
more_failed() { [ "$(failed_lookups)" -ge "$1" ]; }
resolve_to
n=$(failed_lookups)
wait_until 5 more_failed $((n + 2)) || fail "no failed lookups logged"
through "$E1" || fail "a failed lookup dropped the old addresses"
log "ok: kept 127.0.0.1 while $NAME did not resolve"

resolve_to 127.0.0.3
wait_until 5 eval '! through '"$E1" ||
    fail "-r 1 did not follow $NAME back to 127.0.0.3"
log "ok: followed $NAME back to 127.0.0.3"
sanitizer_clean || fail "sanitizer report"
log "ok"
