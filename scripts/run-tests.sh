#!/bin/sh
# make test: the one CUnit runner built and run over the POSIX port (gcc,
# clang, ASan+UBSan, TSan, TLS) and over the lwIP port (gcc, ASan+UBSan, TSan),
# the static checks, the Cortex-M4 build and the suites with real clients;
# prints a closing "N passed, N failed" line. Installs the package groups of
# its later steps (scripts/deps.sh) unless NO_DEPS is set (make test NO_DEPS=1).
set -u
MAKE=${MAKE:-make}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
passed=0 failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
: >"$log/failures"
# record NAME [FILE]: keep NAME and its failing lines (CUnit's "N. file:line
# - assertion", also as tests/rpi/qemu_test.sh quotes it after "# ", a
# suite's "not ok", a sanitizer's report) for the closing list, which CI
# shows even when it keeps only the end of the output.
record() {
    echo "--- $1" >>"$log/failures"
    [ -n "${2:-}" ] && [ -f "$2" ] && grep -E \
        'Test: .*\.\.\.FAILED|had failures|^(# )? +[0-9]+\. |^(not ok|FAIL - )|^ +(✖|not ok)|Sanitizer|runtime error|^==[0-9]+== [A-Z]' \
        "$2" | head -12 >>"$log/failures"
    return 0
}
fail() { failed=$((failed + 1)); record "$@"; }
# deps GROUP...: the Debian packages of these groups, installed if missing
deps() {
    [ -n "${NO_DEPS:-}" ] && return 0
    scripts/deps.sh check "$@" >/dev/null || scripts/deps.sh install "$@"
}

# Count tests from a CUnit Run Summary ("tests  Total Ran Passed Failed ...").
tally() {
    out=$1 what=$2
    line=$(grep -E '^ +tests +[0-9]' "$out" | tail -1)
    if [ -z "$line" ]; then
        echo "  $what: no CUnit summary (runner crashed?)"
        fail "$what: no CUnit summary" "$out"
        return
    fi
    # shellcheck disable=SC2086 # the summary's fields
    set -- $line
    passed=$((passed + $4)); failed=$((failed + $5))
    [ "$5" -eq 0 ] || record "$what: $5 failed" "$out"
}

variant() { # name, make args...
    name=$1; shift
    echo "=== $name: build"
    if ! $MAKE -s -j"$JOBS" "$@" >"$log/$name.build" 2>&1; then
        cat "$log/$name.build"; echo "=== $name: BUILD FAILED"
        fail "$name: build"; return
    fi
    bin=$(ls -d "$(echo "$@" | sed -n 's/.*BUILD=\([^ ]*\).*/\1/p')"/bin/sse_tests 2>/dev/null)
    echo "=== $name: run ${RUN:+$RUN }$bin${TEST_ARGS:+ $TEST_ARGS}"
    # shellcheck disable=SC2086 # RUN and TEST_ARGS are word lists
    ${RUN:-} "$bin" ${TEST_ARGS:-} >"$log/$name.out" 2>&1
    rc=$?
    # Keep the output short: failures and the summary.
    grep -E '^==[0-9]+==|FAILED|Test: .*\.\.\.FAILED|^ +[0-9]+\. |Run Summary|suites|tests|asserts|ERROR|WARNING|Sanitizer|runtime error' "$log/$name.out" | head -60
    [ $rc -eq 0 ] || echo "=== $name: exit code $rc"
    tally "$log/$name.out" "$name"
    [ $rc -eq 0 ] || grep -Eq '^ +tests +[0-9]+ +[0-9]+ +[0-9]+ +[1-9]' "$log/$name.out" \
        || fail "$name: exit code $rc" "$log/$name.out"
}

variant gcc   BUILD=build/gcc   CC=gcc   build/gcc/bin/sse_tests
echo "=== static checks (gcc objects)"
if $MAKE -s BUILD=build/gcc check-nomalloc check-prefix check-kconfig check-layers; then
    passed=$((passed + 4)); else fail "static checks (gcc)"; fi
variant clang BUILD=build/clang CC=clang all build/clang/bin/sse_tests
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
variant asan  BUILD=build/asan  CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
        SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" build/asan/bin/sse_tests
TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
variant tsan  BUILD=build/tsan  CC=clang OPT="-O1 -g" SAN="-fsanitize=thread" \
        build/tsan/bin/sse_tests
# The POSIX port's path for systems without Linux's calls (accept + fcntl,
# a mutex and condition for the event count, no MSG_NOSIGNAL): the suites
# that use sockets and threads.
TEST_ARGS="-s port -s server -s fanout -s contract -s connbuf" \
variant portable BUILD=build/portable CC=gcc OPT="-O2 -g -DSSE_POSIX_PORTABLE" \
        build/portable/bin/sse_tests
