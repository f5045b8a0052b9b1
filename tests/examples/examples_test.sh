#!/bin/bash
# SPDX-License-Identifier: MIT
# The examples as a new user meets them: examples/hello/main.c compiled by
# itself with cc against a build's library, run and read with curl (the boot
# event replayed, then messages), stopped by SIGINT; telemetry and ssedge-rpi
# refusing each bad flag with one line and exit 2, --help, a start failure
# (exit 1, a line saying why), the IPv6 URL; the ssedge command the same
# way; sse_tests refusing what it does not know.
#
# Usage: tests/examples/examples_test.sh [BUILD_DIR]   (default build/gcc)
#        uses BUILD_DIR/libssedge.a, BUILD_DIR/include/sse_config.h and
#        BUILD_DIR/bin/{telemetry,ssedge-rpi,ssedge,sse_tests}
# Env:   KEEP_TMP=1 keeps the temp dir.   Needs: cc, curl, bash >= 5.
# Last line: "examples: N passed, M failed". Listens on loopback only, on
# ports the OS picks; every wait is bounded (about 15 s in all).
set -u
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2

B=${1:-build/gcc}
SUITE=examples # the summary line
# shellcheck source=tests/lib/common.sh
. tests/lib/common.sh # checks, pids, TMP, cleanup, waits, stop

for f in "$B/libssedge.a" "$B/include/sse_config.h" "$B/bin/telemetry" \
         "$B/bin/ssedge-rpi" "$B/bin/ssedge" "$B/bin/sse_tests"; do
    [ -e "$f" ] || bail "$f exists (make BUILD=$B $B/bin/telemetry $B/bin/ssedge-rpi $B/bin/ssedge $B/bin/sse_tests)"
done
command -v curl >/dev/null 2>&1 || bail "curl is installed"
command -v cc >/dev/null 2>&1 || bail "cc is installed"
[ "${BASH_VERSINFO[0]}" -ge 5 ] || bail "bash >= 5 (EPOCHREALTIME)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-examples.XXXXXX") || bail "mktemp -d"

# serves NAME ADDR_RE LABEL CMD...: CMD in the background prints (stdout or
# stderr: $TMP/NAME.out, .err) a URL http://ADDR_RE:PORT/ that curl reaches
# (a check), then SIGTERM; RC is its exit status (999: not within 3 s).
serves() {
    local name=$1 addr=$2 label=$3 pid url
    shift 3
    "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
    pid=$!
    pids+=("$pid")
    url=$(wait_line 50 "$pid" "s|.*\\(http://$addr:[0-9][0-9]*/\\).*|\\1|p" "$TMP/$name.out" "$TMP/$name.err")
    [ -n "$url" ] && curl -sg --max-time 3 -o /dev/null "$url"
    check $? "$label (${url:-no URL printed: $(cat "$TMP/$name.out" "$TMP/$name.err" | head -2)})"
    stop "$pid" TERM 3
}
# run NAME CMD...: runs CMD (5 s at most) with its stdout and stderr in
# $TMP/NAME.out and .err; sets RC.
run() {
    local name=$1
    shift
    timeout 5 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null
    RC=$?
}
lines() { grep -c '' "$1"; }

# ------------------------------------------------------------ hello
# Built as the README tells a user to: cc, the public headers, the build's
# configuration and library; nothing from the Makefile.
LIBS="-lpthread"
grep -q '^#define CONFIG_SSE_TLS 1' "$B/include/sse_config.h" &&
    LIBS="-lmbedtls -lmbedx509 -lmbedcrypto $LIBS"
grep -q '^#define CONFIG_SSE_PORT_IO_URING 1' "$B/include/sse_config.h" &&
    LIBS="$LIBS -luring"
# shellcheck disable=SC2086 # LIBS is a word list
cc -std=c99 -Wall -Wextra -Werror -Iinclude -imacros "$B/include/sse_config.h" \
    -o "$TMP/hello" examples/hello/main.c "$B/libssedge.a" $LIBS 2>"$TMP/cc.err"
check $? "examples/hello/main.c builds alone: cc -std=c99 -Wall -Wextra -Werror ... $B/libssedge.a $LIBS"
sed 's/^/# /' "$TMP/cc.err"
n=$(grep -c '' examples/hello/main.c)
[ "$n" -lt 60 ]
check $? "examples/hello/main.c is under 60 lines ($n)"

