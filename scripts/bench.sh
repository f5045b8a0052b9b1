#!/bin/bash
# Fan-out benchmark driver: runs sse_bench_server + sse_bench_client per load point, prints the table.
#
# Usage: scripts/bench.sh BIN_DIR        (make bench: scripts/bench.sh build/bin)
# Env:   BENCH_SECONDS (5)  measuring window per point
#        BENCH_WARMUP (2)   warm-up before the window
#        BENCH_STALL_SECONDS (60)  how long the stalled reader stops reading
#        BENCH_STALL_RATE (1000)   event rate of the stall run (100 clients)
#        BENCH_STALL_RCVBUF (0)    SO_RCVBUF of the stalled reader, 0 = kernel
#                                  default (the kernel then buffers minutes of
#                                  events before the server's send blocks)
#        BENCH_PORT_BASE (18080)   first port tried
#        BENCH_LOG_DIR (dirname BIN_DIR/bench-logs)  server and client output
#        BENCH_TLS_BIN (build/tls/bin)  the CONFIG_SSE_TLS build of both
#                                  programs; the TLS rows run when it has
#                                  them, with a development certificate
#                                  made by scripts/devcert.sh in a temp dir
#        BENCH_TLS (1)             0 skips the TLS rows
#        BENCH_HOST (127.0.0.1)    where the client connects
#        BENCH_CLIENT_BIN (BIN_DIR/sse_bench_client)  the client program
#        BENCH_POINTS              "clients:rate:coalesce_ms ..." to run
#                                  instead of the default load points
#        BENCH_MODE (plain)        label of the rows ("lwip": make bench-lwip
#                                  runs an lwIP-port server over a tap link)
set -u

BIN=${1:?usage: scripts/bench.sh BIN_DIR}
SECONDS_W=${BENCH_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-2}
STALL=${BENCH_STALL_SECONDS:-60}
STALL_RATE=${BENCH_STALL_RATE:-1000}
STALL_RCVBUF=${BENCH_STALL_RCVBUF:-0}
PORT_BASE=${BENCH_PORT_BASE:-18080}
LOG_DIR=${BENCH_LOG_DIR:-$(dirname "$BIN")/bench-logs}
TLS_BIN=${BENCH_TLS_BIN:-build/tls/bin}
TLS_ON=${BENCH_TLS:-1}
DEVCERT=$(dirname "$0")/devcert.sh

SERVER=$BIN/sse_bench_server
CLIENT=${BENCH_CLIENT_BIN:-$BIN/sse_bench_client}
HOST=${BENCH_HOST:-127.0.0.1}
for b in "$SERVER" "$CLIENT"; do
    [ -x "$b" ] || { echo "bench: $b missing (make all first)" >&2; exit 2; }
done
mkdir -p "$LOG_DIR" || exit 2

server_pid=""
server_status=0
client_pid=""
cert_dir=""
# What run_point runs: the plain build first, then the TLS one.
mode=${BENCH_MODE:-plain}
srv_bin=$SERVER
cli_bin=$CLIENT
srv_extra=()
cli_extra=()

# Stop the server we started, by its PID only: SIGTERM, wait, then SIGKILL.
stop_server() {
    [ -n "$server_pid" ] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        # sse_server_stop() waits for every connection thread; a thread
        # blocked in send can take the send timeout (5 s by default).
        for _ in $(seq 1 150); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            echo "bench: server $server_pid did not stop in 15 s, SIGKILL" >&2
            kill -KILL "$server_pid" 2>/dev/null
        fi
    fi
    wait "$server_pid" 2>/dev/null
    server_status=$?
    server_pid=""
}
# The client runs in the background and we `wait` for it: a trapped signal
# interrupts `wait` at once, whereas bash would run the trap only after a
# foreground client finished (and, for SIGINT, maybe not at all).
# shellcheck disable=SC2317  # only reached from the traps
stop_client() {
    [ -n "$client_pid" ] || return 0
    kill -TERM "$client_pid" 2>/dev/null # it prints what it measured, exits
    for _ in $(seq 1 50); do
        kill -0 "$client_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$client_pid" 2>/dev/null
    wait "$client_pid" 2>/dev/null
    client_pid=""
}
# The development certificate lives in a temp dir of ours: removed at exit.
rm_cert_dir() {
    [ -n "$cert_dir" ] && rm -rf -- "$cert_dir"
    cert_dir=""
}
trap 'stop_client; stop_server; rm_cert_dir' EXIT
trap 'stop_client; stop_server; rm_cert_dir; exit 130' INT TERM

