#!/bin/bash
# 307-kvlds-options: two daemons on one data directory are refused;
# impossible or malformed option combinations are refused with a reason;
# --help and --version.
# smoke
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data"
wait_socket "$T/kv.sock"

# refused WHAT PATTERN ARGS...: kvlds ARGS must exit non-zero quickly,
# saying PATTERN.
refused() {
	local what=$1 pat=$2 rc
	shift 2
	timeout 20 "$KVLDS" "$@" >"$T/out" 2>&1
	rc=$?
	[ $rc != 0 ] && [ $rc != 124 ] || fail "$what: exit status $rc"
	grep -q -- "$pat" "$T/out" || fail "$what: no '$pat' in: $(cat "$T/out")"
	log "ok: $what refused: $(head -n 1 "$T/out")"
}
refused "second daemon on the data directory" "lock" \
    -F -s "$T/other.sock" -d "$T/data"
check "the loser left no socket behind" [ ! -e "$T/other.sock" ]
check "first daemon unaffected" kvpy "$T/kv.sock" <<'EOF'
import sys, kvclient as kv
c = kv.Conn(sys.argv[1])
assert c.set(b"a", b"b") == 0 and c.get(b"a") == b"b"
EOF
refused "a live socket" "" -F -s "$T/kv.sock" -d "$T/data2"
refused "TCP without a key" "TCP requires a key (-K)" \
    -F -s 127.0.0.1:1 -d "$T/d3"
refused "no socket" "socket (-s) is required" -F -d "$T/d3"
refused "no data directory" "data directory (-d) is required" \
    -F -s "$T/x.sock"
refused "page size too small" "from 512 to 131072" \
    -F -s "$T/x.sock" -d "$T/d3" -b 511
refused "page size too large" "from 512 to 131072" \
    -F -s "$T/x.sock" -d "$T/d3" -b 131073
refused "both -C and -c" "give only one" \
    -F -s "$T/x.sock" -d "$T/d3" -C 100 -c 1M
refused "cache of 2 pages" "at least" \
    -F -s "$T/x.sock" -d "$T/d3" -C 2
refused "key over 255" "from 0 to 255" -F -s "$T/x.sock" -d "$T/d3" -k 256
refused "key too long for the page size" "hold keys of at most" \
    -F -s "$T/x.sock" -d "$T/d3" -b 512 -k 255
refused "value too long for the page size" "hold values of at most" \
    -F -s "$T/x.sock" -d "$T/d3" -b 512 -v 255
refused "bad -S" "non-negative" -F -s "$T/x.sock" -d "$T/d3" -S -1
refused "bad -S" "non-negative" -F -s "$T/x.sock" -d "$T/d3" -S 1e3
refused "bad -w" "commit delay" -F -s "$T/x.sock" -d "$T/d3" -w soon
refused "bad -g" "pending" -F -s "$T/x.sock" -d "$T/d3" -g 0
refused "bad -n" "connections" -F -s "$T/x.sock" -d "$T/d3" -n 0
refused "stray argument" "unexpected argument" \
    -F -s "$T/x.sock" -d "$T/d3" extra
refused "unknown option" "usage" -F -s "$T/x.sock" -d "$T/d3" -Z
check "nothing was created by refused starts" [ ! -e "$T/d3" ]
check "--help" sh -c "'$KVLDS' --help | grep -q usage"
check "--version" sh -c "'$KVLDS' --version | grep -q kvlds"