if [ -x "$TMP/hello" ]; then
    "$TMP/hello" 0 127.0.0.1 >"$TMP/hello.out" 2>"$TMP/hello.err" &
    HELLO=$!
    pids+=("$HELLO")
    PORT=$(wait_line 50 "$HELLO" 's/^hello: port \([0-9][0-9]*\)$/\1/p' "$TMP/hello.out")
    [ -n "$PORT" ]
    check $? "hello 0 127.0.0.1 starts and prints its port (${PORT:-none})"
    PORT=${PORT:-1}
    # Published before the server started: replayed to "Last-Event-ID: 0",
    # ahead of the messages, which count up one a second with no gap.
    curl -sN --max-time 3.5 -H 'Accept: text/event-stream' -H 'Last-Event-ID: 0' \
        "http://127.0.0.1:$PORT/events" >"$TMP/stream" 2>/dev/null
    first=$(grep -m1 '^event: ' "$TMP/stream")
    [ "$first" = "event: boot" ] && grep -qx 'data: ready' "$TMP/stream"
    check $? "the boot event (published before start) is replayed first (first: ${first:-nothing})"
    msgs=$(awk '/^event: message$/ { m = 1; next } m && /^data: / { printf "%s ", $2; m = 0 }' "$TMP/stream")
    awk -v s="$msgs" 'BEGIN { n = split(s, a, " "); if (n < 3) exit 1
        for (i = 2; i <= n; i++) if (a[i] != a[i - 1] + 1) exit 1 }'
    check $? "message events follow, counting up by one (data: ${msgs:-none})"
    # The port is taken: each program says why it cannot start, exit 1.
    run hello-busy "$TMP/hello" "$PORT" 127.0.0.1
    [ $RC -eq 1 ] && grep -q '^hello: cannot start: SSE_ERR_' "$TMP/hello-busy.err"
    check $? "hello on a port in use: exit 1 ($RC), $(grep '^hello:' "$TMP/hello-busy.err")"
    for p in telemetry ssedge-rpi ssedge; do
        run "$p-busy" "$B/bin/$p" --port "$PORT" --bind 127.0.0.1
        [ $RC -eq 1 ] && grep -Eq "$p: cannot (start|serve) on 127\.0\.0\.1:$PORT: SSE_ERR_" "$TMP/$p-busy.err"
        check $? "$p on a port in use: exit 1 ($RC), $(grep -m1 -E "$p: cannot (start|serve)" "$TMP/$p-busy.err")"
    done
    stop "$HELLO" INT 3
    [ "$RC" -eq 0 ] && awk -v s="$STOP_S" 'BEGIN { exit !(s < 3) }'
    check $? "SIGINT: hello exits 0 within 3 s (exit $RC in $STOP_S s)"
fi
run hello-badport "$TMP/hello" 8080x
[ $RC -eq 2 ] && [ "$(lines "$TMP/hello-badport.err")" -eq 1 ]
check $? "hello 8080x: exit 2 ($RC) with one line"

# ------------------------------------------------------------ telemetry, ssedge-rpi
# bad PROG FLAG ARGS...: exit 2, nothing on stdout, one line on stderr that
# starts "PROG: FLAG: ". The arguments come after a loopback bind on any
# port, so a case that were taken would start harmlessly (and fail here).
bad() {
    local prog=$1 flag=$2 name=$1-bad
    shift 2
    run "$name" "$B/bin/$prog" --bind 127.0.0.1 --port 0 "$@"
    local line
    line=$(head -1 "$TMP/$name.err")
    [ $RC -eq 2 ] && [ ! -s "$TMP/$name.out" ] && [ "$(lines "$TMP/$name.err")" -eq 1 ] &&
        [ "${line#"$prog: $flag: "}" != "$line" ]
    check $? "$prog $(printf '%q ' "$@" | cut -c1-50)-> exit 2 ($RC): ${line:0:120}"
}
LONG=$(printf 'x%.0s' $(seq 1 3000))
for p in telemetry ssedge-rpi; do
    bad "$p" --port --port abc
    bad "$p" --port --port 99999
    bad "$p" --port --port -1
    bad "$p" --port --port ''
    bad "$p" --port --port ' 80'
    bad "$p" --port --port 80x
    bad "$p" --port --port 0x50
    bad "$p" --port --port 99999999999999999999
    bad "$p" --port --port
    bad "$p" --interval-ms --interval-ms -5
    bad "$p" --interval-ms --interval-ms 0
    bad "$p" --interval-ms --interval-ms 86400001
    bad "$p" --interval-ms --interval-ms 1.5
    bad "$p" --interval-ms --interval-ms
    bad "$p" --bind --bind localhost
    bad "$p" --bind --bind
    bad "$p" --bind --bind --interval-ms
    bad "$p" --bogus --bogus
    bad "$p" extra extra
