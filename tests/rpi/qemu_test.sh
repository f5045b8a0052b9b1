#!/bin/bash
# Raspberry Pi builds under emulation: builds the rpi presets as they are
# (make O=dir defconfig, then make O=dir PROGRAMS: each preset names its
# cross compiler and links statically, see below), runs the CUnit runner
# under qemu-user (its publish suite: POST /publish with curl), streams
# from the emulated telemetry example with host curl (ids, Last-Event-ID
# resume), runs tests/rpi/daemon_test.sh against the emulated ssedge-rpi and
# tests/ssedge/cmd_test.sh against the emulated ssedge command (its program
# a host shell), and runs the tls suite of a TLS build of each preset.
#
# Usage: tests/rpi/qemu_test.sh [BUILD_AARCH64 [BUILD_ARMHF]]
#        (defaults build/rpi-aarch64 build/rpi-armhf; "-" skips that arch)
# Env:   SUITES="-s http -s server"  runner arguments (default: every suite)
#        TLS=0  skips the TLS builds (BUILD-tls: the preset + CONFIG_SSE_TLS,
#               mbedTLS from multiarch) and their tls suite
#        JOBS (2)  make -j;  KEEP_TMP=1 keeps the temp dir
# Needs: scripts/deps.sh group rpi (installed here if missing, as root),
#        curl, python3, bash >= 5.
#
# Static linking (the presets' CONFIG_SSE_LDFLAGS="-static") sidesteps qemu's sysroot question (-L):
# with Debian's multiarch libc installed next to the cross one, a dynamic
# binary can load the wrong loader/libc pair and hang at its first thread.
# Servers listen on 127.0.0.1 at ports the OS picks. Every step has a
# timeout, the whole run is bounded by LIMIT_S, and every process started
# here is stopped by its PID on exit.
set -u
export LC_ALL=C
LIMIT_S=${LIMIT_S:-1500}   # whole run: two cross builds from scratch + tests
# The overall bound: the script runs again under timeout(1), which sends
# SIGTERM when LIMIT_S is over.
if [ -z "${SSEDGE_QEMU_BOUNDED:-}" ]; then
    export SSEDGE_QEMU_BOUNDED=1
    exec timeout -k 30 "$LIMIT_S" bash "$0" "$@"
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
B_AARCH64=${1:-build/rpi-aarch64}
B_ARMHF=${2:-build/rpi-armhf}
SUITES=${SUITES:-}
TLS=${TLS:-1}
JOBS=${JOBS:-2}
RUNNER_LIMIT_S=600         # one runner under qemu (~15 s when the machine is idle)
INTERVAL_MS=300            # telemetry's publishing period
WINDOW_S=2.5               # the telemetry stream is read this long

SUITE=rpi # the summary line
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$HERE/../lib/common.sh" # checks, pids, TMP, cleanup, waits, stop

# ---------------------------------------------------------------- cleanup
# A signal (the overall timeout below, or ^C) interrupts a wait at once; the
# EXIT trap then stops what was started.
# fd 3 is the script's stdout: the trap may run inside a redirected step.
exec 3>&1
trap '{ not_ok "interrupted by a signal (the whole run is bounded to ${LIMIT_S} s)"; summary; } >&3
      exit 130' INT TERM
# run CMD...: in the background, so that a signal is handled at once
run() {
    "$@" &
    local p=$!
    pids+=("$p")
    wait "$p"
}

cd "$TOP" || bail "cd $TOP"
command -v curl >/dev/null 2>&1 || bail "curl is installed"
[ "${BASH_VERSINFO[0]}" -ge 5 ] || bail "bash >= 5 (EPOCHREALTIME)"
if ! scripts/deps.sh check rpi >/dev/null; then
    scripts/deps.sh install rpi >&2 || bail "scripts/deps.sh install rpi"
fi
ok "cross toolchains, qemu-user, the target CUnit and mbedTLS are installed (scripts/deps.sh rpi)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-qemu.XXXXXX") || bail "mktemp -d"

