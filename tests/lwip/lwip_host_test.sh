#!/usr/bin/env bash
# ssedge over lwIP, for real: Debian's hosted lwIP serves ssedge on a tap
# link inside a network namespace this script makes, and Linux's curl (in
# the same namespace) talks to lwIP's own TCP over it.
#
#   sudo tests/lwip/lwip_host_test.sh        (builds build/lwip if needed)
#   SSE_LWIP_BUILD=build/lwip-asan sudo -E tests/lwip/lwip_host_test.sh
#                                            (a tree built beforehand)
#
# Checks: a stream (200, text/event-stream, event/id frames); Last-Event-ID
# resume yields exactly the missed global events; the overload answer when
# every slot is busy (--max-conn 2); $CYCLES connect/disconnect cycles, then the
# slots, threads and connection buffers are back and it still streams;
# stop/start of the server 5 times (SIGUSR2, lwIP stays up); SIGTERM ends it.
# The 192.168.77.0/24 addresses exist only inside the namespace made here.
# Bounded: the whole run is killed after 58 s; every blocking step has its
# own timeout. Last line: "lwip: N passed, M failed"; exit 1 on failure.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${SSE_LWIP_NS:-}" ]; then
    # Outer shell: run the test under a hard time limit and clean up after
    # it even if it had to be killed.
    SSE_LWIP_NS=sse-lwip-$$
    SSE_LWIP_STATE=$(mktemp -d /tmp/sse-lwip-state.XXXXXX)
    export SSE_LWIP_NS SSE_LWIP_STATE
    timeout -k 3 "${SSE_LWIP_LIMIT:-58}" bash "$0" "$@"
    rc=$?
    if [ ! -e "$SSE_LWIP_STATE/done" ]; then
        # Killed (time limit or signal) before its summary.
        p=$(cat "$SSE_LWIP_STATE/pid" 2>/dev/null)
        [ -n "$p" ] && kill -KILL "$p" 2>/dev/null
        timeout 5 ip netns del "$SSE_LWIP_NS" 2>/dev/null
        read -r np nf <"$SSE_LWIP_STATE/counts" 2>/dev/null || { np=0; nf=0; }
        echo "lwip: run did not finish (exit $rc; limit ${SSE_LWIP_LIMIT:-58} s)"
        echo "lwip: ${np:-0} passed, $((${nf:-0} + 1)) failed"
        rc=1
    fi
    rm -rf "$SSE_LWIP_STATE"
    exit $rc
fi

BUILD=${SSE_LWIP_BUILD:-build/lwip}
BIN=$ROOT/$BUILD/bin/sse_lwip_host
NS=$SSE_LWIP_NS
STATE=$SSE_LWIP_STATE
LWIP_IP=192.168.77.2
HOST_IP=192.168.77.1
PORT=8080
URL=http://$LWIP_IP:$PORT
INTERVAL=200
# Connect/disconnect cycles: each costs ~0.1-0.2 s through tap + lwIP, and
# the phase is bounded at 30 s (one slow run took 190 ms a cycle).
CYCLES=100
MAXCONN=2
IDLE_CHECK=50 # a stream notices its client left within this
OVERLOAD_RETRY=10000 # CONFIG_SSE_OVERLOAD_RETRY_MS default
T=$(mktemp -d /tmp/sse-lwip.XXXXXX)
OUT=$T/example.out
EX_PID=
BG_PIDS=()
PASS=0
FAIL=0
CLEANED=

summary() {
    echo "lwip: $PASS passed, $FAIL failed"
    touch "$STATE/done"
}

cleanup() {
    local p
    [ -n "$CLEANED" ] && return
    CLEANED=1
    for p in "${BG_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    if [ -n "$EX_PID" ] && kill -0 "$EX_PID" 2>/dev/null; then
        kill -TERM "$EX_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$EX_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$EX_PID" 2>/dev/null
    fi
    for p in "${BG_PIDS[@]}" $EX_PID; do
        wait "$p" 2>/dev/null
    done
    timeout 5 ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
}

