#!/bin/bash
# 401-cli-batch: kvlds-cli batch mode against a real kvlds: 10,000
# pipelined commands with results in input order, sequential meaning
# across read/write switches, quoting, bad lines, hex batches, input from
# a pipe, a file and /dev/null, answers flushed to an interactive driver
# before it writes again, and a server lost mid-run (exit 2).
# smoke
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
[ -x "$KVLDS" ] || skip "kvlds not built"
[ -x "$CLI" ] || fail "kvlds-cli not built"

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
KPID=$LASTPID
wait_socket "$T/kv.sock"
S=$T/kv.sock

# 10,000 SETs through a pipe, then from a file 10,000 reads and
# conditional writes (in blocks of 500: each switch waits for answers); results compared line by line with what a sequential run gives.
N=10000
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) printf "set k%05d v%d\n", i, i }' \
    >"$T/sets"
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) print "0" }' >"$T/sets.want"
s0=$(date +%s%N)
cat "$T/sets" | "$CLI" -t "$S" batch >"$T/sets.out"
rc=$?
s1=$(date +%s%N)
log "10000 SETs in $(( (s1 - s0) / 1000000 )) ms"
check "sets: status 0" [ $rc = 0 ]
check "sets: one 0 per line" cmp "$T/sets.out" "$T/sets.want"

awk -v n=$N 'BEGIN {
	for (i = 0; i < n; i++) {
		if (int(i / 500) % 2 == 0) {
			if (i % 2 == 0) { printf "get k%05d\n", i; w = "0\tv" i }
			else { printf "get m%05d\n", i; w = "1" }
		} else {
			if (i % 2 == 0) { printf "add k%05d x\n", i; w = "1" }
			else { printf "cas k%05d v%d new\n", i, i; w = "0" }
		}
		print w > "/dev/stderr"
	}
}' >"$T/mixed" 2>"$T/mixed.want"
s0=$(date +%s%N)
"$CLI" -t "$S" - <"$T/mixed" >"$T/mixed.out"
rc=$?
s1=$(date +%s%N)
log "10000 mixed commands (from a file) in $(( (s1 - s0) / 1000000 )) ms"
check "mixed: status 0" [ $rc = 0 ]
check "mixed: results in input order" cmp "$T/mixed.out" "$T/mixed.want"
"$CLI" -t "$S" get k00501 >"$T/out"
check "cas took effect" [ "$(cat "$T/out")" = new ]

# Reads after writes (and writes after reads) see them, as if run one by
# one, also with a window of 1 and of 2.
cat >"$T/seq" <<'IN'
# comment, then an empty line

set x 1
get x
set x 2
set x 3
get x
cas x 3 4
add x 9
get x
delete x
get x
add x 5
range x xa
params
cad x 5
get x
IN
printf '0\n0\t1\n0\n0\n0\t3\n0\n1\n0\t4\n0\n1\n0\n0\t1\nx\t5\n0\t255\t255\n0\n1\n' \
    >"$T/seq.want"
for w in 1 2 1024; do
	"$CLI" -t "$S" -w $w batch <"$T/seq" >"$T/seq.out"
	check "sequential meaning, window $w: status 0" [ $? = 0 ]
	check "sequential meaning, window $w" cmp "$T/seq.out" "$T/seq.want"
done

# Quoting, empty words, bad lines (status 2, the run goes on).
printf '%s\n' 'set "a b" "c  d"' 'get "a b"' 'set "" e' 'get ""' \
    'frob x' 'get' 'set "open x' 'get a b' 'get "a b"' >"$T/q"
printf '0\n0\tc  d\n0\n0\te\n2\n2\n2\n2\n0\tc  d\n' >"$T/q.want"
"$CLI" -t "$S" batch <"$T/q" >"$T/q.out" 2>"$T/q.err"
rc=$?
check "bad lines: status 2" [ $rc = 2 ]
check "bad lines: results" cmp "$T/q.out" "$T/q.want"
check "bad lines: line numbers" grep -q 'line 5: unknown command' "$T/q.err"

# Hex batch with binary keys, and a last line without a newline.
printf 'set 00 ff0a\nset 0a00 09\nget 00\nrange 00 0b\nget 0a00' |
    "$CLI" -t "$S" -x batch >"$T/x.out"
check "hex batch: status 0" [ $? = 0 ]
"$CLI" -t "$S" -x range 00 0b >"$T/x.range"
printf '0\n0\n0\tff0a\n' >"$T/x.want"
check "hex batch: results" [ "$(head -n 3 "$T/x.out")" = "$(cat "$T/x.want")" ]
check "hex batch: range count" [ "$(sed -n 4p "$T/x.out")" = "$(printf '0\t2')" ]
check "hex batch: range pairs" [ "$(sed -n 5,6p "$T/x.out")" = "$(cat "$T/x.range")" ]
check "hex batch: last line" [ "$(tail -n 1 "$T/x.out")" = "$(printf '0\t09')" ]

# Empty input.
"$CLI" -t "$S" batch </dev/null >"$T/empty.out"
check "/dev/null: status 0" [ $? = 0 ]
check "/dev/null: no output" [ ! -s "$T/empty.out" ]

# An interactive driver: each answer arrives before the next line is
# written (kvlds-cli must not wait for more input to flush).
mkfifo "$T/fifo.in" "$T/fifo.out"
"$CLI" -t "$S" batch <"$T/fifo.in" >"$T/fifo.out" 2>"$T/inter.err" &
CPID=$!
PIDS="$PIDS $CPID"
exec 3>"$T/fifo.in" 4<"$T/fifo.out"
echo "set live 1" >&3
read -r -t 10 line <&4 || fail "no answer to the first line"
check "interactive: set" [ "$line" = 0 ]
echo "get live" >&3
read -r -t 10 line <&4 || fail "no answer to the second line"
check "interactive: get" [ "$line" = "$(printf '0\t1')" ]

# The server goes away mid-run: the run ends with status 2 (at once, or
# at the next command, which then prints 2).
stop "$KPID"
( echo "get live" >&3 ) 2>/dev/null
line=""
read -r -t 10 line <&4
exec 3>&- 4<&-
wait "$CPID"
rc=$?
cat "$T/inter.err"
check "server lost: status 2" [ $rc = 2 ]
check "server lost: no answer but 2" [ "${line:-2}" = 2 ]