# ---------------------------------------------------------------- steps
# build LABEL BUILD DEFCONFIG PROGRAM...: that preset with its own toolchain
# (a .config already there is rewritten only if the preset changed, so an
# unchanged tree rebuilds nothing)
build() {
    local label=$1 b=$2 defconfig=$3 t0 r
    shift 3
    t0=$EPOCHREALTIME
    run timeout 60 make -s O="$b" DEFCONFIG="$defconfig" defconfig >"$TMP/$label.build" 2>&1 &&
        run timeout 1200 make -s -j"$JOBS" O="$b" "$@" >>"$TMP/$label.build" 2>&1
    r=$?
    # glibc's note that a static getaddrinfo would need its NSS modules for
    # host names; ssedge passes AI_NUMERICHOST, which needs none.
    grep -v -e "Using 'getaddrinfo' in statically linked" -e "in function \`sse_port_listen'" \
        -e "^Loaded configuration" -e "^Configuration saved" -e "^No change to configuration" \
        "$TMP/$label.build" | sed 's/^/# /' | tail -30
    check $r "$label: make O=$b with $defconfig as it is ($(awk \
        -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s)"
    return $r
}
# tls_config BUILD DEFCONFIG: BUILD/rpi_tls_defconfig = the preset + TLS
# (mbedTLS from multiarch)
tls_config() {
    mkdir -p "$1" && { cat "$2"; echo "CONFIG_SSE_TLS=y"; } >"$1/rpi_tls_defconfig"
}
# machine BINARY WANT: the ELF header says WANT ("AArch64", "ARM") and static
machine() {
    local h
    h=$(readelf -h -l "$1" 2>/dev/null)
    [[ $h == *"Machine:"*"$2"* ]] && [[ $h != *"INTERP"* ]]
}
# runner LABEL QEMU BUILD [ARGS...]: the CUnit runner; each CUnit test is
# one check
runner() {
    local arch=$1 qemu=$2 b=$3 t0 r line secs ran np nf
    shift 3
    t0=$EPOCHREALTIME
    # SSE_TESTS_EMULATED: checks of the process's own address space are
    # the emulator's here, and skipped (test_server.c).
    run timeout "$RUNNER_LIMIT_S" env SSE_TESTS_EMULATED="$qemu" "$qemu" "$b/bin/sse_tests" "$@" \
        >"$TMP/$arch.tests" 2>&1
    r=$?
    secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    grep -E 'FAILED|^ +[0-9]+\. |^backend' "$TMP/$arch.tests" | head -40 | sed 's/^/# /'
    line=$(grep -E '^ +tests +[0-9]' "$TMP/$arch.tests" | tail -1)
    if [ -z "$line" ]; then
        tail -5 "$TMP/$arch.tests" | sed 's/^/# /'
        not_ok "$arch: sse_tests under $qemu printed no CUnit summary (exit $r after $secs s)"
        return
    fi
    # "tests  Total Ran Passed Failed Inactive"
    read -r _ _ ran np nf _ <<<"$line"
    echo "# $arch: sse_tests under $qemu: $ran run, $np passed, $nf failed in $secs s"
    passed=$((passed + np))
    failed=$((failed + nf))
    # A failure under emulation may not come back on the next run: keep the
    # whole output (the tests' own stderr lines too) in the build folder.
    if [ "$nf" -gt 0 ] && cp "$TMP/$arch.tests" "$b/sse_tests.failed.log"; then
        echo "# $arch: the runner's whole output is in $b/sse_tests.failed.log"
    fi
    if [ "$r" -ne 0 ] && [ "$nf" -eq 0 ]; then
        not_ok "$arch: sse_tests exit code $r with no failed test (suite set-up failed?)"
    fi
}
# ids NAME: "ID EVENT" per event of $TMP/NAME.out
ids() {
    tr -d '\r' <"$TMP/$1.out" | awk '/^event: / { ev = $2 } /^id: / { id = $2 }
        /^$/ { if (id != "") print id, ev; ev = ""; id = "" }'
}
# telemetry ARCH QEMU BUILD: the emulated example streams to host curl, and
# resumes from Last-Event-ID
telemetry() {
    local arch=$1 qemu=$2 b=$3 pid port n mono from next first r
    "$qemu" "$b/bin/telemetry" --port 0 --bind 127.0.0.1 --interval-ms "$INTERVAL_MS" \
        >"$TMP/$arch.telemetry.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    port=$(wait_line 100 "$pid" 's|^telemetry: http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' \
        "$TMP/$arch.telemetry.log")
    if [ -z "$port" ]; then
        sed 's/^/# /' "$TMP/$arch.telemetry.log"
        not_ok "$arch: telemetry under $qemu starts and prints its port"
        return
    fi
    ok "$arch: telemetry under $qemu serves on 127.0.0.1:$port"

    timeout 20 curl -sN --max-time "$WINDOW_S" -D "$TMP/$arch.tel.headers" \
        -H 'Accept: text/event-stream' "http://127.0.0.1:$port/events" >"$TMP/$arch.tel.out"
    r=$?
    is_sse_200 "$arch.tel"
    check $? "$arch: curl GET /events (Accept: text/event-stream): 200, text/event-stream"
    [ "$r" -eq 28 ]
    check $? "$arch: the stream stays open (curl exit $r, want 28)"
    ids "$arch.tel" >"$TMP/$arch.tel.ids"
    n=$(grep -c ' telemetry$' "$TMP/$arch.tel.ids")
    mono=$(awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1 } END { print bad ? 0 : 1 }' \
        "$TMP/$arch.tel.ids")
    [ "$n" -ge 4 ] && [ "$mono" -eq 1 ]
    check $? "$arch: $n telemetry events with id: in ${WINDOW_S} s at ${INTERVAL_MS} ms, ids increasing (want >= 4)"

    # Resume after the second telemetry event: the replay from the ring must
    # start with the telemetry event that followed it (hello events went to
    # that one connection only and are never replayed elsewhere).
    from=$(awk '$2 == "telemetry" { if (++k == 2) print $1 }' "$TMP/$arch.tel.ids")
    next=$(awk '$2 == "telemetry" { if (++k == 3) print $1 }' "$TMP/$arch.tel.ids")
    if [ -n "$from" ] && [ -n "$next" ]; then
        timeout 20 curl -sN --max-time 1 -H 'Accept: text/event-stream' \
            -H "Last-Event-ID: $from" "http://127.0.0.1:$port/events" >"$TMP/$arch.res.out"
        first=$(ids "$arch.res" | awk '$2 == "telemetry" { print $1; exit }')
        [ "${first:-x}" = "$next" ]
        check $? "$arch: Last-Event-ID: $from replays from telemetry id ${first:-none} (want $next)"
    else
        not_ok "$arch: Last-Event-ID resume (too few telemetry events to resume from)"
    fi
    stop "$pid" TERM
    [ "$RC" -eq 0 ]
    check $? "$arch: telemetry under $qemu exits 0 on SIGTERM (got $RC)"
}
# suite ARCH QEMU LABEL LIMIT_S SCRIPT BUILD [ENV...]: SCRIPT (a suite of
# ours, its summary line "LABEL (ARCH): N passed, M failed") against the
# emulated binaries in BUILD/bin, with WRAP=QEMU and ENV; its checks count
# here, each prefixed with ARCH and LABEL.
suite() {
    local arch=$1 qemu=$2 label=$3 limit=$4 script=$5 b=$6 line
    shift 6
    run env WRAP="$qemu" NAME="$label ($arch)" "$@" timeout "$limit" "$script" "$b/bin" \
        >"$TMP/$arch.$label" 2>&1
    sed "s/^\(not \)\{0,1\}ok - /&$arch: $label: /" "$TMP/$arch.$label" | grep -v "^$label ("
    line=$(grep -E "^$label \(.*\): [0-9]+ passed, [0-9]+ failed\$" "$TMP/$arch.$label" | tail -1)
    if [ -z "$line" ]; then
        not_ok "$arch: $(basename "$script") printed no summary"
        return
    fi
    line=${line##*: }           # "N passed, M failed"
    passed=$((passed + ${line%% passed*}))
    line=${line#*passed, }
    failed=$((failed + ${line%% failed}))
}

for spec in "aarch64 $B_AARCH64 qemu-aarch64 AArch64" "armhf $B_ARMHF qemu-arm ARM"; do
    read -r arch b qemu mach <<<"$spec"
    [ "$b" = "-" ] && continue
    echo "=== $arch ($b)"
    build "$arch" "$b" "configs/rpi_${arch}_defconfig" \
        "$b/bin/sse_tests" "$b/bin/telemetry" "$b/bin/ssedge-rpi" "$b/bin/ssedge" || continue
    machine "$b/bin/sse_tests" "$mach" && machine "$b/bin/ssedge-rpi" "$mach" &&
        machine "$b/bin/ssedge" "$mach"
    check $? "$arch: sse_tests, ssedge-rpi and ssedge are static $mach executables"
    # shellcheck disable=SC2086
    runner "$arch" "$qemu" "$b" $SUITES
    telemetry "$arch" "$qemu" "$b"
    suite "$arch" "$qemu" rpi-daemon 120 "$HERE/daemon_test.sh" "$b"
    # the ssedge command without its 5 s grace-period case (QUICK)
    suite "$arch" "$qemu" ssedge 240 "$TOP/tests/ssedge/cmd_test.sh" "$b" QUICK=1
    # mbedTLS on the target (its 32-bit bignum code on armhf): the tls suite,
    # host curl and openssl s_client against the emulated server.
    [ "$TLS" = 0 ] && continue
    if tls_config "$b-tls" "configs/rpi_${arch}_defconfig" &&
        build "$arch-tls" "$b-tls" "$b-tls/rpi_tls_defconfig" "$b-tls/bin/sse_tests"; then
        runner "$arch-tls" "$qemu" "$b-tls" -s tls
    fi
done

summary
[ "$failed" -eq 0 ]