on_signal() {
    echo "interrupted"
    cleanup
    exit 1 # the outer shell prints the summary
}
trap on_signal INT TERM
trap cleanup EXIT

ok()   { PASS=$((PASS + 1)); echo "$PASS $FAIL" >"$STATE/counts"; echo "ok - $1"; }
fail() { FAIL=$((FAIL + 1)); echo "$PASS $FAIL" >"$STATE/counts"; echo "FAIL - $1${2:+: $2}"; }
check() { # name, then a command that succeeds when the check passes
    local name=$1
    shift
    if "$@"; then ok "$name"; else fail "$name"; fi
}

nsx() { ip netns exec "$NS" "$@"; }

# curl a stream for at most $1 s into $2 (body) and $2.h (headers); extra
# args follow. A connect lwIP leaves unanswered for 1 s (its TIME_WAIT of an
# earlier connection from the same client port: see tests/lwip/cycles.py)
# is tried once more, and counted in STUCK. stream_bg: one try in the
# background, $! is its pid.
STUCK=0
stream() {
    local secs=$1 out=$2 tc rc try
    shift 2
    for try in 1 2; do
        tc=$(ip netns exec "$NS" timeout $((${secs%.*} + 5)) curl -sN --max-time "$secs" \
            --connect-timeout 1 -w '%{time_connect}' \
            -H 'Accept: text/event-stream' -D "$out.h" -o "$out" "$@" "$URL/events")
        rc=$?
        [ "$rc" = 28 ] && [ "$tc" = 0.000000 ] && [ "$try" = 1 ] || break
        STUCK=$((STUCK + 1))
        echo "  (a connect lwIP left unanswered for 1 s: once more)"
    done
    return $rc
}
stream_bg() {
    local secs=$1 out=$2
    shift 2
    ip netns exec "$NS" timeout $((${secs%.*} + 5)) curl -sN --max-time "$secs" \
        -H 'Accept: text/event-stream' -D "$out.h" -o "$out" "$@" "$URL/events" &
}

# Complete frames of an SSE body as "event id data" lines.
frames() {
    awk '{ sub(/\r$/, "") }
         /^$/ { if (id != "") print (ev == "" ? "message" : ev), id, data; ev = ""; id = ""; data = ""; next }
         /^event: / { ev = substr($0, 8) }
         /^id: / { id = substr($0, 5) }
         /^data: / { data = substr($0, 7) }' "$1"
}
ids_of()   { frames "$1" | awk -v e="$2" '$1 == e { print $2 }'; }
count_of() { ids_of "$1" "$2" | wc -l; }
increasing() { awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $1 } END { exit bad }'; }

# Ask the example for its counters (SIGUSR1) and print the new stats line.
stats() {
    local before after
    before=$(grep -c '^stats ' "$OUT")
    kill -USR1 "$EX_PID" 2>/dev/null || return 1
    for _ in $(seq 1 40); do
        after=$(grep -c '^stats ' "$OUT")
        if [ "$after" -gt "$before" ]; then
            grep '^stats ' "$OUT" | tail -n 1
            return 0
        fi
        sleep 0.05
    done
    return 1
}
stat_val() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"; }

# Wait until the counter $1 equals $2, at most $3 seconds.
wait_stat() {
    local key=$1 want=$2 secs=$3 s i
    for ((i = 0; i < secs * 10; i++)); do
        s=$(stats) && [ "$(stat_val "$s" "$key")" = "$want" ] && return 0
        sleep 0.1
    done
    echo "  (waited ${secs}s for $key=$want; last: ${s:-none})"
    return 1
}