TEST_ARGS=
# The TLS preset (configs/posix_tls_defconfig), plain and under ASan+UBSan.
TLSCFG="DEFCONFIG=configs/posix_tls_defconfig"
variant tls   BUILD=build/tls KCONFIG_CONFIG=build/tls/.config $TLSCFG CC=gcc \
        all build/tls/bin/sse_tests
echo "=== static checks (TLS objects)"
if $MAKE -s BUILD=build/tls KCONFIG_CONFIG=build/tls/.config check-nomalloc check-prefix; then
    passed=$((passed + 2)); else fail "static checks (TLS)"; fi
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
variant tls-asan BUILD=build/tls-asan KCONFIG_CONFIG=build/tls-asan/.config $TLSCFG \
        CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
        SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" build/tls-asan/bin/sse_tests

# valgrind memcheck over the plain runner (every suite) and the TLS one
# (tls + server suites): no error, no leak of any kind.
VG="valgrind -q --error-exitcode=9 --leak-check=full --show-leak-kinds=definite,indirect,possible"
VG="$VG --errors-for-leak-kinds=definite,indirect,possible"
RUN="$VG" variant valgrind BUILD=build/gcc CC=gcc build/gcc/bin/sse_tests
RUN="$VG" TEST_ARGS="-s tls -s server" variant tls-valgrind BUILD=build/tls \
        KCONFIG_CONFIG=build/tls/.config $TLSCFG CC=gcc build/tls/bin/sse_tests
RUN='' TEST_ARGS=''

# The lwIP port: a host build on Debian's lwIP, served over a tap link in a
# network namespace, and the Cortex-M4 cross build (compiles with -Werror).
deps lwip
echo "=== lwip: build"
if ! $MAKE -s BUILD=build/lwip KCONFIG_CONFIG=build/lwip/.config \
        DEFCONFIG=configs/lwip_host_defconfig CC=gcc all >"$log/lwip.build" 2>&1; then
    cat "$log/lwip.build"; echo "=== lwip: BUILD FAILED"; fail "lwip: build"
elif $MAKE -s BUILD=build/lwip KCONFIG_CONFIG=build/lwip/.config check-nomalloc check-prefix; then
    passed=$((passed + 2))
else
    fail "static checks (lwIP)"
fi
# The same runner, suites unchanged, over the lwIP port: ssedge serves
# through lwIP's TCP on a tap link and the suites' clients are Linux sockets
# in the same namespace (tests/lwip/netns.sh). Plain gcc, ASan+UBSan and
# TSan (Debian's liblwip is not instrumented: TSan checks ssedge's accesses and
# sees lwIP's locks through the pthread calls they make). The presets name
# Debian's hosted lwIP themselves (pkg-config, no MEMP_NUM_NETCONN check
# against its header).
LWIPSUITE="DEFCONFIG=configs/lwip_host_suite_defconfig"
RUN="tests/lwip/netns.sh -t 300" \
variant lwip-suite BUILD=build/lwip-suite KCONFIG_CONFIG=build/lwip-suite/.config \
        $LWIPSUITE CC=gcc all
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
RUN="tests/lwip/netns.sh -t 300" \
variant lwip-asan BUILD=build/lwip-asan KCONFIG_CONFIG=build/lwip-asan/.config \
        $LWIPSUITE CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
        SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" build/lwip-asan/bin/sse_tests
TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
RUN="tests/lwip/netns.sh -t 300" \
variant lwip-tsan BUILD=build/lwip-tsan KCONFIG_CONFIG=build/lwip-tsan/.config \
        $LWIPSUITE CC=clang OPT="-O1 -g" SAN="-fsanitize=thread" build/lwip-tsan/bin/sse_tests
# valgrind memcheck over the whole lwIP runner, as over the plain one, but
# for lwIP's own two threads, alive at exit (tests/lwip/valgrind.supp).
RUN="tests/lwip/netns.sh -t 900 $VG --suppressions=tests/lwip/valgrind.supp" \
variant lwip-valgrind BUILD=build/lwip-suite KCONFIG_CONFIG=build/lwip-suite/.config \
        $LWIPSUITE CC=gcc all
# https over lwIP: the tls and server suites on the lwIP TLS preset.
RUN="tests/lwip/netns.sh -t 300" TEST_ARGS="-s tls -s server" \
variant lwip-tls BUILD=build/lwip-tls KCONFIG_CONFIG=build/lwip-tls/.config \
        DEFCONFIG=configs/lwip_host_tls_defconfig CC=gcc build/lwip-tls/bin/sse_tests
