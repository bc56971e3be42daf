#!/bin/bash
# smoke
# A key file encrypted by Debian's `scrypt enc` (passphrase from the
# environment) loads to the right key: the same fingerprint as its plain
# original; and each failure of the loader has its own message.
. "$(dirname "$0")/../lib.sh"

KG=$(bin spiped-keygen)
[ -x "$KG" ] || fail "spiped-keygen not built"
command -v scrypt >/dev/null || skip "scrypt(1) not installed"

head -c 32 /dev/urandom >"$T/plain.key"
# Not only 32-byte keys: any file works as a spiped key.
head -c 1000 /dev/urandom >"$T/big.key"
export PW='correct horse battery staple'
scrypt enc --passphrase env:PW --logN 12 -r 8 -p 1 "$T/plain.key" \
    "$T/enc.key" || fail "scrypt enc"
scrypt enc --passphrase env:PW --logN 10 -r 4 -p 2 "$T/big.key" \
    "$T/bigenc.key" || fail "scrypt enc big"

fp() { sha256sum <"$1" | cut -c1-64 | xxd -r -p | sha256sum | cut -c1-64; }

"$KG" --check "$T/enc.key" --passphrase env:PW >"$T/out" 2>"$T/err" ||
    fail "load of scrypt enc file: $(cat "$T/err")"
check "K = SHA256(decrypted bytes)" grep -q "fingerprint $(fp "$T/plain.key")" \
    "$T/out"
"$KG" --check "$T/bigenc.key" --passphrase env:PW >"$T/out" ||
    fail "load of 1000-byte scrypt enc file"
check "1000-byte key, r=4 p=2" grep -q "fingerprint $(fp "$T/big.key")" \
    "$T/out"
printf '%s\n' "$PW" >"$T/pw"
"$KG" --check "$T/enc.key" --passphrase "file:$T/pw" >"$T/out" ||
    fail "file: passphrase"
check "file: passphrase" grep -q "fingerprint $(fp "$T/plain.key")" "$T/out"
"$KG" --check - --passphrase env:PW <"$T/enc.key" >"$T/out" ||
    fail "key on standard input"
check "key file on standard input" grep -q "fingerprint" "$T/out"

# expect_fail PATTERN ARGS...: --check fails and says PATTERN.
expect_fail() {
	local pat=$1; shift
	if "$KG" --check "$@" >/dev/null 2>"$T/err"; then
		fail "accepted: $*"
	fi
	grep -q -- "$pat" "$T/err" || fail "message for $*: $(cat "$T/err")"
	log "ok: refused ($pat)"
}
expect_fail "No such file" "$T/missing.key"
: >"$T/empty.key"
expect_fail "is empty" "$T/empty.key"
expect_fail "NOPE_UNSET_X is not set" "$T/enc.key" \
    --passphrase env:NOPE_UNSET_X
NOPE='not the passphrase'
export NOPE
expect_fail "wrong passphrase" "$T/enc.key" --passphrase env:NOPE
cp "$T/enc.key" "$T/hdr.key"
printf '\x55' | dd of="$T/hdr.key" bs=1 seek=20 conv=notrunc 2>/dev/null
expect_fail "header checksum" "$T/hdr.key" --passphrase env:PW
cp "$T/enc.key" "$T/body.key"
printf '\x55' | dd of="$T/body.key" bs=1 seek=110 conv=notrunc 2>/dev/null
expect_fail "corrupted or truncated encrypted data" "$T/body.key" \
    --passphrase env:PW
head -c 150 "$T/enc.key" >"$T/cut.key"
expect_fail "corrupted or truncated encrypted data" "$T/cut.key" \
    --passphrase env:PW
head -c 60 "$T/enc.key" >"$T/stub.key"
expect_fail "truncated: too short" "$T/stub.key" --passphrase env:PW
expect_fail "raise the limit with --max-memory" "$T/enc.key" \
    --passphrase env:PW --max-memory 1M
expect_fail "raise the limit with --max-time" "$T/enc.key" \
    --passphrase env:PW --max-time 0.000001
expect_fail "cannot read the passphrase from standard input" - \
    --passphrase dev:stdin-once <"$T/enc.key"

# Short plain keys are used, with a warning.
printf 'short' >"$T/short.key"
"$KG" --check "$T/short.key" >/dev/null 2>"$T/err" || fail "short key"
check "short key warned about" grep -q "only 5 bytes" "$T/err"
log "scrypt enc interop ok"
