#!/bin/bash
# Passphrases typed at a terminal (a pseudo-terminal driven from Python):
# spiped-keygen asks twice with dev:tty-stdin and refuses a mismatch, the
# passphrase is never echoed, and dev:tty-once asks once when loading.
. "$(dirname "$0")/../lib.sh"

KG=$(bin spiped-keygen)
[ -x "$KG" ] || fail "spiped-keygen not built"
command -v scrypt >/dev/null || skip "scrypt(1) not installed"

# ptyrun.py ANSWERS... -- COMMAND...: run COMMAND on a new pseudo-terminal,
# answer each "passphrase: " prompt with the next ANSWER, print everything
# the terminal showed, exit with COMMAND's status.
cat >"$T/ptyrun.py" <<'PY'
import os, pty, select, sys, time
i = sys.argv.index("--")
answers, cmd = sys.argv[1:i], sys.argv[i + 1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
shown = b""
pending = b""
deadline = time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.5)
    if not r:
        continue
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    shown += d
    pending += d
    if b"passphrase: " in pending and answers:
        pending = b""
        os.write(fd, answers.pop(0).encode() + b"\n")
_, st = os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors="replace"))
sys.exit(os.WEXITSTATUS(st) if os.WIFEXITED(st) else 99)
PY

python3 "$T/ptyrun.py" 'typed secret' 'typed secret' -- "$KG" \
    --passphrase dev:tty-stdin --target-time 0.02 --target-memory 2M \
    "$T/k1" >"$T/k1.tty" || fail "keygen on a terminal: $(cat "$T/k1.tty")"
check "asked for the passphrase" grep -q "Please enter passphrase:" \
    "$T/k1.tty"
check "asked to confirm it" grep -q "Please confirm passphrase:" "$T/k1.tty"
if grep -q "typed secret" "$T/k1.tty"; then
	fail "the passphrase was echoed"
fi
export TTYPW='typed secret'
scrypt dec --passphrase env:TTYPW "$T/k1" >/dev/null ||
    fail "scrypt dec with the typed passphrase"
log "ok: typed passphrase encrypts the key"

if python3 "$T/ptyrun.py" 'one thing' 'another' -- "$KG" \
    --passphrase dev:tty-stdin --target-time 0.02 --target-memory 2M \
    "$T/k2" >"$T/k2.tty"; then
	fail "mismatched confirmation accepted"
fi
check "mismatch reported" grep -q "do not match" "$T/k2.tty"
check "no file after mismatch" [ ! -e "$T/k2" ]

python3 "$T/ptyrun.py" 'typed secret' -- "$KG" --check "$T/k1" \
    --passphrase dev:tty-once >"$T/c1.tty" || fail "--check on a terminal"
check "dev:tty-once asks once" [ "$(grep -c 'passphrase:' "$T/c1.tty")" = 1 ]
check "key loaded" grep -q "key loaded" "$T/c1.tty"
python3 "$T/ptyrun.py" 'wrong one' -- "$KG" --check "$T/k1" \
    >"$T/c2.tty" && fail "wrong typed passphrase accepted"
check "wrong typed passphrase reported" grep -q "wrong passphrase" \
    "$T/c2.tty"
log "terminal passphrases ok"
