#!/bin/bash
# Fan-out benchmark driver: at each load point runs every available server (the epoll floor,
# ssedge, libmicrohttpd, CivetWeb, nginx + nchan) under the same client, prints one Markdown table.
#
# Usage: scripts/bench.sh BIN_DIR        (make bench: scripts/bench.sh build/bin)
# Env:   BENCH_RUNS (5; 1 with BENCH_MODE=lwip)  runs of every server at each
#                           point, interleaved (floor, ssedge, ..., then
#                           again floor, ssedge, ...): the table shows the
#                           medians of the runs that went through, CPU with
#                           its min-max, and a line under it ssedge against
#                           the floor round by round; the stall and TLS rows
#                           run once
#        BENCH_SECONDS (5)  measuring window per run
#        BENCH_WARMUP (2)   warm-up before the window
#        BENCH_SERVERS ("floor ssedge mhd civetweb nchan")  which servers, in
#                           this order at every point; a missing one is n/a
#        BENCH_POINTS       "clients:rate[:coalesce_ms] ..." instead of the
#                           default points; coalesce_ms (0) applies to ssedge
#        BENCH_COALESCE (0) N > 0 adds ssedge rows with --coalesce-ms N
#        BENCH_STALL_SECONDS (60)  how long the stalled reader stops reading
#                                  (ssedge only; 0 skips the stall run)
#        BENCH_STALL_RATE (1000)   event rate of the stall run (100 clients)
#        BENCH_STALL_RCVBUF (0)    SO_RCVBUF of the stalled reader, 0 = kernel
#                                  default (the kernel then buffers minutes of
#                                  events before the server's send blocks)
#        BENCH_PORT_BASE (18080)   first port tried
#        BENCH_LOG_DIR (dirname BIN_DIR/bench-logs)  server and client output
#        BENCH_TLS_BIN (build/tls/bin)  the CONFIG_SSE_TLS build of ssedge's
#                                  two programs; the TLS rows run when it has
#                                  them, with a development certificate
#                                  made by scripts/devcert.sh in a temp dir
#        BENCH_TLS (1)             0 skips the TLS rows
#        BENCH_HOST (127.0.0.1)    where the client connects
#        BENCH_CLIENT_BIN (BIN_DIR/sse_bench_client)  the client program
#        BENCH_MODE (plain)        "lwip": make bench-lwip runs an lwIP-port
#                                  ssedge over a tap link; only ssedge runs
#        BENCH_PIN (0)             "auto": with 2 or more CPUs the client
#                                  runs on the last one this script may use
#                                  and the server (all its processes and
#                                  threads) on the others (taskset), every
#                                  server alike; "0": both left to the
#                                  scheduler (see bench/README.md)
#
# Every server program takes --port P --rate R, prints "listening port=P
# pid=PID[,PID...]" when ready (CPU and RSS are summed over those
# processes), and on SIGTERM a "stopped published=N ..." line, exit 0.
# Exit status: non-zero only when one of ssedge's own runs failed; a peer
# that fails shows "failed" in its row with its log.
set -u

# Character counts for the table's padding (×, µ are one column each).
if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
    export LC_ALL=C.UTF-8
fi

BIN=${1:?usage: scripts/bench.sh BIN_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_W=${BENCH_SECONDS:-5}
WARMUP=${BENCH_WARMUP:-2}
STALL=${BENCH_STALL_SECONDS:-60}
STALL_RATE=${BENCH_STALL_RATE:-1000}
STALL_RCVBUF=${BENCH_STALL_RCVBUF:-0}
PORT_BASE=${BENCH_PORT_BASE:-18080}
LOG_DIR=${BENCH_LOG_DIR:-$(dirname "$BIN")/bench-logs}
TLS_BIN=${BENCH_TLS_BIN:-build/tls/bin}
TLS_ON=${BENCH_TLS:-1}
COALESCE=${BENCH_COALESCE:-0}
DEVCERT=$ROOT/scripts/devcert.sh
MODE=${BENCH_MODE:-plain}

SERVER=$BIN/sse_bench_server
CLIENT=${BENCH_CLIENT_BIN:-$BIN/sse_bench_client}
HOST=${BENCH_HOST:-127.0.0.1}
for b in "$SERVER" "$CLIENT"; do
    [ -x "$b" ] || { echo "bench: $b missing (make all first)" >&2; exit 2; }
done
mkdir -p "$LOG_DIR" || exit 2

if [ "$MODE" = lwip ]; then
    # The peers run on Linux, not behind the tap link: only ssedge here.
    SERVERS=ssedge
    DEFAULT_POINTS="10:1000:0 100:1000:0 300:100:0"
    RUNS=${BENCH_RUNS:-1}   # make bench-lwip is slow
else
    SERVERS=${BENCH_SERVERS:-floor ssedge mhd civetweb nchan}
    DEFAULT_POINTS="10:1000 100:1000 1000:100 1000:1000 3000:10"
    RUNS=${BENCH_RUNS:-5}
fi
if ! [[ $RUNS =~ ^[0-9]+$ ]] || [ "$RUNS" -lt 1 ]; then
    echo "bench: BENCH_RUNS must be a whole number of runs, 1 or more: '$RUNS'" >&2
    exit 2
fi
POINTS=${BENCH_POINTS:-$DEFAULT_POINTS}
for s in $SERVERS; do
    case $s in floor|ssedge|mhd|civetweb|nchan) ;;
    *) echo "bench: unknown server '$s' in BENCH_SERVERS (floor ssedge mhd civetweb nchan)" >&2
       exit 2 ;;
    esac