done
bad telemetry --token --token short
bad telemetry --cors-origin --cors-origin a --cors-origin b --cors-origin c \
    --cors-origin d --cors-origin e
bad telemetry --cors-origin --cors-origin
bad telemetry --cert --cert x.pem
bad telemetry --key --key x.pem
bad telemetry --ca --ca x.pem
bad ssedge-rpi --root --root
bad ssedge-rpi --root --root "$LONG"
bad ssedge-rpi --token --token short
bad ssedge-rpi --cors-origin --cors-origin a --cors-origin b --cors-origin c \
    --cors-origin d --cors-origin e
bad ssedge-rpi --stats --stats stats
bad ssedge-rpi --stats --stats /events
bad ssedge-rpi --stats --stats /app.js
grep -q '^#define CONFIG_SSE_TLS 1' "$B/include/sse_config.h" || bad ssedge-rpi --cert --cert x.pem
bad ssedge-rpi --key --key x.pem --cert y.pem
for f in abc 99999 -1 '' ' 80' 80x 0x50; do bad ssedge --port --port "$f"; done
bad ssedge --port --port
bad ssedge --bind --bind localhost
bad ssedge --bogus --bogus
bad ssedge extra extra
bad ssedge --token --token short
bad ssedge --publish-token --publish-token short
bad ssedge --event --event ''
bad ssedge --event --event $'a\nb'
bad ssedge --event --event $'\xff'
bad ssedge --channel --channel 'a,b'
bad ssedge --channel --channel ''
bad ssedge --channel --channel 1 --channel 2 --channel 3 --channel 4 --channel 5 --channel 6 \
    --channel 7 --channel 8 --channel 9
bad ssedge --stats --stats stats
bad ssedge --stats --stats /events
bad ssedge --stats --stats /
bad ssedge --stats --stats /app.js
bad ssedge --cors-origin --cors-origin a --cors-origin b --cors-origin c --cors-origin d \
    --cors-origin e
grep -q '^#define CONFIG_SSE_TLS 1' "$B/include/sse_config.h" || bad ssedge --cert --cert x.pem
bad ssedge --key --key x.pem --cert y.pem
bad ssedge --restart-delay-ms --restart-delay-ms 5
bad ssedge --restart-delay-ms --restart-delay-ms 1e3
bad ssedge --restart --restart
bad ssedge --linger --linger --restart -- true
bad ssedge -- --

