#!/bin/bash
# 410-dump-undump: kvlds-dump then kvlds-undump into a fresh store gives an
# identical RANGE listing (binary keys, empty and 255-byte keys and
# values), through files and through a pipe; an empty store; corrupted,
# truncated, extended and foreign files are refused with a clear message
# and nothing is loaded; a non-empty store is refused without -f; the
# progress bar.
# smoke
. "$(dirname "$0")/../lib.sh"
KVLDS=$(bin kvlds)
CLI=$(bin kvlds-cli)
DUMP=$(bin kvlds-dump)
UNDUMP=$(bin kvlds-undump)
[ -x "$KVLDS" ] || skip "kvlds not built"
for p in "$CLI" "$DUMP" "$UNDUMP"; do [ -x "$p" ] || fail "$p not built"; done

for i in 1 2 3 4; do
	start kvlds$i "$KVLDS" -F -s "$T/kv$i.sock" -d "$T/data$i"
done
for i in 1 2 3 4; do wait_socket "$T/kv$i.sock"; done

# listing N: every pair of store N, in hex.
listing() { "$CLI" -t "$T/kv$1.sock" -x range; }

# 3,000 pairs: binary keys of every length 1..32 and values 0..64 bytes,
# plus the empty key and the longest key and value.
awk 'BEGIN {
	srand(7);
	for (i = 0; i < 3000; i++) {
		k = sprintf("%04x", i); kl = 1 + int(rand() * 30);
		for (j = 0; j < kl; j++) k = k sprintf("%02x", int(rand() * 256));
		v = ""; vl = int(rand() * 65);
		for (j = 0; j < vl; j++) v = v sprintf("%02x", int(rand() * 256));
		printf "set %s \"%s\"\n", k, v;
	}
	printf "set \"\" 00ff\n";
	k = ""; v = "";
	for (j = 0; j < 255; j++) { k = k "ff"; v = v "0a"; }
	printf "set %s %s\n", k, v;
}' >"$T/fill"
"$CLI" -t "$T/kv1.sock" -x batch <"$T/fill" >"$T/fill.out"
check "fill: status 0" [ $? = 0 ]
listing 1 >"$T/list1"
check "3002 pairs stored" [ "$(wc -l <"$T/list1")" = 3002 ]

# Dump to a file, load into a fresh store.
"$DUMP" -t "$T/kv1.sock" "$T/d.kvdump" 2>"$T/dump.err"
check "dump: status 0" [ $? = 0 ]
check "dump: quiet when stderr is not a terminal" [ ! -s "$T/dump.err" ]
check "dump: magic" [ "$(head -c 8 "$T/d.kvdump")" = KVLDSDMP ]
check "dump: no temporary file left" [ "$(ls "$T" | grep -c 'd.kvdump')" = 1 ]
"$UNDUMP" -t "$T/kv2.sock" "$T/d.kvdump"
check "undump: status 0" [ $? = 0 ]
listing 2 >"$T/list2"
check "undump: identical RANGE listing" cmp "$T/list1" "$T/list2"

# Through a pipe, with the progress bar forced on.
"$DUMP" -t "$T/kv1.sock" -p - 2>"$T/dump.prog" |
    "$UNDUMP" -t "$T/kv3.sock" -p -w 16 - 2>"$T/undump.prog"
check "pipe: status 0" [ "${PIPESTATUS[0]}${PIPESTATUS[1]}" = 00 ]
listing 3 >"$T/list3"
check "pipe: identical RANGE listing" cmp "$T/list1" "$T/list3"
check "dump progress bar" grep -q 'dump 100% .* 3002 pairs' "$T/dump.prog"
check "undump progress bar" grep -q 'undump 100% .* 3002 pairs' "$T/undump.prog"