done
for n in "$SECONDS_W" "$WARMUP" "$STALL" "$STALL_RATE" "$STALL_RCVBUF" "$PORT_BASE" "$COALESCE"; do
    [[ $n =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "bench: not a number: '$n'" >&2; exit 2; }
done

# Pinning: the CPUs this script may use, from its own affinity list.
PIN=${BENCH_PIN:-0}
srv_pin=()
cli_pin=()
pin_say="client and server on the same cores"
case $PIN in
0) ;;
auto)
    cpus=()
    IFS=, read -r -a spans <<<"$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status 2>/dev/null)"
    for sp in ${spans[@]+"${spans[@]}"}; do
        if [[ $sp =~ ^([0-9]+)-([0-9]+)$ ]]; then
            for ((c = BASH_REMATCH[1]; c <= BASH_REMATCH[2]; c++)); do cpus+=("$c"); done
        elif [[ $sp =~ ^[0-9]+$ ]]; then
            cpus+=("$sp")
        fi
    done
    if [ "${#cpus[@]}" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
        cli_cpu=${cpus[${#cpus[@]} - 1]}
        srv_cpus=$(IFS=,; echo "${cpus[*]:0:${#cpus[@]} - 1}")
        srv_pin=(taskset -c "$srv_cpus")
        cli_pin=(taskset -c "$cli_cpu")
        pin_say="server pinned to CPU $srv_cpus, client to CPU $cli_cpu"
    fi ;;
*)  echo "bench: BENCH_PIN is auto or 0: '$PIN'" >&2
    exit 2 ;;
esac

server_pid=""   # the process we started (for nchan.sh: the script)
server_pids=""  # what it said it is made of (pid=A,B)
server_status=0
client_pid=""
cert_dir=""
# What run_server runs for ssedge: the plain build first, then the TLS one.
tls_mode=0
srv_bin=$SERVER
cli_bin=$CLIENT
srv_extra=()
cli_extra=()

alive() { kill -0 "$1" 2>/dev/null; }

# Stop the server we started, by its PID only: SIGTERM, wait, then SIGKILL
# (it and the processes it named, which it started).
stop_server() {
    local p
    [ -n "$server_pid" ] || return 0
    if alive "$server_pid"; then
        kill -TERM "$server_pid" 2>/dev/null
        # sse_server_stop() waits for every connection thread; a thread
        # blocked in send can take the send timeout (5 s by default).
        for _ in $(seq 1 150); do
            alive "$server_pid" || break
            sleep 0.1
        done
        if alive "$server_pid"; then
            echo "bench: server $server_pid did not stop in 15 s, SIGKILL" >&2
            kill -KILL "$server_pid" 2>/dev/null
        fi
    fi
    wait "$server_pid" 2>/dev/null
    server_status=$?
    # A wrapper (nchan.sh) must take its processes down with it; if one is
    # left, end it by the PID it gave us.
    for p in ${server_pids//,/ }; do
        [ "$p" = "$server_pid" ] && continue
        alive "$p" || continue
        echo "bench: process $p of the server outlived it, SIGTERM" >&2
        kill -TERM "$p" 2>/dev/null
        for _ in $(seq 1 30); do
            alive "$p" || break
            sleep 0.1
        done
        alive "$p" && kill -KILL "$p" 2>/dev/null
        [ "$server_status" -eq 0 ] && server_status=99
    done
    server_pid=""
    server_pids=""
}
# The client runs in the background and we `wait` for it: a trapped signal
# interrupts `wait` at once, whereas bash would run the trap only after a
# foreground client finished (and, for SIGINT, maybe not at all).
# shellcheck disable=SC2317  # only reached from the traps
stop_client() {
    [ -n "$client_pid" ] || return 0
    kill -TERM "$client_pid" 2>/dev/null # it prints what it measured, exits
    for _ in $(seq 1 50); do
        alive "$client_pid" || break
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
        [ "$next_port" -gt 65000 ] && next_port=$PORT_BASE
        if port_free "$next_port"; then
            port=$next_port
            return 0
        fi
    done
    echo "bench: no free port from $PORT_BASE on" >&2
    return 1
}

# ---- the servers -------------------------------------------------------------

# The program of a server, or why it is not available (n/a).
declare -A prog_of na_why
prog_of[floor]=$BIN/sse_bench_floor
prog_of[ssedge]=$SERVER
prog_of[mhd]=$BIN/sse_bench_mhd
prog_of[civetweb]=$BIN/sse_bench_civetweb
prog_of[nchan]=$ROOT/bench/peers/nchan.sh
# nchan.sh's publisher from the same BIN_DIR as every other program here
export NCHAN_PUB=${NCHAN_PUB:-$BIN/sse_bench_nchan_pub}
declare -A lib_of=([floor]="" [mhd]="libmicrohttpd" [civetweb]="CivetWeb"
                   [nchan]="nginx with libnginx-mod-nchan")
for s in $SERVERS; do
    [ "$s" = ssedge ] && continue
    p=${prog_of[$s]}
    if [ ! -x "$p" ]; then
        if [ "$s" = floor ]; then
            na_why[$s]="${p#"$ROOT"/} not built (make bench-peers)"
        elif [ "$s" = nchan ]; then
            na_why[$s]="${p#"$ROOT"/} not there"
        else
            na_why[$s]="${p#"$ROOT"/} not there (make bench-peers builds it when ${lib_of[$s]} is installed)"
        fi
    elif [ "$s" = nchan ] && ! command -v nginx >/dev/null 2>&1 &&
         [ ! -x /usr/sbin/nginx ]; then
        na_why[$s]="nginx not installed (Debian: nginx libnginx-mod-nchan)"
    fi
done

# The ssedge build's connection slots (CONFIG_SSE_MAX_CONNECTIONS): a point
# with more clients than that cannot be held by it.
slots_of() { # server binary
    local h
    h=$(dirname "$(dirname "$1")")/include/sse_config.h
    sed -n 's/^#define CONFIG_SSE_MAX_CONNECTIONS \([0-9]*\).*/\1/p' "$h" 2>/dev/null
}

# Start a server; wait for its "listening" line (at most 20 s).
# Returns 0 up, 1 failed, 77 when the program said it cannot run here.
start_server() { # server rate coalesce_ms log
    local srv=$1 rate=$2 co=$3 log=$4 line st
    pick_port || return 1
    if [ "$srv" = ssedge ]; then
        ${srv_pin[@]+"${srv_pin[@]}"} "$srv_bin" --port "$port" --rate "$rate" --coalesce-ms "$co" \
            ${srv_extra[@]+"${srv_extra[@]}"} >"$log" 2>&1 &
    else
        ${srv_pin[@]+"${srv_pin[@]}"} "${prog_of[$srv]}" --port "$port" --rate "$rate" >"$log" 2>&1 &
    fi
    server_pid=$!
    for _ in $(seq 1 200); do
        line=$(grep -m 1 '^listening ' "$log" 2>/dev/null)
        if [ -n "$line" ]; then
            server_pids=$(kv pid "$line")
            [[ $server_pids =~ ^[0-9]+(,[0-9]+)*$ ]] || server_pids=$server_pid
            server_path=$(kv path "$line")
            return 0
        fi
        alive "$server_pid" || break
        sleep 0.1
    done
    if alive "$server_pid"; then
        echo "bench: $srv did not come up on port $port in 20 s:" >&2
        st=1
    else
        wait "$server_pid"
        st=$?
        echo "bench: $srv exited with status $st before listening:" >&2
    fi
    tail -n 20 "$log" | sed 's/^/  | /' >&2
    stop_server
    [ "$st" -eq 77 ] && return 77
    return 1
}

kv() { # key line -> value ("-" if absent)
    local v
    v=$(printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1)
    printf '%s' "${v:--}"
}

# ---- the runs and their rows -------------------------------------------------

# A row is one server (label) at one point; it holds one or more runs. A
# point's rows run BENCH_RUNS times, interleaved; the stall and TLS rows once.
failed=0
nrows=0
groups=()                  # group keys in the order first seen
declare -A group_title     # key -> "100 × 1000"
declare -A group_rows      # key -> "id id ..."
declare -A r_label r_kind r_srv r_clients r_rate r_co r_name r_multi r_tls r_nruns r_remark
# Per run, keyed "row,n": state (failed: nothing measured or no server;
# short: measured, but something went short, the reasons in why; ok),
# the client's line, what went short.
declare -A rr_state rr_line rr_why
notes=()

new_row() { # group title label server clients rate coalesce multi -> row id in $row
    local grp=$1 kind=peer
    if [ -z "${group_title[$grp]+x}" ]; then
        groups+=("$grp")
        group_title[$grp]=$2
        group_rows[$grp]=""
    fi
    row=$nrows
    nrows=$((nrows + 1))
    group_rows[$grp]+="$row "
    [ "$4" = floor ] && kind=floor
    [ "$4" = ssedge ] && kind=ssedge
    r_label[$row]=$3
    r_kind[$row]=$kind
    r_srv[$row]=$4
    r_clients[$row]=$5
    r_rate[$row]=$6
    r_co[$row]=$7
    r_multi[$row]=$8           # 1: its logs carry .runN
    r_tls[$row]=$tls_mode
    r_nruns[$row]=0            # runs that ran (not n/a)
    r_remark[$row]=""
    r_name[$row]="$([ "$tls_mode" = 1 ] && echo tls_)c${5}_r${6}_${4}$([ "$7" != 0 ] && echo "_co$7")"
}

# The log files of a row's run n, without .{server,client}.log.
log_base() { # row n
    if [ "${r_multi[$1]}" = 1 ]; then
        printf '%s' "$LOG_DIR/${r_name[$1]}.run$2"
    else
        printf '%s' "$LOG_DIR/${r_name[$1]}"
    fi
}

# One run of a row's server: start it, run the client, stop it, keep the run.
run_one() { # row n [client args...]
    local id=$1 n=$2
    local srv=${r_srv[$1]} label=${r_label[$1]} clients=${r_clients[$1]} rate=${r_rate[$1]} co=${r_co[$1]}
    local base line status limit rc slots over="" cs why="" extra=() title own=0 k
    shift 2
    [ "$srv" = ssedge ] && own=1
    # n/a (missing, or it said it cannot run here): no run.
    [ -n "${na_why[$srv]+x}" ] && return
    title=${group_title[$(grp_of "$id")]}
    base=$(log_base "$id" "$n")
    echo "== $title: $label$([ "${r_multi[$id]}" = 1 ] && echo " (run $n of $RUNS)")" >&2
    server_path=-
    start_server "$srv" "$rate" "$co" "$base.server.log"
    rc=$?
    if [ "$rc" -eq 77 ]; then
        # The program says it cannot run on this machine: n/a from now on.
        na_why[$srv]="$(grep -v '^listening ' "$base.server.log" | tail -n 1)"
        [ -n "${na_why[$srv]}" ] || na_why[$srv]="${prog_of[$srv]#"$ROOT"/} cannot run here (exit 77)"
        return
    fi
    r_nruns[$id]=$((r_nruns[$id] + 1))
    rr_line["$id,$n"]=""
    if [ "$rc" -ne 0 ]; then
        rr_state["$id,$n"]=failed
        rr_why["$id,$n"]="the server did not come up"
        [ "$own" = 1 ] && failed=1
        return
    fi
    [ "$srv" = nchan ] && extra+=(--ids any)
    [ "$server_path" != - ] && extra+=(--path "$server_path")
    # The client bounds itself; timeout is only a backstop for a hang.
    limit=$(awk -v w="$WARMUP" -v s="$SECONDS_W" -v c="$clients" \
        -v x="$([ $# -gt 0 ] && echo "$STALL" || echo 0)" \
        'BEGIN { printf "%d", 10 + c / 50 + w + s + x + 30 }')
    timeout -k 5 "$limit" ${cli_pin[@]+"${cli_pin[@]}"} "$cli_bin" --host "$HOST" --port "$port" --clients "$clients" \
        --rate "$rate" --seconds "$SECONDS_W" --warmup "$WARMUP" \
        --server-pid "$server_pids" ${extra[@]+"${extra[@]}"} \
        ${cli_extra[@]+"${cli_extra[@]}"} "$@" \
        >"$base.client.log" 2>&1 &
    client_pid=$!
    wait "$client_pid"
    status=$?
    client_pid=""
    stop_server
    grep -v '^clients=' "$base.client.log" | sed 's/^/  /' >&2
    line=$(grep '^clients=' "$base.client.log" | tail -n 1)
    [ -n "$line" ] && echo "  $line" >&2
    echo "  server: $(grep '^stopped' "$base.server.log" | tail -n 1)" >&2
    rr_line["$id,$n"]=$line
    cs=$(kv connected "$line")
    # ssedge's build has CONFIG_SSE_MAX_CONNECTIONS slots: past them its
    # overload answer turns the extra clients away; that is its
    # configuration, not a failed run (the row says it once).
    slots=$([ "$own" = 1 ] && slots_of "$srv_bin")
    if [ -n "$slots" ] && [ "$clients" -gt "$slots" ]; then
        over=" ($slots slots: CONFIG_SSE_MAX_CONNECTIONS of $(dirname "$(dirname "$srv_bin")")/.config)"
    fi
    if [ "$status" -ne 0 ] || [ "$server_status" -ne 0 ]; then
        echo "  bench: client exit $status, server exit $server_status" >&2
        if [ "$own" = 1 ]; then
            if [ -n "$over" ] && [ "$server_status" -eq 0 ] && [ "$(kv broken "$line")" = 0 ] &&
               [ "$(kv end "$line")" = "done" ]; then
                :
            else
                failed=1
            fi
        fi
    fi
    # Nothing measured: no line, no window, or not one stream in.
    if [ -z "$line" ] || [ "$cs" = 0 ] || [ "$cs" = - ] ||
       awk -v w="$(kv window_s "$line")" 'BEGIN { exit !(w + 0 <= 0) }'; then
        rr_state["$id,$n"]=failed
        rr_why["$id,$n"]="client exit $status, server exit $server_status"
        return
    fi
    # Turned away by the slots alone: every slot streaming, nothing broken.
    local slots_only=0
    if [ -n "$over" ] && [ "$cs" = "$slots" ] && [ "$server_status" -eq 0 ] &&
       [ "$(kv broken "$line")" = 0 ] && [ "$(kv end "$line")" = "done" ]; then
        slots_only=1
        r_remark[$id]="$cs of $clients streams connected$over"
    fi
    [ "$cs" != "$clients" ] && [ "$slots_only" = 0 ] && why+=", $cs of $clients streams connected$over"
    [ "$(kv broken "$line")" != 0 ] && why+=", $(kv broken "$line") streams broken"
    [ "$(kv end "$line")" != "done" ] && why+=", client ended by $(kv end "$line")"
    for k in lost dup id_mismatch malformed; do
        [ "$(kv "$k" "$line")" != 0 ] && why+=", $k=$(kv "$k" "$line")"
    done
    # Short of 95 % of the rate by more than one event over the window.
    awk -v p="$(kv published_per_s "$line")" -v r="$rate" -v w="$(kv window_s "$line")" \
        'BEGIN { exit !(p * w < 0.95 * r * w - 1) }' &&
        why+=", the publisher reached $(kv published_per_s "$line") of $rate ev/s"
    [ "$status" -ne 0 ] && [ "$slots_only" = 0 ] && why+=", client exit $status"
    [ "$server_status" -ne 0 ] && why+=", server exit $server_status"
    # The client's own verdict, should it see more than the checks above.
    [ -z "$why" ] && [ "$slots_only" = 0 ] && [ "$(kv status "$line")" != ok ] &&
        why+=", client status $(kv status "$line")"
    if [ -n "$why" ]; then
        rr_state["$id,$n"]=short
        rr_why["$id,$n"]=${why#, }
    else
        rr_state["$id,$n"]=ok
        rr_why["$id,$n"]=""
    fi
    if [ "$tls_mode" = 1 ]; then
        echo "  TLS: $(kv tls_version "$line") $(kv tls_suite "$line"), handshake avg $(kv tls_hs_avg_ms "$line") ms (client side, $(kv tls_handshakes "$line") done), server CPU while connecting $(kv connect_server_cpu_us_per_conn "$line") us/conn" >&2
    fi
}

declare -A grp_of_row
grp_of() { printf '%s' "${grp_of_row[$1]}"; }
add_row() { # group title server label clients rate coalesce multi
    new_row "$1" "$2" "$4" "$3" "$5" "$6" "$7" "$8"
    grp_of_row[$row]=$1
}

ssedge_label() { # coalesce_ms
    local l=ssedge
    [ "$MODE" = lwip ] && l="ssedge (lwIP)"
    [ "$tls_mode" = 1 ] && l="ssedge, TLS"
    [ "$1" != 0 ] && l="$l, coalesce $1 ms"
    printf '%s' "$l"
}

# ---- the load points ---------------------------------------------------------

for pt in $POINTS; do
    IFS=: read -r pc pr pco <<<"$pt"
    pco=${pco:-0}
    if ! [[ $pc =~ ^[0-9]+$ && $pr =~ ^[0-9]+$ && $pco =~ ^[0-9]+$ ]] ||
       [ "$pc" -eq 0 ] || [ "$pr" -eq 0 ]; then
        echo "bench: bad point '$pt' in BENCH_POINTS (clients:rate[:coalesce_ms])" >&2
        exit 2
    fi
done
for pt in $POINTS; do
    IFS=: read -r pc pr pco <<<"$pt"
    pco=${pco:-0}
    grp="$pc $pr"
    title="$pc × $pr"
    ids=()
    for s in $SERVERS; do
        if [ "$s" = ssedge ]; then
            add_row "$grp" "$title" ssedge "$(ssedge_label "$pco")" "$pc" "$pr" "$pco" 1
            ids+=("$row")
            if [ "$COALESCE" != 0 ] && [ "$COALESCE" != "$pco" ]; then
                add_row "$grp" "$title" ssedge "$(ssedge_label "$COALESCE")" "$pc" "$pr" "$COALESCE" 1
                ids+=("$row")
            fi
        else
            add_row "$grp" "$title" "$s" "$s" "$pc" "$pr" 0 1
            ids+=("$row")
        fi
    done
    # Interleaved: every server once, then every server again, so a slow
    # drift of the machine weighs on all of them alike.
    for ((n = 1; n <= RUNS; n++)); do
        for id in "${ids[@]}"; do
            run_one "$id" "$n"
        done
    done
done

# One reader of 100 stops reading: ssedge's RSS and whether it drops it.
if [ "$STALL" != 0 ]; then
    add_row "stall" "100 × $STALL_RATE + stall" ssedge "$(ssedge_label 0)" 100 "$STALL_RATE" 0 0
    r_name[$row]+=_stall
    stall_log=$(log_base "$row" 1).client.log
    run_one "$row" 1 --stall-one "$STALL" --stall-rcvbuf "$STALL_RCVBUF"
fi

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
if [ "$TLS_ON" = 0 ] || [ "$MODE" = lwip ]; then
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
    # (each program against its own sources: the server is the library's,
    # the client is bench/sse_bench_client.c and bench/client/)
    tls_abs=$(cd "$TLS_BIN" && pwd)
    stale=$(cd "$ROOT" && {
        find include core port/posix tests/backend bench/sse_bench_server.c -name '*.[ch]' \
            -newer "$tls_abs/sse_bench_server" 2>/dev/null
        find bench/sse_bench_client.c bench/client -name '*.[ch]' \
            -newer "$tls_abs/sse_bench_client" 2>/dev/null
    } | head -n 3 | tr '\n' ' ' | sed 's/ $//')
    if [ -n "$stale" ]; then
        tls_stale="warning: $TLS_BIN is older than $stale; rebuild it:
    $tls_build"
        echo "bench: $tls_stale" >&2
    fi
    tls_mode=1
    srv_bin=$TLS_BIN/sse_bench_server
    cli_bin=$TLS_BIN/sse_bench_client
    srv_extra=(--cert "$cert_dir/server.crt" --key "$cert_dir/server.key")
    cli_extra=(--tls --cafile "$cert_dir/ca.crt")
    for pt in "100 1000" "1000 100"; do
        read -r pc pr <<<"$pt"
        add_row "$pc $pr" "$pc × $pr" ssedge "$(ssedge_label 0)" "$pc" "$pr" 0 0
        run_one "$row" 1
    done
    rm_cert_dir
fi

# ---- the medians -------------------------------------------------------------

# The runs that make a row's figures: those that went through clean; when
# none did but some measured (a saturated publisher at every run, say), those,
# and the row says so. Sets use (the run numbers), nuse, nclean, nmeasured.
pick_runs() { # row
    local n
    use="" nuse=0 nclean=0 nmeasured=0
    for ((n = 1; n <= RUNS; n++)); do
        case ${rr_state["$1,$n"]:-} in
        ok) nclean=$((nclean + 1)); nmeasured=$((nmeasured + 1)) ;;
        short) nmeasured=$((nmeasured + 1)) ;;
        esac
    done
    for ((n = 1; n <= RUNS; n++)); do
        case ${rr_state["$1,$n"]:-} in
        ok) ;;
        short) [ "$nclean" = 0 ] || continue ;;
        *) continue ;;
        esac
        use+="$n "
        nuse=$((nuse + 1))
    done
}

