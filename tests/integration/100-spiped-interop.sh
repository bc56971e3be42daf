#!/bin/bash
# Interop matrix against Debian's spiped and spipe 1.6.2: our spiped -e
# into their -d, their -e into our -d, our spipe into their spiped -d,
# their spipe into our spiped -d, and ours into ours; each with forward
# secrecy on both sides, -f on either or both, and -g refusing a -f peer.
# Every accepted pairing moves $SIZE (64 MiB) of pseudo-random data,
# checked by SHA-256 at the far end; a few also check the way back.
. "$(dirname "$0")/../lib.sh"

DEB=/usr/bin/spiped
DSPIPE=/usr/bin/spipe
[ -x "$DEB" ] && [ -x "$DSPIPE" ] || skip "Debian spiped/spipe not installed"
OURS=$(bin spiped)
OSPIPE=$(bin spipe)
PB=$(bin pipebench)
# 64 MiB per case; a sanitizer build is several times slower, so less.
if [ "${SANITIZE:-0}" = 1 ] || [ "${VALGRIND:-0}" = 1 ]; then
	SIZE=${SIZE:-16M}
fi
SIZE=${SIZE:-64M}

head -c 32 /dev/urandom >"$T/key"
SINK=$(free_port)
helper sink "$PB" sink -s "127.0.0.1:$SINK"
ECHO=$(free_port)
helper echo "$PB" echo -s "127.0.0.1:$ECHO"
wait_port "$SINK"
wait_port "$ECHO"

# launcher IMPL NAME COMMAND...: ours under valgrind when asked, theirs not.
launcher() {
	if [ "$1" = "$DEB" ]; then
		shift
		helper "$@"
	else
		shift
		start "$@"
	fi
}

# One set of decrypting daemons serves every case.
declare -A DPORT
DAEMONS=""
start_d() {
	local name=$1 impl=$2 target=$3 p
	shift 3
	p=$(free_port)
	launcher "$impl" "$name" "$impl" -F -d -s "127.0.0.1:$p" -t "127.0.0.1:$target" \
	    -k "$T/key" "$@"
	DAEMONS="$DAEMONS $LASTPID"
	DPORT[$name]=$p
}
start_d od "$OURS" "$SINK"
start_d od_f "$OURS" "$SINK" -f
start_d od_g "$OURS" "$SINK" -g
start_d dd "$DEB" "$SINK"
start_d dd_f "$DEB" "$SINK" -f
start_d dd_g "$DEB" "$SINK" -g
start_d od_echo "$OURS" "$ECHO"
start_d dd_echo "$DEB" "$ECHO"
for n in "${!DPORT[@]}"; do
	wait_port "${DPORT[$n]}"
done

# run_e WHAT IMPL "E FLAGS" DAEMON ok|fail [send flags]
run_e() {
	local what=$1 impl=$2 flags=$3 d=$4 expect=$5 p epid
	shift 5
	p=$(free_port)
	# shellcheck disable=SC2086
	launcher "$impl" "e-$d" "$impl" -F -e -s "127.0.0.1:$p" \
	    -t "127.0.0.1:${DPORT[$d]}" -k "$T/key" $flags
	epid=$LASTPID
	wait_port "$p"
	if [ "$expect" = ok ]; then
		check "$what" "$PB" send -t "127.0.0.1:$p" -n "$SIZE" "$@"
	elif "$PB" send -t "127.0.0.1:$p" -n 1M "$@" 2>/dev/null; then
		fail "$what: the handshake should have been refused"
	else
		log "ok: $what refused"
	fi
	stop "$epid"
}