port_free() {
    # Nothing listening on it, and nothing (TIME_WAIT...) bound to it.
    if command -v ss >/dev/null 2>&1; then
        [ -z "$(ss -Htan "sport = :$1" 2>/dev/null)" ]
    else
        ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

next_port=$PORT_BASE
pick_port() {
    for _ in $(seq 1 200); do
        next_port=$((next_port + 1))
        if port_free "$next_port"; then
            port=$next_port
            return 0
        fi
    done
    echo "bench: no free port from $PORT_BASE on" >&2
    return 1
}

# Start the server; wait for its "listening" line (at most 10 s).
start_server() { # rate coalesce_ms log
    local rate=$1 co=$2 log=$3
    pick_port || return 1
    "$srv_bin" --port "$port" --rate "$rate" --coalesce-ms "$co" \
        ${srv_extra[@]+"${srv_extra[@]}"} >"$log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        grep -q '^listening ' "$log" 2>/dev/null && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: server did not come up on port $port:" >&2
    sed 's/^/  | /' "$log" >&2
    stop_server
    return 1
}

kv() { # key line -> value ("-" if absent)
    local v
    v=$(printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1)
    printf '%s' "${v:--}"
}

rows=()
failed=0
# KiB/conn and CPU us/event per "mode clients rate co", for the TLS summary
declare -A rss_of cpu_of

run_point() { # clients rate coalesce_ms [extra client args...]
    local clients=$1 rate=$2 co=$3 name line status limit
    shift 3
    name="$([ "$mode" = tls ] && echo tls_)c${clients}_r${rate}_co${co}$([ $# -gt 0 ] && echo _stall)"
    echo "== $([ "$mode" = tls ] && echo "TLS: ")$clients clients x $rate ev/s, coalesce $co ms $*" >&2
    if ! start_server "$rate" "$co" "$LOG_DIR/$name.server.log"; then
        failed=1
        rows+=("$mode $clients $rate $co - - - - - - - - server_failed")
        return
    fi
    # The client bounds itself; timeout is only a backstop for a hang.
    limit=$(awk -v w="$WARMUP" -v s="$SECONDS_W" -v c="$clients" \
        -v x="$([ $# -gt 0 ] && echo "$STALL" || echo 0)" \
        'BEGIN { printf "%d", 10 + c / 50 + w + s + x + 30 }')
    timeout -k 5 "$limit" "$cli_bin" --host "$HOST" --port "$port" --clients "$clients" \
        --rate "$rate" --seconds "$SECONDS_W" --warmup "$WARMUP" \
        --server-pid "$server_pid" ${cli_extra[@]+"${cli_extra[@]}"} "$@" \
        >"$LOG_DIR/$name.client.log" 2>&1 &
    client_pid=$!
    wait "$client_pid"
    status=$?
    client_pid=""
    stop_server
    grep -v '^clients=' "$LOG_DIR/$name.client.log" | sed 's/^/  /' >&2
    line=$(grep '^clients=' "$LOG_DIR/$name.client.log" | tail -n 1)
    [ -n "$line" ] && echo "  $line" >&2
    echo "  server: $(grep '^stopped' "$LOG_DIR/$name.server.log" | tail -n 1)" >&2
    if [ "$status" -ne 0 ] || [ "$server_status" -ne 0 ]; then
        failed=1
        echo "  bench: client exit $status, server exit $server_status" >&2
    fi
    rss_of["$mode $clients $rate $co"]=$(kv rss_kib_per_conn "$line")
    cpu_of["$mode $clients $rate $co"]=$(kv cpu_us_per_event "$line")
    [ "$mode" = tls ] && echo "  TLS: $(kv tls_version "$line") $(kv tls_suite "$line"), handshake avg $(kv tls_hs_avg_ms "$line") ms (client side, $(kv tls_handshakes "$line") done), server CPU while connecting $(kv connect_server_cpu_us_per_conn "$line") us/conn" >&2
    rows+=("$mode $clients $rate $co $(kv published_per_s "$line") \
$(kv delivered_per_s "$line") $(kv p50_ms "$line") \
$(kv p99_ms "$line") $(kv cpu_us_per_event "$line") $(kv rss_kib_per_conn "$line") \
$(kv lost "$line") $(kv dup "$line") $(kv status "$line")$([ $# -gt 0 ] && echo +stall)")
}

# Default build (CONFIG_SSE_COALESCE_MS=0: every event is sent at once) ...
# ... and with a 5 ms coalescing delay, where one wake-up per event per
# client saturates the machine (1000 x 1000). BENCH_POINTS replaces the list
# ("clients:rate:coalesce_ms ...").
for pt in ${BENCH_POINTS:-10:1000:0 100:1000:0 1000:100:0 1000:1000:0 100:1000:5 1000:1000:5}; do
    IFS=: read -r pc pr pco <<<"$pt"
    run_point "$pc" "$pr" "$pco"
done
[ "$STALL" != 0 ] &&
    run_point 100 "$STALL_RATE" 0 --stall-one "$STALL" --stall-rcvbuf "$STALL_RCVBUF"

# The same over TLS (mbedTLS), from the CONFIG_SSE_TLS build, with a
# development certificate (ECDSA P-256, the chain verified by the client).
tls_build="make BUILD=build/tls KCONFIG_CONFIG=build/tls/.config DEFCONFIG=configs/posix_tls_defconfig \\
       build/tls/bin/sse_bench_server build/tls/bin/sse_bench_client"
tls_note=""
tls_stale=""
tls_missing=""
for b in sse_bench_server sse_bench_client; do
    [ -x "$TLS_BIN/$b" ] || tls_missing="$tls_missing $TLS_BIN/$b"
done
if [ "$TLS_ON" = 0 ]; then
    tls_note="TLS rows skipped (BENCH_TLS=0)"
elif [ -n "$tls_missing" ]; then
    tls_note="TLS rows skipped: missing$tls_missing; build them with
  $tls_build
  (or set BENCH_TLS_BIN to where they are)"
elif ! cert_dir=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-bench-cert.XXXXXX"); then
    cert_dir=""
    tls_note="TLS rows skipped: no temp dir for the certificate"
    failed=1
elif ! "$DEVCERT" "$cert_dir" >"$LOG_DIR/tls_devcert.log" 2>&1; then
    tls_note="TLS rows skipped: scripts/devcert.sh failed (see $LOG_DIR/tls_devcert.log)"
    failed=1
else
    # make bench does not rebuild build/tls: say so when it is older than
    # the sources it is built from.
    stale=$(find include core port/posix bench -name '*.[ch]' \
                -newer "$TLS_BIN/sse_bench_server" \
                2>/dev/null | head -n 3 | tr '\n' ' ' | sed 's/ $//')
    if [ -n "$stale" ]; then
        tls_stale="warning: $TLS_BIN is older than $stale; rebuild it:
    $tls_build"
        echo "bench: $tls_stale" >&2
    fi
    mode=tls
    srv_bin=$TLS_BIN/sse_bench_server
    cli_bin=$TLS_BIN/sse_bench_client
    srv_extra=(--cert "$cert_dir/server.crt" --key "$cert_dir/server.key")
    cli_extra=(--tls --cafile "$cert_dir/ca.crt")
    run_point 100 1000 0
    run_point 1000 100 0
    rm_cert_dir
fi

echo
echo "ssedge fan-out, $([ "$mode" = lwip ] && echo "lwIP port over a tap link" || echo loopback), window ${SECONDS_W} s after ${WARMUP} s warm-up" \
     "(logs: $LOG_DIR)"
# "pub ev/s": the rate the publisher really reached (it drops due events
# rather than burst when it gets the CPU too late); "deliv ev/s": events
# received per second by all clients together (ideally clients x pub ev/s).
fmt='%-5s %7s %6s %5s %8s %10s %8s %8s %10s %9s %6s %5s  %s\n'
# shellcheck disable=SC2059
printf "$fmt" mode clients ev/s "co ms" "pub ev/s" "deliv ev/s" "p50 ms" "p99 ms" \
       "CPU us/ev" "KiB/conn" lost dup status
for r in "${rows[@]}"; do
    # shellcheck disable=SC2059,SC2086
    printf "$fmt" $r
done
stall_line=$(grep '^stall_summary' "$LOG_DIR/c100_r${STALL_RATE}_co0_stall.client.log" 2>/dev/null)
[ "$STALL" != 0 ] && [ -n "$stall_line" ] && echo "stalled reader (${STALL} s): ${stall_line#stall_summary }"
# TLS against plain at the same point: what a TLS connection costs.
if [ -n "$tls_note" ]; then
    echo "$tls_note"
else
    echo "TLS (mbedTLS, Debian's prebuilt library: two ~16.7 KB record buffers per connection):"
    [ -n "$tls_stale" ] && echo "  $tls_stale"
    for key in "${!rss_of[@]}"; do
        case $key in tls\ *) ;; *) continue ;; esac
        read -r _ c r co <<<"$key"
        p="plain $c $r $co"
        awk -v c="$c" -v r="$r" -v pr="${rss_of[$p]:--}" -v tr="${rss_of[$key]}" \
            -v pc="${cpu_of[$p]:--}" -v tc="${cpu_of[$key]}" 'BEGIN {
            d = (pr ~ /^[0-9.]+$/ && tr ~ /^[0-9.]+$/) ? sprintf("%+.1f", tr - pr) : "-"
            printf "  %4d x %-4d  server RSS per connection: TLS %s KiB, plain %s KiB (%s KiB for TLS);" \
                   " CPU per event: TLS %s us, plain %s us\n", c, r, tr, pr, d, tc, pc }'
    done | sort -n
fi
cat <<'EOF'

Peers on this kind of machine (shared/notes/fanout-costs.md), server CPU per event, p99:
  clients x ev/s  epoll loop        Mongoose          CivetWeb              libmicrohttpd
  100 x 1000      4.7 us, 1.0-1.4   4.5 us, 1.2-1.7   12.2-13.2 us, 3.7-5.8 13.7-13.9 us, 5.3-6.7
  1000 x 100      6.5-7.1 us, 9-18  9.2 us, 11-12     13.7-14.3 us, 54-56   14.4-14.5 us, 56-70
  1000 x 1000     1.0 us, 14-16     1.0 us, 13-17     1.3 us, 67-96         1.3 us, 70-80
  RSS KiB/conn    -                 31                36-41                 45-49
EOF
exit "$failed"