# awk: sorts a[1..m] in place (insertion sort, a handful of runs) and
# returns its median (of an even count, the mean of the middle two).
AWK_MED='
function med(a, m,   i, j, x) {
    for (i = 2; i <= m; i++)
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) { x = a[j]; a[j] = a[j - 1]; a[j - 1] = x }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}'

# The medians over some client lines (key=value ...), one line of key=value:
# each figure's median with the decimals the client gives it ("-" when no
# run has it), and cpu_min/cpu_max.
medians() { # lines on stdin
    awk -v keys="published_per_s delivered_per_s delivered_share cpu_us_per_event p50_ms p99_ms due_p99_ms rss_kib_per_conn connected" "$AWK_MED"'
    BEGIN { nk = split(keys, key, " "); for (i = 1; i <= nk; i++) want[key[i]] = 1 }
    {
        for (f = 1; f <= NF; f++) {
            e = index($f, "=")
            if (e == 0) continue
            k = substr($f, 1, e - 1); v = substr($f, e + 1)
            if (!(k in want) || v !~ /^[0-9]+(\.[0-9]+)?$/) continue
            m = ++cnt[k]; val[k, m] = v + 0
            d = index(v, ".") ? length(v) - index(v, ".") : 0
            if (d > dec[k]) dec[k] = d
        }
    }
    END {
        out = ""
        for (i = 1; i <= nk; i++) {
            k = key[i]; m = cnt[k] + 0
            if (m == 0) { out = out " " k "=-"; continue }
            split("", srt)
            for (a = 1; a <= m; a++) srt[a] = val[k, a]
            fmt = "%." (dec[k] + 0) "f"
            out = out " " k "=" sprintf(fmt, med(srt, m))
            if (k == "cpu_us_per_event")
                out = out " cpu_min=" sprintf(fmt, srt[1]) " cpu_max=" sprintf(fmt, srt[m])
        }
        print substr(out, 2)
    }'
}

