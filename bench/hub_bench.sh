#!/usr/bin/env bash
# bench/hub_bench.sh: the hub's numbers (for a `make bench-hub`): events/s one publisher, and ssedge's own uplink, forward through nginx + nchan (node A -> Redis -> node B), and fan-out to 2000 subscribers over two nodes next to the same subscribers on ssedge directly; one small Markdown table.
#
# Usage: bench/hub_bench.sh [BIN_DIR]       (default build/bin: sse_bench_client,
#                                            sse_bench_server, sse_bench_nchan_pub)
# Env:   HUB_BENCH_SECONDS (5)   measuring window of each run
#        HUB_BENCH_WARMUP (2)    warm-up before it
#        HUB_BENCH_FORWARD ("1000 5000 20000")  publisher rates of the
#                                forwarding runs (one subscriber, on node B)
#        HUB_BENCH_CLIENTS (2000) fan-out subscribers: half on each node
#        HUB_BENCH_RATES ("10 100")  event rates of the fan-out runs
#        KEEP_TMP=1              keep the temp dir (configs, logs, client lines)
#
# The hub is tests/hub/lib.sh's: redis-server and nginx nodes A and B (one
# worker each) running examples/nchan/hub.conf, on 127.0.0.1 ports picked
# free, from a temp dir removed at exit; the publisher is
# sse_bench_nchan_pub, one keep-alive connection POSTing "seq t" to
# /pub/CHANNEL on node A with the token. Subscribers are sse_bench_client
# (--ids any: nchan's ids) reading /sub/CHANNEL; CPU is both nginx workers'
# (--server-pid A,B), not Redis's nor the publisher's. ssedge's rows run
# sse_bench_server with the same clients on /events. Every run is bounded
# (the client's own deadline, then timeout(1)); every process is stopped
# by its PID. Exit 1 if the hub or a run could not be started.
set -u

SUITE=hub-bench
# shellcheck source-path=SCRIPTDIR source=../tests/hub/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../tests/hub/lib.sh"
# lib.sh's counting functions are for tests: a failure here is a message.
die() {
    echo "hub_bench: $*" >&2
    exit 1
}

BIN=${1:-$HUB_ROOT/build/bin}
W=${HUB_BENCH_SECONDS:-5}
WU=${HUB_BENCH_WARMUP:-2}
FORWARD=${HUB_BENCH_FORWARD:-1000 5000 20000}
CLIENTS=${HUB_BENCH_CLIENTS:-2000}
RATES=${HUB_BENCH_RATES:-10 100}
CLIENT=$BIN/sse_bench_client
SERVER=$BIN/sse_bench_server
PUB=$BIN/sse_bench_nchan_pub
for b in "$CLIENT" "$SERVER" "$PUB"; do
    [ -x "$b" ] || die "$b missing (make all bench-peers)"
done
for n in "$W" "$WU" "$CLIENTS" $FORWARD $RATES; do
    if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -eq 0 ]; then die "not a positive number: '$n'"; fi
done
[ "$CLIENTS" -ge 2 ] || die "HUB_BENCH_CLIENTS must be at least 2 (half on each node)"
RUN_LIMIT=$((W + WU + 60 + CLIENTS / 50)) # a client's own deadline is inside this

# Preconditions as messages (hub_need bails through the test counters).
[ -x "$NGINX" ] || NGINX=$(command -v nginx 2>/dev/null || true)
[ -n "$NGINX" ] || die "nginx is not installed (scripts/deps.sh install hub)"
[ -f "$NCHAN_MODULE" ] || die "the nchan module is not installed (libnginx-mod-nchan)"
[ -x "$REDIS_SERVER" ] || die "redis-server is not installed"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-hub-bench.XXXXXX") || die "mktemp -d"
"$HUB_ROOT/scripts/devcert.sh" "$TMP/cert" >/dev/null || die "scripts/devcert.sh failed"
HUB_CERT=$TMP/cert/server.crt
HUB_CERT_KEY=$TMP/cert/server.key
# Each node holds half the subscribers; the worker's fd limit is capped at
# the hard limit by node_conf (worker_rlimit_nofile above ulimit -Hn: EPERM).
HUB_WORKER_CONNECTIONS=$((CLIENTS / 2 + 512))
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -gt $((CLIENTS + 64)) ] ||
    echo "hub_bench: ulimit -Hn $(ulimit -Hn) is low for $CLIENTS subscribers" >&2
redis_start || die "redis-server did not start"
if ! node_define A 127.0.0.1 || ! node_define B 127.0.0.1; then die "no free ports"; fi
if ! node_conf A || ! node_conf B; then die "examples/nchan/hub.conf lacks an ADAPT line"; fi
for n in A B; do
    node_start "$n" || { node_errors "$n" >&2; die "nginx node $n did not start"; }