# start_example OUT ARGS...: the example on tap0 in the namespace, its output
# in OUT, its pid in EX_PID (and STATE/pid); 0 once it is ready (5 s at most)
start_example() {
    local out=$1
    shift
    # ip netns exec and env exec the example: $! is its pid.
    ip netns exec "$NS" env PRECONFIGURED_TAPIF=tap0 "$BIN" --ip "$LWIP_IP" \
        --netmask 255.255.255.0 --gw "$HOST_IP" --port "$PORT" --interval-ms "$INTERVAL" \
        "$@" >"$out" 2>&1 &
    EX_PID=$!
    echo "$EX_PID" >"$STATE/pid"
    for _ in $(seq 1 50); do
        grep -q '^ready' "$out" && return 0
        kill -0 "$EX_PID" 2>/dev/null || break
        sleep 0.1
    done
    grep -q '^ready' "$out"
}

threads() { awk '/^Threads:/ { print $2 }' "/proc/$EX_PID/status" 2>/dev/null; }
# A slot is free before its thread has quite returned: give the count a
# bounded moment to settle before comparing.
wait_threads() { # want seconds
    local i
    for i in $(seq 1 $(($2 * 10))); do
        [ "$(threads)" = "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# ---- set-up ---------------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
    echo "lwip: needs root (network namespace and tap device)"
    fail "running as root"
    summary
    exit 1
fi
if [ -z "${SSE_LWIP_BUILD:-}" ]; then
    # The default tree is (re)built here: make is incremental.
    (cd "$ROOT" && timeout 40 make -s BUILD="$BUILD" KCONFIG_CONFIG="$BUILD/.config" \
        DEFCONFIG=configs/lwip_host_defconfig all) >"$T/build.log" 2>&1 ||
        { cat "$T/build.log"; fail "build $BUILD"; summary; exit 1; }
elif [ ! -x "$BIN" ]; then
    fail "no $BIN (SSE_LWIP_BUILD names a tree built beforehand)"
    summary
    exit 1
fi

timeout 5 ip netns add "$NS" &&
    nsx timeout 5 ip link set lo up &&
    nsx timeout 5 ip tuntap add dev tap0 mode tap &&
    nsx timeout 5 ip link set tap0 mtu 576 &&
    nsx timeout 5 ip addr add "$HOST_IP/24" dev tap0 &&
    nsx timeout 5 ip link set tap0 up ||
    { fail "namespace $NS with tap0"; summary; exit 1; }

if ! start_example "$OUT" --max-conn "$MAXCONN" --idle-check-ms "$IDLE_CHECK"; then
    cat "$OUT"
    fail "example ready"
    summary
    exit 1
fi
ok "lwIP up on tap0 in $NS, ssedge ready (--max-conn $MAXCONN)"
sleep 0.3
BASE_THREADS=$(threads)

# ---- 1. a stream ----------------------------------------------------------------

stream 3 "$T/s1"
check "stream answers 200" grep -q '^HTTP/1.1 200' "$T/s1.h"
check "stream is text/event-stream" grep -qi '^Content-Type: text/event-stream' "$T/s1.h"
check "stream starts with retry:" grep -q '^retry: 3000' "$T/s1"
n=$(count_of "$T/s1" message)
check "several event: message frames with id: ($n in 3 s)" test "$n" -ge 8
check "ids increase" increasing < <(frames "$T/s1" | awk '{ print $2 }')
check "the connection's own timer events arrive" test "$(count_of "$T/s1" ping)" -ge 5
check "data: hello in message frames" \
    test "$(frames "$T/s1" | awk '$1 == "message" && $3 != "hello"' | wc -l)" -eq 0

# ---- 2. Last-Event-ID resume --------------------------------------------------------

wait_stat connections_active 0 4 >/dev/null
stream_bg 6 "$T/obs"                 # an observer sees every global event
OBS=$!
BG_PIDS+=("$OBS")
sleep 0.3
stream 1.5 "$T/r1"
L=$(frames "$T/r1" | awk 'END { print $2 }')
wait_stat connections_active 1 3 >/dev/null      # the server noticed the first client left
sleep 1                              # events published meanwhile are missed
stream 1.5 "$T/r2" -H "Last-Event-ID: $L"
wait "$OBS"
ids_of "$T/obs" message >"$T/obs.ids"
ids_of "$T/r2" message >"$T/r2.ids"
want=$(awk -v l="$L" -v hi="$(tail -n 1 "$T/r2.ids")" '$1 > l && $1 <= hi' "$T/obs.ids" | tr '\n' ' ')
got=$(tr '\n' ' ' <"$T/r2.ids")
first_missed=$(awk -v l="$L" '$1 > l { print; exit }' "$T/obs.ids")
first_ping=$(ids_of "$T/r2" ping | head -n 1)
replayed=$(awk -v p="${first_ping:-999999999}" '$1 < p' "$T/r2.ids" | wc -l)
check "resume: first event after Last-Event-ID $L is the next global one ($first_missed)" \
    test -n "$L" -a "$(head -n 1 "$T/r2.ids")" = "$first_missed"
check "resume: exactly the missed global ids, then live ones" test -n "$got" -a "$got" = "$want"
[ "$got" = "$want" ] || echo "  got:  $got"$'\n'"  want: $want"
check "resume: $replayed events replayed from the ring" test "$replayed" -ge 3
check "resume: no other connection's events" \
    test "$(frames "$T/r2" | awk '$1 == "ping" { print $3 }' | sort -u | wc -l)" -le 1

# ---- 3. overload ------------------------------------------------------------------------

wait_stat connections_active 0 4 >/dev/null
stream_bg 5 "$T/h1"
H1=$!
stream_bg 5 "$T/h2"
H2=$!
BG_PIDS+=("$H1" "$H2")
if wait_stat streams_active 2 3 >/dev/null; then ok "two streams hold both slots"; else fail "two streams hold both slots"; fi
start=$(date +%s%N)
stream 4 "$T/o3"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "3rd stream: closed by the server (curl rc $rc, ${ms} ms)" test "$rc" -eq 0 -a "$ms" -lt 3000
check "3rd stream: 200 text/event-stream" \
    grep -q '^HTTP/1.1 200' "$T/o3.h"
check "3rd stream: only retry: $OVERLOAD_RETRY" \
    test "$(tr -d '\r' <"$T/o3")" = "retry: $OVERLOAD_RETRY"
code=$(nsx timeout 5 curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$URL/")
check "other request when full: 503 ($code)" test "$code" = 503
wait "$H1" "$H2"
check "held streams kept streaming" test "$(count_of "$T/h1" message)" -ge 15 -a "$(count_of "$T/h2" message)" -ge 15
BG_PIDS=()

# ---- 4. connect/disconnect cycles --------------------------------------------------

wait_stat connections_active 0 4 >/dev/null
s=$(stats)
acc0=$(stat_val "$s" connections_accepted)
ovl0=$(stat_val "$s" connections_overloaded)
# tests/lwip/cycles.py: $CYCLES cycles, streams and plain requests in turn,
# each holding a slot of its own (an overload answer is tried again): slots,
# threads and sockets taken and given back. A connect lwIP leaves unanswered
# (its TIME_WAIT of an earlier connection on the same client port, see
# there) is tried again and counted apart, as "stuck".
cyc_t0=$EPOCHREALTIME
nsx timeout 30 python3 "$ROOT/tests/lwip/cycles.py" "$LWIP_IP" "$PORT" "$CYCLES" \
    "$OVERLOAD_RETRY" "$T/cycles"
cyc_s=$(awk -v a="$cyc_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
read -r cyc_ok cyc_bad cyc_busy cyc_stuck cyc_slow cyc_slow_ms <"$T/cycles"
check "$CYCLES cycles: each held a slot (${cyc_ok:-?} did, ${cyc_bad:-?} failed; ${cyc_busy:-?} overload answers and ${cyc_stuck:-?} stuck connects on the way; ${cyc_s} s, slowest try ${cyc_slow_ms:-?} ms: ${cyc_slow:-?})" \
    test "${cyc_ok:-0}" -eq "$CYCLES" -a "${cyc_bad:-1}" -eq 0
if wait_stat connections_active 0 5; then ok "slots all free again after the cycles"; else fail "slots all free again after the cycles"; fi
s=$(stats)
check "every connection buffer back in the pool ($(stat_val "$s" bufs_lent) lent)" \
    test "$(stat_val "$s" bufs_lent)" = 0
acc=$(($(stat_val "$s" connections_accepted) - acc0))
ovl=$(($(stat_val "$s" connections_overloaded) - ovl0))
check "cycles accounted by the server: $acc slots, $ovl overload answers" \
    test "$acc" -eq "$CYCLES" -a "$ovl" -eq "${cyc_busy:--1}"
wait_threads "$BASE_THREADS" 3
check "threads back to $BASE_THREADS (now $(threads))" test "$(threads)" = "$BASE_THREADS"
stream 1.5 "$T/s4"
check "still streams after the cycles" test "$(count_of "$T/s4" message)" -ge 4

# ---- 5. stop/start ------------------------------------------------------------------------

for k in 1 2 3 4 5; do
    kill -USR2 "$EX_PID"
    for _ in $(seq 1 50); do
        grep -q "^restart $k " "$OUT" && break
        sleep 0.1
    done
    if ! grep -q "^restart $k ok" "$OUT"; then
        fail "restart $k" "$(grep "^restart $k " "$OUT")"
        continue
    fi
    s0=$(stats)
    stream 1.2 "$T/rs$k"
    rc=$?
    n=$(count_of "$T/rs$k" message)
    check "restart $k: streams again ($n events)" test "$n" -ge 3
    if [ "$n" -lt 3 ]; then
        # What the client saw (curl's exit code, the head, the body's
        # start) and the server's counters before and after.
        echo "  curl rc $rc; head: $(tr -d '\r' <"$T/rs$k.h" 2>/dev/null | head -n 3 | tr '\n' '|')"
        echo "  body: $(tr -d '\r' <"$T/rs$k" 2>/dev/null | head -c 300 | tr '\n' '|')"
        echo "  before: $s0"
        echo "  after:  $(stats)"
    fi
done
wait_stat connections_active 0 4 >/dev/null
wait_threads "$BASE_THREADS" 3
check "threads back to $BASE_THREADS after the restarts (now $(threads))" test "$(threads)" = "$BASE_THREADS"

# ---- 6. SIGTERM -----------------------------------------------------------------------------

kill -TERM "$EX_PID"
for _ in $(seq 1 30); do
    kill -0 "$EX_PID" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$EX_PID" 2>/dev/null; then
    fail "SIGTERM ends the example within 3 s"
else
    wait "$EX_PID"
    rc=$?
    check "SIGTERM: server stopped, exit 0 (rc $rc)" test "$rc" -eq 0 -a -n "$(grep '^stopped' "$OUT")"
    EX_PID=
fi

# ---- 7. "::" serves IPv4 too (lwIP binds it to IP_ANY_TYPE) --------------------------------

# A second lwIP process on the same tap (the first has exited).
OUT6=$T/example6.out
start_example "$OUT6" --bind ::
stream 1.2 "$T/s6"
n=$(count_of "$T/s6" message)
check "bound to \"::\": an IPv4 client streams ($n events)" test "$n" -ge 3
kill -TERM "$EX_PID"
wait "$EX_PID"
EX_PID=

if [ "$FAIL" -ne 0 ]; then
    for f in "$OUT" "$OUT6"; do
        [ -e "$f" ] || continue
        echo "--- $(basename "$f") ---"
        grep -v '^stats ' "$f" | tail -n 30
    done
fi
echo "note: connects lwIP left unanswered and tried again: $STUCK of streams, ${cyc_stuck:-?} in the cycles"
summary
[ "$FAIL" -eq 0 ]