# --help: a manual on stdout, exit 0; every flag and, under each (but
# --help), its default.
declare -A FLAGS=(
    [telemetry]="--port --bind --interval-ms --cors-origin --token --cert --key --ca --help"
    [ssedge-rpi]="--port --bind --interval-ms --root --token --cors-origin --stats --cert --key
                  --help"
    [ssedge]="--sse --event --channel --port --bind --cors-origin --token --publish-token --stats
              --cert --key --restart --restart-delay-ms --linger --help"
)
for p in telemetry ssedge-rpi ssedge; do
    run "$p-help" "$B/bin/$p" --help
    [ $RC -eq 0 ] && [ ! -s "$TMP/$p-help.err" ] && grep -q '^SYNOPSIS' "$TMP/$p-help.out"
    check $? "$p --help: exit 0 ($RC), a manual on stdout, nothing on stderr"
    missing=""
    for f in ${FLAGS[$p]}; do
        # the paragraph under the flag's own line ("    --port N")
        para=$(awk -v f="$f" '
            /^    -/ { on = 0; n = split($0, w, /[ ,]+/)
                     for (i = 1; i <= n; i++) if (w[i] == f) on = 1 }
            /^[A-Z]/ { on = 0 }
            on' "$TMP/$p-help.out")
        if [ -z "$para" ]; then
            missing="$missing $f"
        elif [ "$f" != --help ] && ! grep -q 'Default' <<<"$para"; then
            missing="$missing $f(default)"
        fi
    done
    [ -z "$missing" ]
    check $? "$p --help has each flag under its own heading, with its default${missing:+ (missing:$missing)}"
done

# Good values are taken (the refusals above are not blanket): the edges of
# each range, then SIGTERM ends it with exit 0.
for p in telemetry ssedge-rpi; do
    serves "$p-ok" '127\.0\.0\.1' "$p --port 0 --bind 127.0.0.1 --interval-ms 86400000 serves" \
        "$B/bin/$p" --port 0 --bind 127.0.0.1 --interval-ms 86400000
    check "$RC" "$p: SIGTERM, exit 0 ($RC)"
done
serves ssedge-ok '127\.0\.0\.1' "ssedge --port 0 --bind 127.0.0.1 --linger --restart-delay-ms 3600000 serves" \
    "$B/bin/ssedge" --port 0 --bind 127.0.0.1 --linger --restart-delay-ms 3600000
check "$RC" "ssedge: SIGTERM, exit 0 ($RC)"

# The URL printed for an IPv6 address carries brackets.
if ! grep -q '^0\{31\}1 .* lo$' /proc/net/if_inet6 2>/dev/null; then
    echo "# skip: no IPv6 loopback (::1) here"
else
    for p in telemetry ssedge-rpi ssedge; do
        # shellcheck disable=SC2046 # one word or none
        serves "$p-v6" '\[::1\]' "$p --bind ::1 prints a URL with brackets that curl reaches" \
            "$B/bin/$p" --port 0 --bind ::1 $([ $p = ssedge ] && echo --linger)
    done
fi

# ------------------------------------------------------------ sse_tests
T=$B/bin/sse_tests
run tests-list "$T" -l
SUITES=$(tr '\n' ' ' <"$TMP/tests-list.out" | sed 's/ $//')
[ $RC -eq 0 ] && grep -qx http "$TMP/tests-list.out" && grep -qx event "$TMP/tests-list.out"
check $? "sse_tests -l lists the suites: $SUITES"
run tests-help "$T" --help
missing=""
for s in $SUITES; do grep -qw -- "$s" "$TMP/tests-help.out" || missing="$missing $s"; done
[ $RC -eq 0 ] && [ -z "$missing" ] && grep -q -- '-s SUITE' "$TMP/tests-help.out" &&
    ! grep -Eq 'Run Summary|backend:' "$TMP/tests-help.out" "$TMP/tests-help.err"
check $? "sse_tests --help: exit 0 ($RC), usage with every suite, nothing run${missing:+ (missing:$missing)}"
run tests-nope "$T" -s nope
[ $RC -eq 2 ] && [ ! -s "$TMP/tests-nope.out" ] &&
    [ "$(cat "$TMP/tests-nope.err")" = "sse_tests: no suite \"nope\" (suites: $SUITES)" ]
check $? "sse_tests -s nope: exit 2 ($RC): $(head -1 "$TMP/tests-nope.err")"
run tests-nope2 "$T" -s event -s nope
[ $RC -eq 2 ] && ! grep -q 'Run Summary' "$TMP/tests-nope2.out"
check $? "sse_tests -s event -s nope: exit 2 ($RC) before running anything"
for a in --bogus -x stray -s; do
    run tests-bad "$T" $a
    [ $RC -eq 2 ] && [ "$(lines "$TMP/tests-bad.err")" -eq 1 ] && grep -q -- "$a" "$TMP/tests-bad.err" &&
        ! grep -q 'Run Summary' "$TMP/tests-bad.out"
    check $? "sse_tests $a: exit 2 ($RC): $(head -1 "$TMP/tests-bad.err")"
done
# A known suite still runs (the checks above refuse only what is unknown).
timeout 60 "$T" -s event >"$TMP/tests-event.out" 2>&1
RC=$?
[ $RC -eq 0 ] && grep -q 'Run Summary' "$TMP/tests-event.out"
check $? "sse_tests -s event runs that suite: exit 0 ($RC)"

summary
[ "$failed" -eq 0 ]
