#!/bin/sh
# run-local.sh: what `make run` runs (after building).  From the top of the
# source tree: create ./run/ with a data directory and a pipe key, start
# kvlds in the foreground on the Unix socket ./run/kvlds.sock (plaintext,
# mode 0600) and on its native encrypted endpoint 127.0.0.1:8025 (-K: the
# spiped protocol, no separate spiped process); print how to talk to it;
# on Ctrl-C (or SIGTERM) stop it, by pid.
#
# Environment: RUN_DIR (./run), KVLDS_PORT (8025), KVLDS_ARGS (extra kvlds
# options, e.g. "-b 8192").

set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
RUN=${RUN_DIR:-$TOP/run}
PORT=${KVLDS_PORT:-8025}
KVLDS=$TOP/kvlds/kvlds
SPIPED=$TOP/spiped/spiped
KEYGEN=$TOP/spiped/spiped-keygen/spiped-keygen
CLI=$TOP/kvlds/kvlds-cli/kvlds-cli
SPIPE=spipe				# Debian's, unless ours is built
[ -x "$TOP/spipe/spipe" ] && SPIPE=$TOP/spipe/spipe
SOCK=$RUN/kvlds.sock
KEY=$RUN/key
KPID=""

say() { echo "run-local: $*"; }

if [ ! -x "$KVLDS" ]; then
	say "kvlds/kvlds is not built (run 'make' and look for errors)" >&2
	exit 1
fi
mkdir -p "$RUN" || exit 1
chmod 700 "$RUN"

# The pipe key: 32 random bytes, readable by us only.
if [ ! -s "$KEY" ]; then
	if [ -x "$KEYGEN" ]; then
		"$KEYGEN" "$KEY" </dev/null || exit 1
		say "created the key $KEY with spiped-keygen"
	else
		(umask 077 && dd if=/dev/urandom of="$KEY" bs=32 count=1 \
		    2>/dev/null) || exit 1
		say "created the key $KEY from /dev/urandom"
	fi
fi

stop_all() {
	trap '' INT TERM
	[ -n "$KPID" ] && kill -TERM "$KPID" 2>/dev/null
	[ -n "$KPID" ] && wait "$KPID" 2>/dev/null
	say "stopped"
	exit 0
}
trap stop_all INT TERM

# kvlds in the foreground of this script (its log goes to the terminal).
# shellcheck disable=SC2086
# setsid: a Ctrl-C reaches this script only, which then stops kvlds
# once, by pid (a second signal would make kvlds exit at once).
setsid "$KVLDS" -F -s "$SOCK" -s "127.0.0.1:$PORT" -K "$KEY" \
    -d "$RUN/data" ${KVLDS_ARGS:-} &
KPID=$!
i=0
until [ -S "$SOCK" ] && python3 -c "
import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])" "$SOCK" 2>/dev/null; do
	if ! kill -0 "$KPID" 2>/dev/null; then
		wait "$KPID"
		say "kvlds did not start (is 127.0.0.1:$PORT in use?)" >&2
		exit 1
	fi
	i=$((i + 1))
	if [ $i -gt 1000 ]; then
		say "kvlds is not answering on $SOCK" >&2
		stop_all
	fi
	sleep 0.01
done

echo
say "kvlds (pid $KPID) serves $SOCK, data in $RUN/data"
say "encrypted endpoint 127.0.0.1:$PORT (spiped protocol), key $KEY"
echo
echo "Talk to kvlds through the encrypted endpoint:"
if [ -x "$CLI" ]; then
	echo "  $CLI -t 127.0.0.1:$PORT -K $KEY set hello world"
	echo "  $CLI -t 127.0.0.1:$PORT -K $KEY get hello"
fi
echo "  one raw protocol connection on standard input/output:"
echo "    $SPIPE -t 127.0.0.1:$PORT -k $KEY"
echo "  or a local plaintext socket forwarding to it:"
[ -x "$SPIPED" ] || SPIPED=spiped
echo "    $SPIPED -e -s $RUN/client.sock -t 127.0.0.1:$PORT -k $KEY"
echo "    (then point any kvlds client at $RUN/client.sock)"
echo "Or directly on the Unix socket:"
if [ -x "$CLI" ]; then
	echo "  $CLI -t $SOCK get hello"
else
	echo "  PYTHONPATH=tests python3 -c 'import kvclient as k;" \
	    "c = k.Conn(\"$SOCK\"); c.set(b\"hello\", b\"world\");" \
	    "print(c.get(b\"hello\"))'"
fi
echo "Press Ctrl-C to stop."
echo

# Stay here until Ctrl-C, or until kvlds exits on its own.
wait "$KPID"
rc=$?
KPID=""
say "kvlds exited (status $rc)"
stop_all