# A non-empty store is refused unless -f; -f overwrites and keeps others.
"$UNDUMP" -t "$T/kv2.sock" "$T/d.kvdump" 2>"$T/err"
check "non-empty store: status 1" [ $? = 1 ]
check "non-empty store: message" grep -q 'not empty' "$T/err"
"$CLI" -t "$T/kv2.sock" set zzextra 1 >/dev/null
"$CLI" -t "$T/kv2.sock" -x set 0000 changed >/dev/null
"$UNDUMP" -t "$T/kv2.sock" -f "$T/d.kvdump"
check "-f: status 0" [ $? = 0 ]
listing 2 | grep -v "^$(printf zzextra | od -An -tx1 | tr -d ' \n')	" >"$T/list2f"
check "-f: dumped pairs restored, others kept" cmp "$T/list1" "$T/list2f"

# An empty store dumps and loads as empty.
"$DUMP" -t "$T/kv4.sock" "$T/empty.kvdump"
check "empty dump: status 0" [ $? = 0 ]
check "empty dump: header and trailer only" \
    [ "$(stat -c %s "$T/empty.kvdump")" = $((32 + 9 + 32)) ]
"$UNDUMP" -t "$T/kv4.sock" "$T/empty.kvdump"
check "empty undump: status 0" [ $? = 0 ]

# Corrupt files: refused with a clear message, nothing loaded (store 4
# stays empty).
size=$(stat -c %s "$T/d.kvdump")
refuse() {
	local what=$1 file=$2 msg=$3
	"$UNDUMP" -t "$T/kv4.sock" -f "$file" 2>"$T/err"
	local rc=$?
	cat "$T/err"
	check "$what: status 1" [ $rc = 1 ]
	check "$what: message" grep -q "$msg" "$T/err"
	check "$what: refused before loading" [ -z "$(listing 4)" ]
}
# flip OFFSET: a copy of the dump with the byte at OFFSET inverted.
flip() {
	cp "$T/d.kvdump" "$T/bad"
	python3 -c "
import sys
f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))" "$T/bad" "$1"
}
# A value byte in the middle: only the checksum can tell.
python3 - "$T/d.kvdump" >"$T/valoff" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
p, n = 32, 0
while d[p] == 1:
    kl = d[p + 1]; vl = d[p + 2 + kl]
    if n >= 1500 and vl > 0:
        print(p + 3 + kl); break
    p += 3 + kl + vl; n += 1
PY
flip "$(cat "$T/valoff")"
refuse "flipped value byte" "$T/bad" "SHA-256 checksum mismatch"
flip $((size - 1))
refuse "flipped checksum byte" "$T/bad" "checksum mismatch"
flip 0
refuse "flipped magic" "$T/bad" "not a kvlds dump file"
flip 11
refuse "other version" "$T/bad" "version"
head -c $((size / 2)) "$T/d.kvdump" >"$T/bad"
refuse "truncated" "$T/bad" "truncated"
head -c $((size - 32)) "$T/d.kvdump" >"$T/bad"
refuse "checksum cut off" "$T/bad" "truncated"
{ cat "$T/d.kvdump"; printf x; } >"$T/bad"
refuse "bytes after the checksum" "$T/bad" "bytes after the checksum"
printf 'hello\n' >"$T/bad"
refuse "not a dump" "$T/bad" "not a kvlds dump file"
"$UNDUMP" -t "$T/kv4.sock" -f - <"$T/bad" 2>"$T/err"
check "corrupt standard input: status 1" [ $? = 1 ]

# Errors: unwritable destination, server absent, missing file.
"$DUMP" -t "$T/kv1.sock" "$T/nodir/x.kvdump" 2>"$T/err"
check "dump to a missing directory: status 1" [ $? = 1 ]
"$DUMP" -t "$T/none.sock" "$T/x.kvdump" 2>"$T/err"
check "dump without server: status 1" [ $? = 1 ]
check "dump without server: no file" [ ! -e "$T/x.kvdump" ]
"$UNDUMP" -t "$T/kv4.sock" "$T/nosuch.kvdump" 2>"$T/err"
check "undump of a missing file: status 1" [ $? = 1 ]
