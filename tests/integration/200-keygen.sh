#!/bin/bash
# smoke
# spiped-keygen: plain keys (new file, mode 0600, 32 bytes, never
# overwritten), encrypted keys that Debian's scrypt(1) decrypts to the
# same bytes, --info, and no file left behind on failure.
. "$(dirname "$0")/../lib.sh"

KG=$(bin spiped-keygen)
[ -x "$KG" ] || fail "spiped-keygen not built"
command -v scrypt >/dev/null || skip "scrypt(1) not installed"

# A plain key.
umask 022
check "plain key created" "$KG" "$T/plain.key"
check "plain key is 32 bytes" [ "$(stat -c %s "$T/plain.key")" = 32 ]
check "plain key mode is 0600" [ "$(stat -c %a "$T/plain.key")" = 600 ]
cp "$T/plain.key" "$T/plain.orig"
if "$KG" "$T/plain.key" 2>"$T/over.err"; then
	fail "an existing key file was overwritten"
fi
check "refusal names the reason" grep -q "already exists" "$T/over.err"
check "existing key untouched" cmp -s "$T/plain.key" "$T/plain.orig"
ln -s "$T/elsewhere" "$T/link.key"
if "$KG" "$T/link.key" 2>/dev/null; then
	fail "followed a symbolic link"
fi
check "symlink target not created" [ ! -e "$T/elsewhere" ]
"$KG" "$T/plain2.key" || fail "second key"
if cmp -s "$T/plain.key" "$T/plain2.key"; then fail "two keys equal"; fi
"$KG" --info "$T/plain.key" >"$T/info.out" || fail "--info plain"
check "--info says plain" grep -q "plain key file, 32 bytes" "$T/info.out"

# An encrypted key, passphrase from the environment; small parameters.
export KG_PASS='open sesame, 2 words'
"$KG" --passphrase env:KG_PASS --target-time 0.05 --target-memory 4M \
    "$T/enc.key" 2>"$T/enc.err" || fail "encrypted key"
check "encrypted key reports parameters" grep -q "scrypt N = 2^" "$T/enc.err"
check "encrypted key is 160 bytes" [ "$(stat -c %s "$T/enc.key")" = 160 ]
check "encrypted key mode is 0600" [ "$(stat -c %a "$T/enc.key")" = 600 ]
scrypt dec --passphrase env:KG_PASS "$T/enc.key" "$T/enc.plain" ||
    fail "Debian scrypt dec refused our file"
check "scrypt dec gives 32 bytes" [ "$(stat -c %s "$T/enc.plain")" = 32 ]
scrypt info "$T/enc.key" >"$T/sinfo.out" 2>&1 || fail "scrypt info"
check "scrypt info reads r = 8" grep -q "r = 8" "$T/sinfo.out"
"$KG" --info "$T/enc.key" >"$T/info2.out" || fail "--info encrypted"
check "--info shows parameters" grep -q "N = 2^[0-9]*, r = 8, p = " \
    "$T/info2.out"
check "--info shows memory" grep -q "memory: .*MiB" "$T/info2.out"
check "--info shows time" grep -q "estimated time" "$T/info2.out"
# The memory target holds: N * r * 128 <= 4 MiB.
logN=$(sed -n 's/.*N = 2^\([0-9]*\),.*/\1/p' "$T/info2.out")
check "memory target respected" [ $(( (1 << logN) * 8 * 128 )) -le 4194304 ]

# The same key through our loader and Debian's scrypt: same fingerprint.
want=$(sha256sum <"$T/enc.plain" | cut -c1-64 | xxd -r -p | sha256sum |
    cut -c1-64)
"$KG" --check "$T/enc.key" --passphrase env:KG_PASS >"$T/check.out" ||
    fail "--check encrypted"
check "fingerprint matches scrypt dec" grep -q "fingerprint $want" \
    "$T/check.out"
"$KG" --check "$T/enc.plain" >"$T/check2.out" || fail "--check plain"
check "plain copy has the same fingerprint" grep -q "fingerprint $want" \
    "$T/check2.out"

# Passphrase from a file (first line only).
printf 'from a file\nignored\n' >"$T/pw"
"$KG" --passphrase "file:$T/pw" --target-time 0.02 --target-memory 2M \
    "$T/fenc.key" 2>/dev/null || fail "file: passphrase"
printf 'from a file' >"$T/pw1"
scrypt dec --passphrase "file:$T/pw1" "$T/fenc.key" >/dev/null ||
    fail "file: passphrase is the first line"

# Passphrase on standard input once.
echo 'stdin pass' | "$KG" --passphrase dev:stdin-once --target-time 0.02 \
    --target-memory 2M "$T/senc.key" 2>/dev/null || fail "dev:stdin-once"
KG_PASS='stdin pass' scrypt dec --passphrase env:KG_PASS "$T/senc.key" \
    >/dev/null || fail "dev:stdin-once passphrase"

# No terminal (setsid: no controlling tty): dev:tty-stdin falls back to
# standard input, reading the passphrase twice to confirm it, as
# scrypt(1) does; the loader's default method reads it once.
printf 'no tty\nno tty\n' | setsid -w "$KG" --passphrase dev:tty-stdin \
    --target-time 0.02 --target-memory 2M "$T/nenc.key" 2>"$T/nenc.err" ||
    fail "dev:tty-stdin without a terminal: $(cat "$T/nenc.err")"
printf 'no tty\n' | setsid -w "$KG" --check "$T/nenc.key" >"$T/ncheck.out" \
    2>&1 || fail "default passphrase method without a terminal"
check "default method reads standard input" grep -q "key loaded" \
    "$T/ncheck.out"
if printf 'no tty\n' | setsid -w "$KG" --passphrase dev:tty-stdin \
    --target-time 0.02 --target-memory 2M "$T/n2.key" 2>"$T/n2.err"; then
	fail "unconfirmed passphrase accepted"
fi
check "missing confirmation reported" grep -q "end of input" "$T/n2.err"
check "no file without confirmation" [ ! -e "$T/n2.key" ]

# Failures leave no file behind.
unset KG_UNSET
if "$KG" --passphrase env:KG_UNSET "$T/none.key" 2>"$T/none.err"; then
	fail "unset passphrase variable accepted"
fi
check "unset variable named" grep -q "KG_UNSET is not set" "$T/none.err"
check "no file left after failure" [ ! -e "$T/none.key" ]
if "$KG" --passphrase bogus "$T/none.key" 2>/dev/null; then
	fail "bogus passphrase method accepted"
fi
if "$KG" --target-time -1 --passphrase env:KG_PASS "$T/none.key" \
    2>/dev/null; then
	fail "negative target time accepted"
fi
check "no file after bad options" [ ! -e "$T/none.key" ]
"$KG" --help | grep -q -- "--passphrase" || fail "--help"
log "spiped-keygen ok"