# Per row: state (na, failed, ok, partial) and the medians' line.
declare -A r_state r_med r_use
# KiB/conn and CPU us/event of ssedge per "tls|plain clients rate", for the
# TLS summary
declare -A rss_of cpu_of
for ((id = 0; id < nrows; id++)); do
    pick_runs "$id"
    r_use[$id]=$use
    if [ "${r_nruns[$id]}" = 0 ]; then
        r_state[$id]=na
        continue
    fi
    if [ "$nuse" = 0 ]; then
        r_state[$id]=failed
    else
        r_med[$id]=$(for n in $use; do printf '%s\n' "${rr_line["$id,$n"]}"; done | medians)
        if [ "$nclean" = 0 ] || [ "$nuse" != "${r_nruns[$id]}" ] || [ -n "${r_remark[$id]}" ]; then
            r_state[$id]=partial
        else
            r_state[$id]=ok
        fi
    fi
    title=${group_title[$(grp_of "$id")]}
    label=${r_label[$id]}
    # The note: what went short, run by run, and which runs the row is made of.
    why="" bad=""
    for ((n = 1; n <= RUNS; n++)); do
        case ${rr_state["$id,$n"]:-} in
        failed) why+="; $([ "${r_nruns[$id]}" -gt 1 ] && echo "run $n: ")failed, ${rr_why["$id,$n"]}"; bad+="$n," ;;
        short) why+="; $([ "${r_nruns[$id]}" -gt 1 ] && echo "run $n: ")${rr_why["$id,$n"]}"; bad+="$n," ;;
        esac
    done
    why=${why#; }
    bad=${bad%,}
    [ -n "${r_remark[$id]}" ] && why="${r_remark[$id]}${why:+; $why}"
    if [ -n "$why" ]; then
        if [ "${r_multi[$id]}" = 1 ]; then
            if [ -z "$bad" ]; then logs="$LOG_DIR/${r_name[$id]}.run*"
            elif [[ $bad == *,* ]]; then logs="$LOG_DIR/${r_name[$id]}.run{$bad}"
            else logs="$LOG_DIR/${r_name[$id]}.run$bad"
            fi
        else
            logs="$LOG_DIR/${r_name[$id]}"
        fi
        head=""
        if [ "${r_nruns[$id]}" -gt 1 ]; then
            if [ "$nuse" = 0 ]; then
                head="failed in all ${r_nruns[$id]} runs: "
            elif [ "$nclean" = 0 ]; then
                head="0 of ${r_nruns[$id]} runs clean, the figures are the medians of the $nuse that measured: "
            elif [ "$nuse" != "${r_nruns[$id]}" ]; then
                head="$nuse of ${r_nruns[$id]} runs: "
            fi
        fi
        notes+=("$label at $title: $head$why (logs: $logs.{server,client}.log)")
    fi
    if [ "${r_kind[$id]}" = ssedge ] && [ "${r_co[$id]}" = 0 ] && [ "$(grp_of "$id")" != stall ]; then
        m=plain
        [ "${r_tls[$id]}" = 1 ] && m=tls
        rss_of["$m ${r_clients[$id]} ${r_rate[$id]}"]=$(kv rss_kib_per_conn "${r_med[$id]:-}")
        cpu_of["$m ${r_clients[$id]} ${r_rate[$id]}"]=$(kv cpu_us_per_event "${r_med[$id]:-}")
    fi
done

# ---- the table ----------------------------------------------------------------

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && commit="$commit-dirty"
cpu_model=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
where="loopback"
[ "$MODE" = lwip ] && where="ssedge on the lwIP port over a tap link"

# Markdown, with the columns padded so the terminal shows it aligned too.
cpu_col="CPU µs/ev"
[ "$RUNS" -gt 1 ] && cpu_col="CPU µs/ev (min–max)"
cols=("clients × ev/s" server "delivered ev/s (share)" "$cpu_col" "× floor" "p50 / p99 ms" "p99 from due ms" "KiB/conn")
cells=()   # row-major, ${#cols[@]} per row
# A publisher "keeps its rate" when it publishes at least this share of it
# (the delivery target's share): below it a row gets ², and the round-by-round
# line counts the floor's rounds apart.
KEPT=0.995
slow_pub=""   # rows whose publisher kept less than KEPT of the rate
num() { # value -> itself if a number, else "–"
    [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && printf '%s' "$1" || printf '–'
}
for grp in "${groups[@]}"; do
    floor_cpu="" floor_p99="" floor_due=""
    for id in ${group_rows[$grp]}; do
        if [ "${r_kind[$id]}" = floor ] && [ "${r_state[$id]}" != failed ] && [ "${r_state[$id]}" != na ]; then
            floor_cpu=$(kv cpu_us_per_event "${r_med[$id]}")
            floor_p99=$(kv p99_ms "${r_med[$id]}")
            floor_due=$(kv due_p99_ms "${r_med[$id]}")
        fi
    done
    for id in ${group_rows[$grp]}; do
        case ${r_state[$id]} in
        na)
            cells+=("${group_title[$grp]}" "${r_label[$id]}" "n/a" "" "" "" "" "")
            continue ;;
        failed)
            cells+=("${group_title[$grp]}" "${r_label[$id]}" "failed ¹" "" "" "" "" "")
            continue ;;
        esac
        line=${r_med[$id]}
        d=$(num "$(kv delivered_per_s "$line")")
        sh=$(kv delivered_share "$line")
        [ "$sh" != - ] && d="$d ($sh %)"
        cs=$(kv connected "$line")
        cc=${r_clients[$id]}
        [ "$cs" != "$cc" ] && d="$d, $cs/$cc streams"
        [ "${r_state[$id]}" = partial ] && d="$d ¹"
        # The issue's delivery rule asks the publisher to keep its rate:
        # one that fell behind (its pace skipped slots) carried a lighter
        # load, and stamped each event when it got to it.
        pub=$(kv published_per_s "$line")
        if awk -v p="$pub" -v r="${r_rate[$id]}" -v k="$KEPT" 'BEGIN { exit !(p ~ /^[0-9.]+$/ && p < k * r) }'; then
            d="$d ²"
            slow_pub+="${slow_pub:+; }${r_label[$id]} at ${group_title[$grp]}: $pub of ${r_rate[$id]} ev/s"
        fi
        cpu=$(num "$(kv cpu_us_per_event "$line")")
        cpu_cell=$cpu
        pick_runs "$id"
        if [ "$nuse" -gt 1 ] && [ "$cpu" != – ]; then
            cpu_cell="$cpu ($(kv cpu_min "$line")–$(kv cpu_max "$line"))"
        fi
        p50=$(num "$(kv p50_ms "$line")")
        p99=$(num "$(kv p99_ms "$line")")
        due=$(num "$(kv due_p99_ms "$line")")
        xf=$(awk -v k="${r_kind[$id]}" -v c="$cpu" -v p="$p99" -v fc="$floor_cpu" -v fp="$floor_p99" \
                 -v q="$due" -v fq="$floor_due" 'BEGIN {
            if (k == "floor") { print "1"; exit }
            s = ""
            if (c ~ /^[0-9.]+$/ && fc ~ /^[0-9.]+$/ && fc + 0 > 0) s = sprintf("%.2f×", c / fc)
            if (p ~ /^[0-9.]+$/ && fp ~ /^[0-9.]+$/)
                s = s (s == "" ? "" : ", ") sprintf("p99 %+.2f ms", p - fp)
            if (q ~ /^[0-9.]+$/ && fq ~ /^[0-9.]+$/)
                s = s (s == "" ? "" : ", ") sprintf("from due %+.2f", q - fq)
            print (s == "" ? "–" : s) }')
        cells+=("${group_title[$grp]}" "${r_label[$id]}" "$d" "$cpu_cell" "$xf" "$p50 / $p99" "$due" \
                "$(num "$(kv rss_kib_per_conn "$line")")")
    done