# run_spipe WHAT IMPL "FLAGS" DAEMON ok|fail
run_spipe() {
	local what=$1 impl=$2 flags=$3 d=$4 expect=$5 rc
	# shellcheck disable=SC2086
	"$PB" gen -n "$SIZE" -S 7 |
	    timeout 60 "$impl" -t "127.0.0.1:${DPORT[$d]}" -k "$T/key" \
	    $flags >"$T/spipe.out" 2>"$T/spipe.err"
	rc=$?
	if [ "$expect" = ok ]; then
		[ "$rc" = 0 ] || fail "$what: exit $rc: $(cat "$T/spipe.err")"
		[ "$(cat "$T/spipe.out")" = "$WANT" ] ||
		    fail "$what: sink saw '$(cat "$T/spipe.out")', want '$WANT'"
		log "ok: $what"
	else
		[ "$rc" != 0 ] && [ ! -s "$T/spipe.out" ] ||
		    fail "$what: the handshake should have been refused"
		log "ok: $what refused"
	fi
}
WANT="$(($("$PB" gen -n "$SIZE" -S 7 | wc -c))) $("$PB" gen -n "$SIZE" -S 7 |
    sha256sum | cut -d' ' -f1)"

run_e "ours -e -> theirs -d, PFS" "$OURS" "" dd ok
run_e "ours -e -f -> theirs -d" "$OURS" "-f" dd ok
run_e "ours -e -> theirs -d -f" "$OURS" "" dd_f ok
run_e "ours -e -f -> theirs -d -f" "$OURS" "-f" dd_f ok
run_e "ours -e -g -> theirs -d -f" "$OURS" "-g" dd_f fail
run_e "ours -e -f -> theirs -d -g" "$OURS" "-f" dd_g fail
run_e "theirs -e -> ours -d, PFS" "$DEB" "" od ok
run_e "theirs -e -f -> ours -d" "$DEB" "-f" od ok
run_e "theirs -e -> ours -d -f" "$DEB" "" od_f ok
run_e "theirs -e -f -> ours -d -f" "$DEB" "-f" od_f ok
run_e "theirs -e -g -> ours -d -f" "$DEB" "-g" od_f fail
run_e "theirs -e -f -> ours -d -g" "$DEB" "-f" od_g fail
run_e "ours -e -> ours -d, PFS" "$OURS" "" od ok
run_e "ours -e -f -> ours -d -f" "$OURS" "-f" od_f ok
run_e "ours -e -g -> ours -d -g" "$OURS" "-g" od_g ok
run_e "ours -e -g -> ours -d -f" "$OURS" "-g" od_f fail

# Both directions at once, through an echo server.
run_e "ours -e -> theirs -d, echo" "$OURS" "" dd_echo ok -e
run_e "theirs -e -> ours -d, echo" "$DEB" "" od_echo ok -e

run_spipe "our spipe -> their spiped -d, PFS" "$OSPIPE" "" dd ok
run_spipe "our spipe -f -> their spiped -d" "$OSPIPE" "-f" dd ok
run_spipe "our spipe -> their spiped -d -f" "$OSPIPE" "" dd_f ok
run_spipe "our spipe -f -> their spiped -d -f" "$OSPIPE" "-f" dd_f ok
run_spipe "our spipe -g -> their spiped -d -f" "$OSPIPE" "-g" dd_f fail
run_spipe "our spipe -f -> their spiped -d -g" "$OSPIPE" "-f" dd_g fail
run_spipe "their spipe -> our spiped -d, PFS" "$DSPIPE" "" od ok
run_spipe "their spipe -f -> our spiped -d" "$DSPIPE" "-f" od ok
run_spipe "their spipe -> our spiped -d -f" "$DSPIPE" "" od_f ok
run_spipe "their spipe -f -> our spiped -d -f" "$DSPIPE" "-f" od_f ok
run_spipe "their spipe -g -> our spiped -d -f" "$DSPIPE" "-g" od_f fail
run_spipe "their spipe -f -> our spiped -d -g" "$DSPIPE" "-f" od_g fail
run_spipe "our spipe -> our spiped -d" "$OSPIPE" "" od ok

# Every daemon survived every refusal.
for p in $DAEMONS; do
	alive "$p" || fail "process $p died"
done
log "all daemons still running"
