#!/bin/bash
# SPDX-License-Identifier: MIT
# What the ssedge command costs: lines per second it forwards from its
# program to a stream, and POST /publish requests per second the server
# takes, each with ssedge's CPU time per event (utime + stime from /proc).
#
#   bench/cmd_bench.sh [BIN_DIR]        (default build/bin; uses BIN_DIR/ssedge)
#
# Lines: CMD is `seq 1 LINES`, released once one curl client streams; the
# time runs from the release to the last line's arrival at the client.
# POSTs: curl --parallel (PARALLEL transfers at once; curl keeps each
# connection for its next POST, as ssedge does on HTTP/1.1) sends POSTS
# small bodies; the time runs from the first request to the last answer. Client and server
# share the machine's cores, as in make bench.
# Env:   LINES (200000), POSTS (20000), PARALLEL (8)
# Prints two lines, "cmd-lines: ..." and "cmd-posts: ...", then exits 0, or
# 1 with a line saying what went wrong. Loopback only; every wait bounded.
# seq floods the command: if the stream's reader lags by more than the ring
# holds, the stream is closed as fallen behind (ssedge's rule for slow
# readers) and cmd-lines says so instead of giving a rate.
set -u
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
BIN=${1:-build/bin}
LINES=${LINES:-200000}
POSTS=${POSTS:-20000}
PARALLEL=${PARALLEL:-8}
TOKEN=bench-0123456789abcdef
HZ=$(getconf CLK_TCK)

die() { echo "cmd-bench: $*" >&2; exit 1; }
[ -x "$BIN/ssedge" ] || die "$BIN/ssedge is not built (make $BIN/ssedge)"
command -v curl >/dev/null || die "curl is not installed"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-bench.XXXXXX") || die "mktemp -d"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# cpu_ticks PID: utime + stime of a process, in clock ticks (fields 14, 15
# of /proc/PID/stat, counted after the command name in parentheses).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# start NAME ARGS...: ssedge on a port the OS picks; sets PID and PORT
start() {
    local name=$1
    shift
    "$BIN/ssedge" --port 0 --bind 127.0.0.1 --stats /stats "$@" </dev/null \
        >/dev/null 2>"$TMP/$name.log" &
    PID=$!
    PIDS+=("$PID")
    PORT=""
    for _ in $(seq 1 100); do
        PORT=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' "$TMP/$name.log")
        [ -n "$PORT" ] && return 0
        sleep 0.05
    done
    cat "$TMP/$name.log" >&2
    die "ssedge did not start"
}
stat_of() {
    curl -s --max-time 5 "http://127.0.0.1:$PORT/stats" |
        sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# ---- lines per second --------------------------------------------------------
start lines --linger -- sh -c 'while [ ! -e "$0" ]; do sleep 0.01; done; exec seq 1 "$1"; ' \
    "$TMP/go" "$LINES"
curl -sN --max-time 300 -H 'Accept: text/event-stream' "http://127.0.0.1:$PORT/events" \
    >"$TMP/stream" 2>/dev/null &
CURL=$!
PIDS+=("$CURL")
for _ in $(seq 1 100); do
    [ "$(stat_of streams_active)" = 1 ] && break
    sleep 0.05
done
c0=$(cpu_ticks "$PID")
t0=$EPOCHREALTIME
touch "$TMP/go"
end=$((SECONDS + 120))
while ! tail -c 64 "$TMP/stream" | grep -q "^data: $LINES\$"; do
    [ $SECONDS -lt $end ] || break
    kill -0 "$CURL" 2>/dev/null || break
    sleep 0.01
done
t1=$EPOCHREALTIME
c1=$(cpu_ticks "$PID")
got=$(grep -c '^data: ' "$TMP/stream")
behind=$(stat_of streams_fell_behind)
kill "$PID" "$CURL" 2>/dev/null
awk -v n="$LINES" -v got="$got" -v a="$t0" -v b="$t1" -v c="$((c1 - c0))" -v hz="$HZ" \
    -v behind="${behind:-?}" 'BEGIN {
    s = b - a
    if (got == n)
        printf "cmd-lines: %d lines in %.2f s: %.0f lines/s forwarded to 1 stream, %.2f us server CPU per line (all delivered)\n",
            n, s, n / s, c * 1e6 / hz / n
    else
        printf "cmd-lines: %d lines: the stream fell behind the ring after %d lines and was closed (streams_fell_behind %s, %.2f s in): its reader lagged the program by more than the ring holds; no rate for this run\n",
            n, got, behind, s
}'
# A reader that falls behind the ring is closed: that is ssedge's rule for
# slow readers, measured, not a failure of the bench. Lines lost otherwise are.
[ "$got" -eq "$LINES" ] || [ "${behind:-0}" -ge 1 ] ||
    die "the stream got $got of $LINES lines and did not fall behind the ring"

# ---- POSTs per second --------------------------------------------------------
start posts --linger --publish-token "$TOKEN"
{
    for i in $(seq 1 "$POSTS"); do
        echo "url = \"http://127.0.0.1:$PORT/publish?event=b\""
        echo "header = \"Authorization: Bearer $TOKEN\""
        echo "header = \"Content-Type: text/plain\""
        echo "data-binary = \"$i\""
        echo "output = \"/dev/null\""
        echo "write-out = \"%{http_code}\\n\""
        [ "$i" -lt "$POSTS" ] && echo "next"
    done
} >"$TMP/curl.cfg"
c0=$(cpu_ticks "$PID")
a0=$(stat_of connections_accepted)
t0=$EPOCHREALTIME
curl -s --no-progress-meter -Z --parallel-max "$PARALLEL" --max-time 300 -K "$TMP/curl.cfg" \
    >"$TMP/codes" 2>"$TMP/curl.err"
t1=$EPOCHREALTIME
c1=$(cpu_ticks "$PID")
conns=$(( $(stat_of connections_accepted) - a0 - 1 )) # less stat_of's own
created=$(grep -c '^201$' "$TMP/codes")
last=$(stat_of event_last_id)
awk -v n="$POSTS" -v ok="$created" -v a="$t0" -v b="$t1" -v c="$((c1 - c0))" -v hz="$HZ" \
    -v p="$PARALLEL" -v k="$conns" 'BEGIN {
    s = b - a
    printf "cmd-posts: %d POSTs in %.2f s: %.0f POSTs/s taken (curl --parallel-max %d, %d connections), %.2f us server CPU per event (%d answered 201)\n",
        n, s, ok / s, p, k, c * 1e6 / hz / (ok ? ok : 1), ok
}'
[ "$created" -eq "$POSTS" ] && [ "${last:-0}" -eq "$POSTS" ] ||
    die "$created of $POSTS POSTs answered 201 (last id ${last:-?}); codes: $(sort "$TMP/codes" | uniq -c | tr '\n' ' ')"