done
ncol=${#cols[@]}
widths=()
for ((c = 0; c < ncol; c++)); do
    w=${#cols[$c]}
    for ((i = c; i < ${#cells[@]}; i += ncol)); do
        [ "${#cells[$i]}" -gt "$w" ] && w=${#cells[$i]}
    done
    widths+=("$w")
done
pad() { # text width
    local s=$1
    while [ "${#s}" -lt "$2" ]; do s="$s "; done
    printf '%s' "$s"
}
md_row() { # cells...
    local c out="|"
    for ((c = 0; c < ncol; c++)); do
        out+=" $(pad "${1:-}" "${widths[$c]}") |"
        shift
    done
    printf '%s\n' "$out"
}

if [ "$RUNS" -gt 1 ]; then
    single=""
    [ "$STALL" != 0 ] && single="stall"
    [ "$tls_mode" = 1 ] && single="${single:+$single and }TLS"
    runs_say="$RUNS runs of each server per point, interleaved; cells are the medians of the runs that went through, CPU µs/ev with its range (min–max)${single:+; the $single rows are one run}"
else
    runs_say="one run of each server per point"
fi
echo
echo "ssedge fan-out, $(date -u +%F), $(nproc) cores ($cpu_model), Linux $(uname -r), ssedge $commit:" \
     "$where, one epoll client ($pin_say), window ${SECONDS_W} s after ${WARMUP} s warm-up," \
     "$runs_say; CPU of the server's processes per delivered event (logs: $LOG_DIR)"
echo
md_row "${cols[@]}"
sep="|"
for ((c = 0; c < ncol; c++)); do
    s=""
    while [ "${#s}" -lt "${widths[$c]}" ]; do s="$s-"; done
    sep+="-$s-|"
done
echo "$sep"
for ((i = 0; i < ${#cells[@]}; i += ncol)); do
    md_row "${cells[@]:i:ncol}"
done
echo
echo "share: events delivered / (events published in the window × streams); × floor: CPU µs/ev against the" \
     "floor's at the same point$([ "$RUNS" -gt 1 ] && echo " (ratio of the medians)"), and p99 minus the floor's; p99 from due:" \
     "from when the event was due, so a publisher's own lateness is in it (the floor's when a sweep overran); ¹ ² see below."
for s in $SERVERS; do
    [ -n "${na_why[$s]+x}" ] && echo "- $s: n/a, ${na_why[$s]}"
done
[ -n "$slow_pub" ] && echo "- ² the publisher kept less than $(awk -v k="$KEPT" 'BEGIN { print k * 100 }') % of its rate (median): $slow_pub." \
    "A publisher that falls more than 8 periods behind skips the slots it missed, so that server carried" \
    "a lighter load, and its p99 counts from when it got to each event: its p99 from due holds that wait" \
    "(up to the 8 periods)."
if [ "${#notes[@]}" -gt 0 ]; then
    for n in "${notes[@]}"; do
        echo "- $n"
    done
fi
# ssedge against the floor round by round: a round runs every server once at
# a point, so a slow stretch of the machine (it moves p99 by several ms at
# the saturated points) falls on both sides of each difference.
if [ "$RUNS" -gt 1 ]; then
    paired=""
    for grp in "${groups[@]}"; do
        fid=""
        for id in ${group_rows[$grp]}; do
            [ "${r_kind[$id]}" = floor ] && fid=$id
        done
        [ -n "$fid" ] || continue
        for id in ${group_rows[$grp]}; do
            [ "${r_kind[$id]}" = ssedge ] && [ "${r_co[$id]}" = 0 ] && [ "${r_tls[$id]}" != 1 ] || continue
            pairs=""
            for n in ${r_use[$id]:-}; do
                case " ${r_use[$fid]:-} " in *" $n "*) ;; *) continue ;; esac
                pairs+="$(kv p99_ms "${rr_line["$id,$n"]}") $(kv p99_ms "${rr_line["$fid,$n"]}")"
                pairs+=" $(kv cpu_us_per_event "${rr_line["$id,$n"]}") $(kv cpu_us_per_event "${rr_line["$fid,$n"]}")"
                pairs+=" $(kv due_p99_ms "${rr_line["$id,$n"]}") $(kv due_p99_ms "${rr_line["$fid,$n"]}")"
                pairs+=" $(kv published_per_s "${rr_line["$fid,$n"]}")"$'\n'
            done
            cell=$(printf '%s' "$pairs" | awk -v t="${group_title[$grp]}" -v rate="${r_rate[$id]}" -v kept="$KEPT" "$AWK_MED"'
                $1 ~ /^[0-9.]+$/ && $2 ~ /^[0-9.]+$/ {
                    d[++nd] = $1 - $2
                    # rounds where the floor kept its rate (² otherwise)
                    if ($7 ~ /^[0-9.]+$/ && $7 >= kept * rate) k[++nk] = $1 - $2
                }
                $3 ~ /^[0-9.]+$/ && $4 + 0 > 0 { r[++nr] = $3 / $4 }
                $5 ~ /^[0-9.]+$/ && $6 ~ /^[0-9.]+$/ { q[++nq] = $5 - $6 }
                END {
                    if (nd < 2) exit
                    m = med(d, nd); s = sprintf("%s: p99 %+.2f ms (%+.2f to %+.2f)", t, m, d[1], d[nd])
                    if (nq >= 2) { m = med(q, nq); s = s sprintf(", from due %+.2f (%+.2f to %+.2f)", m, q[1], q[nq]) }
                    if (nr >= 2) { m = med(r, nr); s = s sprintf(", CPU %.2f× (%.2f–%.2f)", m, r[1], r[nr]) }
                    s = s sprintf(" over %d rounds", nd)
                    if (nk == 0) s = s ", in none of which the floor kept its rate"
                    else if (nk < nd) s = s sprintf(" (in the %d where the floor kept its rate, p99 %+.2f ms)", nk, med(k, nk))
                    print s }')
            [ -n "$cell" ] && paired+="${paired:+; }$cell"
        done
    done
    [ -n "$paired" ] && echo "- ssedge against the floor in the same round, median of the rounds (min to max):" \
        "$paired"
fi
if [ "$STALL" != 0 ]; then
    stall_line=$(grep '^stall_summary' "${stall_log:-/nonexistent}" 2>/dev/null)
    [ -n "$stall_line" ] && echo "- + stall: one more reader stops reading for ${STALL} s: ${stall_line#stall_summary }"
fi
# TLS against plain at the same point: what a TLS connection costs.
if [ -n "$tls_note" ]; then
    echo "- $tls_note"
else
    echo "- TLS (mbedTLS, Debian's prebuilt library: two ~16.7 KB record buffers per connection):"
    [ -n "$tls_stale" ] && echo "  $tls_stale"
    for key in "${!rss_of[@]}"; do
        case $key in tls\ *) ;; *) continue ;; esac
        read -r _ c r <<<"$key"
        p="plain $c $r"
        awk -v c="$c" -v r="$r" -v pr="${rss_of[$p]:--}" -v tr="${rss_of[$key]}" \
            -v pc="${cpu_of[$p]:--}" -v tc="${cpu_of[$key]}" -v med="$([ "$RUNS" -gt 1 ] && echo " (median)")" 'BEGIN {
            if (!(pr ~ /^[0-9.]+$/ && tr ~ /^[0-9.]+$/ && pc ~ /^[0-9.]+$/ && tc ~ /^[0-9.]+$/)) {
                printf "  %4d × %-4d  no comparison: a TLS or plain run has no figures\n", c, r
                exit
            }
            d = sprintf("%+.1f", tr - pr)
            printf "  %4d × %-4d  server RSS per connection: TLS %s KiB, plain%s %s KiB (%s KiB for TLS);" \
                   " CPU per event: TLS %s µs, plain%s %s µs\n", c, r, tr, med, pr, d, tc, med, pc }'
    done | sort -n
fi
exit "$failed"
