# benchlib.sh: shell helpers shared by the benchmark scripts (bench.sh,
# encbench.sh, s3bench.sh, scale.sh), sourced after setting BENCH_NAME
# (the prefix of their messages).  POSIX sh, so that bench.sh (sh) and the bash
# scripts can both source it.
#
# bench_need FILE...: exit 1, saying so, unless every FILE is an
#	executable (a built tool).
# bench_freeport: print a free TCP port on 127.0.0.1.
# bench_wait ADDR [TRIES]: wait until ADDR accepts a connection: a Unix
#	socket path (anything but digits) or a 127.0.0.1 port (digits);
#	tried every 10 ms, TRIES times (default 3000: 30 s), then exit 1.
# bench_stop_pids TENTHS PID...: send SIGTERM to every PID, give each up
#	to TENTHS tenths of a second to exit, then SIGKILL it.

bench_need() {
	for _bn_t in "$@"; do
		if [ ! -x "$_bn_t" ]; then
			echo "$BENCH_NAME: $_bn_t is not built (run make)" >&2
			exit 1
		fi
	done
}

bench_freeport() {
	python3 -c "
import socket
s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"
}

bench_wait() {
	_bw_i=0
	until python3 -c "
import socket,sys
a=sys.argv[1]
if a.isdigit(): socket.socket().connect(('127.0.0.1',int(a)))
else: socket.socket(socket.AF_UNIX).connect(a)" "$1" 2>/dev/null
	do
		_bw_i=$((_bw_i + 1))
		if [ $_bw_i -gt "${2:-3000}" ]; then
			echo "$BENCH_NAME: $1 not ready" >&2
			exit 1
		fi
		sleep 0.01
	done
}

bench_stop_pids() {
	_bs_max=$1
	shift
	for _bs_p in "$@"; do
		kill -TERM "$_bs_p" 2>/dev/null
	done
	for _bs_p in "$@"; do
		_bs_i=0
		while kill -0 "$_bs_p" 2>/dev/null && [ $_bs_i -lt "$_bs_max" ]
		do
			sleep 0.1
			_bs_i=$((_bs_i + 1))
		done
		kill -KILL "$_bs_p" 2>/dev/null
	done
}