done
WORKERS=${NODE_WORKER[A]},${NODE_WORKER[B]}

kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p" <<<"$2" | head -n 1; }

PUB_PID=""
# start_pub CHANNEL RATE: the publisher on node A, connected.
start_pub() {
    "$PUB" --port "${NODE_PUB[A]}" --rate "$2" --path "/pub/$1" --token "$HUB_TOKEN" \
        >"$TMP/pub-$1.out" 2>&1 &
    PUB_PID=$!
    pids+=("$PUB_PID")
    for _ in $(seq 1 100); do
        grep -q '^connected ' "$TMP/pub-$1.out" && return 0
        alive "$PUB_PID" || break
        sleep 0.1
    done
    return 1
}
stop_pub() { # prints the publisher's "stopped ..." line
    stop_pid "$PUB_PID" 50
    grep '^stopped ' "$TMP/pub-$1.out" | tail -n 1
}
# client NAME PORT CLIENTS PATH PIDS [ARGS...]: one sse_bench_client run in
# the background; its result line lands in $TMP/NAME.client.
client() {
    local name=$1 port=$2 n=$3 path=$4 spids=$5
    shift 5
    timeout -k 5 "$RUN_LIMIT" "$CLIENT" --port "$port" --clients "$n" --seconds "$W" \
        --warmup "$WU" --path "$path" --server-pid "$spids" --max-inflight 64 "$@" \
        >"$TMP/$name.client" 2>"$TMP/$name.client.err" &
    pids+=($!)
    CLIENT_PID=$!
}
result() { grep '^clients=' "$TMP/$1.client" | tail -n 1; }
pub_note() { # the publisher's stop line, short
    echo "POST $(kv publish_avg_us "$1") µs avg, $(kv skipped "$1") late"
}

# start_ssedge OUT RATE [ARGS...]: sse_bench_server on a free loopback
# port, its output in $TMP/OUT; sets SSEDGE_PORT and SSEDGE_PID.
start_ssedge() {
    local out=$1 rate=$2
    shift 2
    pick_port SSEDGE_PORT || die "no free port"
    "$SERVER" --port "$SSEDGE_PORT" --bind 127.0.0.1 --rate "$rate" "$@" >"$TMP/$out" 2>&1 &
    SSEDGE_PID=$!
    pids+=("$SSEDGE_PID")
    wait_port 127.0.0.1 "$SSEDGE_PORT" 50 "$SSEDGE_PID" ||
        die "sse_bench_server $* did not start ($(tail -n 2 "$TMP/$out"))"
}

rows=()
# ---------------------------------------------------------------- forwarding
for r in $FORWARD; do
    ch=fwd$r
    start_pub "$ch" "$r" || die "the publisher did not connect to node A ($(tail -n 2 "$TMP/pub-$ch.out"))"
    client "$ch" "${NODE_SUB[B]}" 1 "/sub/$ch" "$WORKERS" --ids any
    wait "$CLIENT_PID"
    stopped=$(stop_pub "$ch")
    line=$(result "$ch")
    if [ -z "$line" ]; then
        rows+=("| forward A→B | 1 × $r | failed: $(tail -n 1 "$TMP/$ch.client.err") | | | | | |")
        continue
    fi
    rows+=("| forward A→B | 1 × $r | $(kv published_per_s "$line") | $(kv delivered_per_s "$line") ($(kv delivered_share "$line") %) | $(kv cpu_us_per_event "$line") | $(kv p50_ms "$line") / $(kv p99_ms "$line") | $(kv lost "$line") | $(pub_note "$stopped") |")
done

# ------------------------------------------------- ssedge's uplink forwarding
# The same path, fed by ssedge itself: sse_bench_server publishes R events/s
# and its uplink POSTs each to node A (one keep-alive connection, one request
# in flight); CPU is the nginx workers', as above.
for r in $FORWARD; do
    ch=up$r
    start_ssedge "uplink-$r.out" "$r" --uplink "http://127.0.0.1:${NODE_PUB[A]}/pub/$ch" \
        --uplink-token "$HUB_TOKEN"
    client "$ch" "${NODE_SUB[B]}" 1 "/sub/$ch" "$WORKERS" --ids any
    wait "$CLIENT_PID"
    stop_pid "$SSEDGE_PID" 100
    stopped=$(grep '^stopped ' "$TMP/uplink-$r.out" | tail -n 1)
    line=$(result "$ch")
    if [ -z "$line" ]; then
        rows+=("| uplink A→B | 1 × $r | failed: $(tail -n 1 "$TMP/$ch.client.err") | | | | | |")
        continue
    fi
    rows+=("| uplink A→B | 1 × $r | $(kv published_per_s "$line") | $(kv delivered_per_s "$line") ($(kv delivered_share "$line") %) | $(kv cpu_us_per_event "$line") | $(kv p50_ms "$line") / $(kv p99_ms "$line") | $(kv lost "$line") | ssedge: $(kv published "$stopped") published, uplink $(kv uplink_sent "$stopped") sent, $(kv uplink_lost "$stopped") lost, $(kv uplink_duplicates "$stopped") dup |")
