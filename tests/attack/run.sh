#!/bin/bash
# Runs the attack suite (tests/attack/attack.c) against sse_attack_server:
# request smuggling shapes, oversize lines and header floods, slowloris,
# 10 000 randomly mutated requests, a connection flood past the slot count,
# and clients that reset, stop (SIGSTOP) or half-close.
#
# Usage: tests/attack/run.sh [BIN_DIR]   (default build/bin; uses
#        BIN_DIR/sse_attack and BIN_DIR/sse_attack_server)
# Env:   ATTACK_SEED (a fixed seed for the mutations; default: the clock),
#        ATTACK_MUTATIONS (10000), KEEP_TMP=1 keeps the server log.
#
# Everything is on 127.0.0.1 with an OS-chosen port; every case has its own
# time bound and the whole run is bounded by `timeout` (about 15 s here).
# Prints "ok - ..." / "FAIL - ..." lines and ends with exactly
# "attack: N passed, M failed"; exits non-zero on any failure.
set -u
BIN=${1:-build/bin}
LIMIT_S=300
TMP=$(mktemp -d)
cleanup() {
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

for b in sse_attack sse_attack_server; do
    if [ ! -x "$BIN/$b" ]; then
        echo "FAIL - $BIN/$b is built (make BUILD=${BIN%/bin} $BIN/sse_attack $BIN/sse_attack_server)"
        echo "attack: 0 passed, 1 failed"
        exit 1
    fi
done

args=(--server "$BIN/sse_attack_server" --server-log "$TMP/server.log"
      --mutations "${ATTACK_MUTATIONS:-10000}")
[ -n "${ATTACK_SEED:-}" ] && args+=(--seed "$ATTACK_SEED")

# -k: a suite stuck past its bound is killed for sure; its server child
# notices EOF on its stdin and exits.
timeout -k 5 "$LIMIT_S" "$BIN/sse_attack" "${args[@]}" 2>&1 | tee "$TMP/out"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
    echo "# server log (last 20 lines):"
    tail -n 20 "$TMP/server.log" | sed 's/^/#   /'
fi
if ! grep -Eq '^attack: [0-9]+ passed, [0-9]+ failed$' "$TMP/out"; then
    [ "$rc" -eq 124 ] && echo "FAIL - the suite finished within ${LIMIT_S} s (killed by timeout)"
    echo "attack: 0 passed, 1 failed"
    exit 1
fi
exit "$rc"
