#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# End-to-end tests: Chromium (playwright-core) and the eventsource package
# against the real server binaries, over http and (tls.test.mjs) https.
#
#   tests/e2e/run.sh [BIN_DIR [TLS_BIN_DIR]]
#
# BIN_DIR: the plain build (default build/bin of this repository);
# TLS_BIN_DIR: a CONFIG_SSE_TLS build (default build/tls/bin: make
# BUILD=build/tls KCONFIG_CONFIG=build/tls/.config
# DEFCONFIG=configs/posix_tls_defconfig build/tls/bin/sse_e2e_server
# build/tls/bin/telemetry). Without it the https tests fail, the others run.
#
# Needs node >= 20.18.1 (undici 7), npm, openssl and /usr/bin/chromium.
# Installs the pinned packages (package-lock.json) into tests/e2e/node_modules
# when missing or stale.
# Prints one closing line "e2e: N passed, M failed" and exits non-zero if a
# test failed or the runner did not complete.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-$root/build/bin}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
tlsbin=${2:-$root/build/tls/bin}
case $tlsbin in /*) ;; *) tlsbin=$PWD/$tlsbin ;; esac
if [ -n "${SSE_SCREENSHOT:-}" ]; then
    case $SSE_SCREENSHOT in /*) ;; *) SSE_SCREENSHOT=$PWD/$SSE_SCREENSHOT ;; esac
    export SSE_SCREENSHOT
fi

for f in sse_e2e_server telemetry; do
    if [ ! -x "$bin/$f" ]; then
        echo "e2e: missing $bin/$f (make build/bin/sse_e2e_server build/bin/telemetry)" >&2
        echo "e2e: 0 passed, 1 failed"
        exit 1
    fi
done

for f in sse_e2e_server telemetry; do
    [ -x "$tlsbin/$f" ] || echo "e2e: missing $tlsbin/$f: the https tests (tls.test.mjs) will fail" >&2
done

cd "$here" || exit 1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    echo "e2e: npm ci" >&2
    if ! npm ci --no-audit --no-fund >&2; then
        echo "e2e: npm ci failed" >&2
        echo "e2e: 0 passed, 1 failed"
        exit 1
    fi
    touch node_modules
fi

log=$(mktemp "${TMPDIR:-/tmp}/sse-e2e.XXXXXX")
trap 'rm -f "$log"' EXIT

# The TAP reporter's summary ("# pass N", "# fail N") is what gets counted;
# the spec reporter goes to the terminal.
start=$(date +%s)
SSE_BIN=$bin SSE_TLS_BIN=$tlsbin timeout -k 10 600 node --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$log" \
    ./*.test.mjs
rc=$?
secs=$(( $(date +%s) - start ))

pass=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
fail=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
cancelled=$(sed -n 's/^# cancelled \([0-9][0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ -z "$pass" ] || [ -z "$fail" ]; then
    echo "e2e: the test runner did not complete (exit $rc after ${secs} s)" >&2
    echo "e2e: ${pass:-0} passed, $(( ${fail:-0} + 1 )) failed"
    exit 1
fi
fail=$(( fail + ${cancelled:-0} ))
echo "e2e: ${secs} s, node --test exit $rc" >&2
echo "e2e: $pass passed, $fail failed"
if [ "$rc" -ne 0 ] || [ "$fail" -ne 0 ] || [ "$pass" -eq 0 ]; then
    exit 1
fi
exit 0