done

# ---------------------------------------------------------------- fan-out
half=$((CLIENTS / 2))
for r in $RATES; do
    ch=fan$r
    start_pub "$ch" "$r" || die "the publisher did not connect to node A"
    client "$ch-A" "${NODE_SUB[A]}" "$half" "/sub/$ch" "$WORKERS" --ids any
    ca=$CLIENT_PID
    client "$ch-B" "${NODE_SUB[B]}" $((CLIENTS - half)) "/sub/$ch" "$WORKERS" --ids any
    cb=$CLIENT_PID
    wait "$ca" "$cb"
    stopped=$(stop_pub "$ch")
    la=$(result "$ch-A")
    lb=$(result "$ch-B")
    if [ -z "$la" ] || [ -z "$lb" ]; then
        rows+=("| nchan, 2 nodes | $CLIENTS × $r | failed: $(tail -n 1 "$TMP/$ch-A.client.err" "$TMP/$ch-B.client.err" | tr '\n' ' ') | | | | | |")
        continue
    fi
    # Both clients saw both workers' CPU over (nearly) the same window: CPU
    # per event is that over the events both delivered.
    cell=$(awk -v da="$(kv delivered_per_s "$la")" -v db="$(kv delivered_per_s "$lb")" \
        -v sa="$(kv delivered_share "$la")" -v sb="$(kv delivered_share "$lb")" \
        -v cpu="$(kv server_cpu_pct "$la")" -v na="$half" -v nb=$((CLIENTS - half)) 'BEGIN {
            d = da + db; s = (sa * na + sb * nb) / (na + nb)
            printf "%.0f (%.1f %%)|%s", d, s, (d > 0 && cpu != "na") ? sprintf("%.2f", cpu * 1e4 / d) : "na"
        }')
    rows+=("| nchan, 2 nodes | $CLIENTS × $r | $(kv published_per_s "$la") | ${cell%%|*} | ${cell#*|} | A $(kv p50_ms "$la") / $(kv p99_ms "$la"), B $(kv p50_ms "$lb") / $(kv p99_ms "$lb") | $(($(kv lost "$la") + $(kv lost "$lb"))) | $(pub_note "$stopped") |")
done

# ---------------------------------------------------------------- ssedge alone
for r in $RATES; do
    start_ssedge "ssedge-$r.out" "$r" --max-conn $((CLIENTS + 16))
    client "ssedge$r" "$SSEDGE_PORT" "$CLIENTS" /events "$SSEDGE_PID"
    wait "$CLIENT_PID"
    stop_pid "$SSEDGE_PID" 100
    l=$(result "ssedge$r")
    if [ -z "$l" ]; then
        rows+=("| ssedge directly | $CLIENTS × $r | failed: $(tail -n 1 "$TMP/ssedge$r.client.err") | | | | | |")
        continue
    fi
    rows+=("| ssedge directly | $CLIENTS × $r | $(kv published_per_s "$l") | $(kv delivered_per_s "$l") ($(kv delivered_share "$l") %) | $(kv cpu_us_per_event "$l") | $(kv p50_ms "$l") / $(kv p99_ms "$l") | $(kv lost "$l") | in-process publisher |")
done

echo
echo "Hub bench, $(date +%F), $(nproc) cores, nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') + nchan, one worker per node, window ${W} s:"
echo
echo "| run | subscribers × ev/s asked | published ev/s | delivered ev/s (share) | server CPU µs/ev | p50 / p99 ms | lost | publisher |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "published: the events/s the subscribers saw go out (their seq numbers); below the"
echo "rate asked, the publisher fell behind: each POST waits for nginx's answer and"
echo "events more than 8 periods late are dropped ('late'). share: of what was"
echo "published, what every subscriber got. CPU: both nginx workers (not Redis, not"
echo "the publisher), or ssedge's whole process, per delivered event. uplink rows:"
echo "ssedge's uplink instead of the publisher (its counts after stop; an event the"
echo "ring overwrote before the hub took it is 'lost')."
