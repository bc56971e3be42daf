#!/bin/bash
# 305-kvlds-malformed: a too-long key (over -k), a too-long value, a bad
# CRC, an oversized length, an unknown type or trailing bytes each drop
# only their own connection, with a line in the log; the other
# connections, and the requests before the bad one, are served.
# smoke
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
[ -x "$KVLDS" ] || skip "kvlds not built"
kvpy() { PYTHONPATH="$TOP/tests" python3 - "$@"; }

start kvlds "$KVLDS" -F -s "$T/kv.sock" -d "$T/data" -k 40 -v 100
wait_socket "$T/kv.sock"

check "bad requests drop only their connection" kvpy "$T/kv.sock" <<'EOF'
import struct, sys, kvclient as kv
path = sys.argv[1]
good = kv.Conn(path)
assert good.params() == (40, 100)
assert good.set(b"k" * 40, b"v" * 100) == 0

def bad(raw, what):
    c = kv.Conn(path)
    # A good request first, answered before the drop.
    rid = c.send(kv.req_set(b"before-" + what.encode(), b"1"))
    assert kv.parse_status(c.wait(rid)) == 0
    c.sendraw(raw)
    assert c.is_closed(5), what + ": connection not dropped"
    # The other connection goes on.
    assert good.get(b"before-" + what.encode()) == b"1", what
    assert good.set(b"after-" + what.encode(), b"2") == 0

bad(kv.packet(7, kv.req_set(b"k" * 41, b"v")), "long key")
bad(kv.packet(7, kv.req_get(b"k" * 41)), "long GET key")
bad(kv.packet(7, kv.req_range(b"k" * 41, b"", 10)), "long RANGE start")
bad(kv.packet(7, kv.req_set(b"k", b"v" * 101)), "long value")
bad(kv.packet(7, kv.req_cas(b"k", b"v" * 101, b"v")), "long old value")
p = bytearray(kv.packet(7, kv.req_get(b"x")))
p[-1] ^= 1
bad(bytes(p), "record CRC")
p = bytearray(kv.packet(7, kv.req_get(b"x")))
p[13] ^= 1
bad(bytes(p), "header CRC")
hdr = struct.pack(">QI", 7, 100000)
bad(hdr + struct.pack("<I", kv.crc32c(hdr)), "huge length")
bad(kv.packet(7, struct.pack(">I", 0x999) + b"\0"), "unknown type")
bad(kv.packet(7, kv.req_get(b"x") + b"junk"), "trailing bytes")
bad(kv.packet(7, kv.req_set(b"x", b"")[:-1]), "short record")
bad(b"GET / HTTP/1.0\r\n\r\n", "http")
assert good.get(b"k" * 40) == b"v" * 100
EOF
check "drops are logged" grep -q "dropped: key or value longer than the limit" \
    "$T/kvlds.log"
check "bad CRC logged" grep -q "dropped: bad packet CRC" "$T/kvlds.log"