RUN='' TEST_ARGS='' # dash may keep a function call's assignments
echo "=== cortex-m4: build and size"
if scripts/size.sh configs/cortex_m4_lwip_defconfig >"$log/size.out" 2>&1; then
    grep -E '^static RAM|total' "$log/size.out"; passed=$((passed + 1))
else
    tail -20 "$log/size.out"; echo "=== cortex-m4: BUILD FAILED"; fail "cortex-m4: build"
fi

# Real clients: headless Chromium and the eventsource package against the
# gcc build, and curl through Debian's nginx.
deps e2e
external() { # name, command...
    name=$1; shift
    echo "=== $name"
    "$@" >"$log/$name.out" 2>&1
    rc=$?
    grep -E '^(not ok|FAIL - |# fail|# Subtest)|^# +[0-9]+\. |^ +(✖|not ok)|: [0-9]+ passed, [0-9]+ failed$' "$log/$name.out" | head -40
    line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed$" "$log/$name.out" | tail -1)
    if [ -z "$line" ]; then
        tail -30 "$log/$name.out"
        echo "  $name: no summary line"
        fail "$name: no summary line" "$log/$name.out"
        return
    fi
    # shellcheck disable=SC2086 # the summary's fields
    set -- $line
    passed=$((passed + $2)); failed=$((failed + $4))
    if [ "$4" -ne 0 ]; then
        # A suite's own diagnostics follow its checks: show them.
        echo "  --- the end of $name's output:"
        tail -n 40 "$log/$name.out" | sed 's/^/  | /'
        record "$name: $4 failed" "$log/$name.out"
    fi
    [ $rc -eq 0 ] || [ "$4" -gt 0 ] || fail "$name: exit code $rc" "$log/$name.out"
}
$MAKE -s BUILD=build/gcc CC=gcc build/gcc/bin/telemetry build/gcc/bin/sse_e2e_server \
    build/gcc/bin/ssedge >/dev/null
external e2e   tests/e2e/run.sh build/gcc/bin build/tls/bin
# A device's uplink to a hub: Debian's nginx + nchan, two nodes and Redis,
# outages of each, over http and https (issue 13).
deps hub
external hub   tests/hub/hub_test.sh build/gcc/bin build/tls/bin
external nginx tests/proxy/nginx_test.sh build/gcc/bin
external lwip  tests/lwip/lwip_host_test.sh build/lwip/bin
external hub-lwip tests/lwip/netns.sh -t 180 tests/hub/hub_lwip_test.sh build/lwip/bin
# Hostile clients: smuggling shapes, oversize heads, slowloris, 10 000
# mutated requests, floods past the slots, resets, a stopped reader.
$MAKE -s BUILD=build/gcc CC=gcc build/gcc/bin/sse_attack build/gcc/bin/sse_attack_server >/dev/null
external attack tests/attack/run.sh build/gcc/bin
# Every preset builds as it is (make O=dir NAME_defconfig && make O=dir,
# -Werror, its own toolchain) and round-trips savedefconfig; one build folder
# switched between toolchains, flags and configurations never mixes them;
# make install + a program built through pkg-config.
deps rpi
external presets scripts/check-presets.sh
external build tests/build/toolchain_test.sh
external install tests/install/install_test.sh
# The Raspberry Pi daemon on the host, then both Pi presets cross-built
# (static) and run under qemu-user: the runner, TLS, streams, the daemon.
$MAKE -s BUILD=build/gcc CC=gcc build/gcc/bin/ssedge-rpi build/gcc/bin/ssedge >/dev/null
external rpi-daemon tests/rpi/daemon_test.sh build/gcc/bin
external rpi-uplink tests/rpi/uplink_test.sh build/gcc/bin
# The ssedge command: a program's lines, --sse records, stdin, --restart,
# exit statuses, no process left after SIGTERM, POST /publish, --stats.
$MAKE -s BUILD=build/tls KCONFIG_CONFIG=build/tls/.config $TLSCFG CC=gcc build/tls/bin/ssedge \
    build/tls/bin/ssedge-rpi >/dev/null
external ssedge tests/ssedge/cmd_test.sh build/gcc/bin build/tls/bin
# The examples as a user runs them: hello built alone from its source, bad
# flags named, --help, the runner's own arguments.
external examples tests/examples/examples_test.sh build/gcc
external rpi   tests/rpi/qemu_test.sh build/rpi-aarch64 build/rpi-armhf

echo
if [ -s "$log/failures" ]; then
    echo "what failed (details above):"
    head -60 "$log/failures"
fi
echo "make test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
