# tests/hub/lib.sh: what tests/hub/*.sh and bench/hub_bench.sh share: a hub of their own (redis-server + nginx nodes running examples/nchan/hub.conf) in a temp dir, every process stopped by its PID.
#
# Sourced (bash >= 4.4), with SUITE set for the summary line; it sources
# tests/lib/common.sh (checks, TMP and pids, clean-up, ports, waits), and
# stops the nodes and redis-server at exit too.
# Everything here listens where it is told to (127.0.0.1 by default), runs
# in the foreground as a child of this shell and is bounded in time.
# shellcheck shell=bash

export LC_ALL=C # a dot in $EPOCHREALTIME and in awk's numbers

HUB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HUB_ROOT=$(cd "$HUB_HERE/../.." && pwd)
HUB_SITE=${HUB_SITE:-$HUB_ROOT/examples/nchan/hub.conf}
NGINX=${NGINX:-/usr/sbin/nginx}
NCHAN_MODULE=${NCHAN_MODULE:-/usr/lib/nginx/modules/ngx_nchan_module.so}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
# What render_site puts in the ADAPT lines besides addresses and ports.
HUB_ALLOW=${HUB_ALLOW:-127.0.0.1}          # allow ...; (the device's address)
HUB_TOKEN=${HUB_TOKEN:-hub-test-token-0123456789}
HUB_ORIGIN=${HUB_ORIGIN:-https://dashboard.test}
HUB_CERT=${HUB_CERT:-}                     # set before node_conf (https)
HUB_CERT_KEY=${HUB_CERT_KEY:-}
HUB_SUB_ADDR=${HUB_SUB_ADDR:-127.0.0.1}    # where subscribe servers listen
HUB_PUB_ALSO=${HUB_PUB_ALSO:-}             # publish servers also listen here

# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$HUB_HERE/../lib/common.sh"
CLEANUP_TENTHS=30
declare -A NODE_MASTER NODE_WORKER NODE_PUB NODE_SUB NODE_TLS NODE_ADDR
REDIS_PID=""
REDIS_PORT=""
cleanup() { # common.sh's, with the hub's nodes and redis-server
    local n
    stop_pids "$CLEANUP_TENTHS" "${pids[@]}"
    pids=()
    for n in "${!NODE_MASTER[@]}"; do node_stop "$n"; done
    redis_stop
    cleanup_tmp
}

# ---------------------------------------------------------------- prerequisites
hub_need() { # bails naming the missing Debian package
    [ -x "$NGINX" ] || NGINX=$(command -v nginx 2>/dev/null || true)
    if [ -z "$NGINX" ] || [ ! -x "$NGINX" ]; then
        bail "nginx is installed (Debian package nginx: scripts/deps.sh install hub)"
    fi
    [ -f "$NCHAN_MODULE" ] ||
        bail "the nchan module is installed ($NCHAN_MODULE: Debian package libnginx-mod-nchan)"
    [ -x "$REDIS_SERVER" ] || REDIS_SERVER=$(command -v redis-server 2>/dev/null || true)
    if [ -z "$REDIS_SERVER" ] || [ ! -x "$REDIS_SERVER" ]; then
        bail "redis-server is installed (Debian package redis-server)"
    fi
    [ -r "$HUB_SITE" ] || bail "site file $HUB_SITE readable"
    command -v curl >/dev/null 2>&1 || bail "curl is installed"
    [ "${BASH_VERSINFO[0]}" -ge 5 ] || bail "bash >= 5 (\$EPOCHREALTIME)"
}

# ---------------------------------------------------------------- redis
# redis_start: redis-server on 127.0.0.1:REDIS_PORT (picked on first use)
# with its data in $TMP/redis. It saves at shutdown and loads at start, as
# Debian's redis.conf does, so a restart keeps nchan's message buffers.
redis_start() {
    [ -n "$REDIS_PORT" ] || pick_port REDIS_PORT || return 1
    mkdir -p "$TMP/redis"
    "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP/redis" \
        --save "3600 1" --appendonly no --daemonize no --protected-mode yes \
        --logfile "" >>"$TMP/redis/redis.log" 2>&1 &
    REDIS_PID=$!
    wait_port 127.0.0.1 "$REDIS_PORT" 50 "$REDIS_PID"
}
redis_stop() { # SIGTERM: redis writes dump.rdb, then exits
    stop_pid "$REDIS_PID" 100
    REDIS_PID=""
}

# ---------------------------------------------------------------- the site file
# subst FILE WANT SED_PATTERN REPLACEMENT: replaces a line shape that must
# occur exactly WANT times in FILE (the example changed shape: say so).
subst() {
    local f=$1 want=$2 pat=$3 rep=$4 n
    n=$(grep -c -- "$pat" "$f")
    if [ "$n" -ne "$want" ]; then
        echo "# $HUB_SITE: want $want line(s) matching '$pat', found $n" >&2
        return 1
    fi
    sed -i -e "s|$pat|$rep|" "$f"
}

# render_site NODE OUT: examples/nchan/hub.conf with only the ADAPT lines
# set for NODE (NODE_ADDR NODE_PUB NODE_TLS NODE_SUB; HUB_ALLOW, HUB_TOKEN,
# HUB_ORIGIN, HUB_CERT, HUB_CERT_KEY, REDIS_PORT; HUB_PUB_ALSO, a second
# address for both publish servers, e.g. [::1]).
render_site() {
    local n=$1 out=$2 a=${NODE_ADDR[$1]} also="" also_tls=""
    if [ -n "$HUB_PUB_ALSO" ]; then
        also=" listen $HUB_PUB_ALSO:${NODE_PUB[$n]};"
        also_tls=" listen $HUB_PUB_ALSO:${NODE_TLS[$n]} ssl;"
    fi
    cp "$HUB_SITE" "$out" &&
        subst "$out" 1 'nchan_redis_url "redis://127\.0\.0\.1:6379";' \
            "nchan_redis_url \"redis://127.0.0.1:$REDIS_PORT\";" &&
        subst "$out" 1 'listen 192\.168\.77\.1:8081;' "listen $a:${NODE_PUB[$n]};$also" &&
        subst "$out" 1 'listen 192\.168\.77\.1:8443 ssl;' "listen $a:${NODE_TLS[$n]} ssl;$also_tls" &&
        subst "$out" 1 'listen 8080;' "listen $HUB_SUB_ADDR:${NODE_SUB[$n]};" &&
        subst "$out" 2 'allow 192\.168\.77\.0/24;' "allow $HUB_ALLOW;" &&
        subst "$out" 2 '"Bearer CHANGE-ME-device-token"' "\"Bearer $HUB_TOKEN\"" &&
        subst "$out" 1 'nchan_access_control_allow_origin "https://dashboard\.example";' \
            "nchan_access_control_allow_origin \"$HUB_ORIGIN\";" &&
        subst "$out" 1 'ssl_certificate /etc/nginx/ssl/hub\.crt;' "ssl_certificate $HUB_CERT;" &&
        subst "$out" 1 'ssl_certificate_key /etc/nginx/ssl/hub\.key;' "ssl_certificate_key $HUB_CERT_KEY;"
}

# ---------------------------------------------------------------- nginx nodes
# node_define NODE ADDR: a hub node; its three ports are picked here. ADDR is
# where the publish servers listen (the device's side); subscribers listen
# on HUB_SUB_ADDR (127.0.0.1).
node_define() {
    local p1 p2 p3
    pick_port p1 && pick_port p2 && pick_port p3 || return 1
    NODE_ADDR[$1]=$2
    NODE_PUB[$1]=$p1
    NODE_SUB[$1]=$p2
    NODE_TLS[$1]=$p3
}

# node_conf NODE: $TMP/NODE/nginx.conf around the rendered site, as Debian's
# nginx.conf includes sites-enabled/* (plus what a private prefix needs).
# The access log records each subscriber's Last-Event-ID.
node_conf() {
    local d=$TMP/$1 nofile
    mkdir -p "$d/tmp" || return 1
    render_site "$1" "$d/hub.conf" || return 1
    # The worker's fd limit may not exceed the hard limit (EPERM otherwise).
    nofile=$(ulimit -Hn)
    [ "$nofile" = unlimited ] && nofile=65536
    [ "$nofile" -gt 65536 ] && nofile=65536
    cat >"$d/nginx.conf" <<EOF
load_module $NCHAN_MODULE;
worker_processes 1;
worker_rlimit_nofile $nofile;
pid $d/nginx.pid;
error_log $d/error.log notice;
events { worker_connections ${HUB_WORKER_CONNECTIONS:-1024}; }
http {
    default_type application/octet-stream;
    log_format hub '\$remote_addr \$server_port "\$request" \$status lei="\$http_last_event_id" ua="\$http_user_agent"';
    access_log $d/access.log hub;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    include $d/hub.conf;
}
EOF
}

# node_start NODE: nginx (a master and one worker, in the foreground) with
# NODE's configuration; 0 once its subscribe port accepts. NODE_WORKER is
# the worker's PID (what serves; killed too should the master be).
node_start() {
    local n=$1 d=$TMP/$1 m w
    [ -f "$d/nginx.conf" ] || node_conf "$n" || return 1
    # Workers run as "nobody" under a root master: they must reach $d.
    chmod 711 "$TMP" "$d"
    "$NGINX" -p "$d" -c "$d/nginx.conf" -e "$d/error.log" -g 'daemon off;' \
        </dev/null >>"$d/stdout.log" 2>&1 &
    m=$!
    NODE_MASTER[$n]=$m
    NODE_WORKER[$n]=""
    wait_port "$HUB_SUB_ADDR" "${NODE_SUB[$n]}" 100 "$m" || return 1
    for _ in $(seq 1 50); do
        w=$(pgrep -P "$m" | head -n 1)
        [ -n "$w" ] && break
        sleep 0.1
    done
    NODE_WORKER[$n]=$w
    [ -n "$w" ]
}

# node_stop NODE: SIGTERM (nginx's fast shutdown: every connection closed),
# then SIGKILL to the master and to its worker, by their PIDs.
node_stop() {
    local n=$1 m=${NODE_MASTER[$1]:-} w=${NODE_WORKER[$1]:-}
    [ -n "$m" ] || return 0
    stop_pid "$m" 50
    if [ -n "$w" ] && alive "$w"; then
        # The master is gone: its worker is nobody's child now.
        kill -KILL "$w" 2>/dev/null
    fi
    NODE_MASTER[$n]=""
    NODE_WORKER[$n]=""
    unset "NODE_MASTER[$n]"
}

# Errors worth showing when a check failed.
node_errors() {
    local n
    for n in "$@"; do
        grep -E '\[(emerg|alert|crit|error)\]' "$TMP/$n/error.log" 2>/dev/null |
            tail -n 15 | sed "s/^/# $n: /"
    done
}

# hub_up ADDR WHAT: redis-server, then nodes A and B with their publish
# servers on ADDR, checked by "nginx -t" (a check: "... hub.conf WHAT") and
# started; bails when one cannot be.
hub_up() {
    local n r
    redis_start || bail "redis-server runs on 127.0.0.1:$REDIS_PORT"
    if ! node_define A "$1" || ! node_define B "$1"; then
        bail "free ports for two nodes"
    fi
    if ! node_conf A || ! node_conf B; then
        bail "examples/nchan/hub.conf has every ADAPT line the test sets"
    fi
    timeout 10 "$NGINX" -t -q -p "$TMP/A" -c "$TMP/A/nginx.conf" -e "$TMP/A/error.log" \
        >"$TMP/nginx-t.log" 2>&1
    r=$?
    [ $r -ne 0 ] && sed 's/^/# /' "$TMP/nginx-t.log"
    check $r "nginx -t accepts examples/nchan/hub.conf $2"
    for n in A B; do
        node_start "$n" || { node_errors "$n"; bail "nginx node $n answers"; }
    done
}

status() { # status CURL_ARGS...: the HTTP status (000: no answer)
    curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$@"
}
# expect_status WANT MESSAGE CURL_ARGS...: a check that the status matches
# WANT (a case pattern: 403, 2??)
expect_status() {
    local s
    s=$(status "${@:3}")
    # shellcheck disable=SC2254 # WANT is a pattern
    case "$s" in $1) ok "$2 (got $s)" ;; *) not_ok "$2 (got $s)" ;; esac
}

# ---------------------------------------------------------------- streams
# curl_sub NAME URL [FIRST_LAST_EVENT_ID]: a subscriber that behaves like a
# browser's EventSource: it appends the raw stream to $TMP/NAME.sse and,
# whenever the stream ends, connects again 0.3 s later with Last-Event-ID
# set to the last id it got (or FIRST_LAST_EVENT_ID before it has one).
# Each connect is logged in $TMP/NAME.conns ("TIME connect ID|-").
# Bounded: 300 connects, each at most 600 s. Stopped with SIGTERM (its PID
# is in pids; it ends its curl first).
curl_sub() {
    local name=$1 url=$2 first=${3:-}
    : >"$TMP/$name.sse"
    (
        cpid=""
        trap '[ -n "$cpid" ] && kill -TERM "$cpid" 2>/dev/null; exit 0' TERM
        for _ in $(seq 1 300); do
            last=$(sed -n 's/^id: *//p' "$TMP/$name.sse" | tail -n 1 | tr -d '\r')
            [ -n "$last" ] || last=$first
            hdr=()
            [ -n "$last" ] && hdr=(-H "Last-Event-ID: $last")
            echo "$(now) connect ${last:--}" >>"$TMP/$name.conns"
            curl -sN --max-time 600 -H 'Accept: text/event-stream' "${hdr[@]}" \
                "$url" >>"$TMP/$name.sse" 2>/dev/null &
            cpid=$!
            wait "$cpid"
            cpid=""
            sleep 0.3
        done
    ) &
    pids+=($!)
}

# es_sub NAME URL MAX_S EVENT...: the eventsource package's EventSource
# (tests/hub/es_sub.mjs) on URL, its lines in $TMP/NAME.ev.
es_sub() {
    local name=$1 url=$2 max=$3
    shift 3
    node "$HUB_HERE/es_sub.mjs" "$url" "$max" "$@" >"$TMP/$name.ev" 2>"$TMP/$name.err" &
    pids+=($!)
}

# events NAME: every event NAME got, one line each: "event TYPE ID DATA"
# (from $TMP/NAME.ev as es_sub writes it, or parsed from $TMP/NAME.sse).
# Events without data (nchan's "event: ping") are no events.
events() {
    if [ -f "$TMP/$1.ev" ]; then
        grep '^event ' "$TMP/$1.ev"
    else
        awk '{ sub(/\r$/, "") }
            /^event:/ { n = substr($0, 7); sub(/^ /, "", n) }
            /^id:/ { i = substr($0, 4); sub(/^ /, "", i) }
            /^data:/ { d = substr($0, 6); sub(/^ /, "", d); hd = 1 }
            /^$/ {
                if (hd) print "event", (n == "" ? "message" : n), (i == "" ? "-" : i), d
                n = ""; i = ""; d = ""; hd = 0
            }' "$TMP/$1.sse"
    fi
}

# keys NAME: the key of every HUB_EVENT event NAME got, in arrival order:
# the number after HUB_FIELD ("t": telemetry's load events carry the
# device's milliseconds since start, one value per event).
HUB_EVENT=${HUB_EVENT:-load}
HUB_FIELD=${HUB_FIELD:-t}
keys() {
    events "$1" | awk -v ev="$HUB_EVENT" -v k="\"$HUB_FIELD\":" '
        $2 == ev && (i = index($0, k)) > 0 {
            s = substr($0, i + length(k)); sub(/[^0-9].*/, "", s)
            if (s != "") print s
        }'
}
last_key() { keys "$1" | tail -n 1; }
# wait_key NAME KEY TENTHS: 0 once NAME got a key >= KEY; 1 after TENTHS
# tries or TENTHS/10 s, whichever comes first.
wait_key() { wait_until "$3" key_reached "$1" "$2"; }
key_reached() { # key_reached NAME KEY: NAME got a key >= KEY
    local k
    k=$(last_key "$1")
    [ -n "$k" ] && [ "$k" -ge "$2" ]
}
# opens NAME: how many times es_sub's source opened
opens() { grep -c '^open$' "$TMP/$1.ev" 2>/dev/null; }

# tally REF NAME CUT: what NAME got of what REF (the device's own stream:
# what was published) got up to key CUT. Sets PUB (published), GOT
# (delivered, distinct), LOST, DUPS (deliveries beyond the first), EXTRA
# (delivered, never published), ORDER (1: first deliveries in publishing
# order) and MONO (1: the hub's ids strictly increasing: no event given
# twice by a replay).
# shellcheck disable=SC2034 # the results are for the sourcing script
tally() {
    local out
    keys "$1" | awk -v c="$3" '$1 <= c' | sort -un >"$TMP/$1.pub"
    out=$(keys "$2" | awk -v c="$3" -v pubf="$TMP/$1.pub" '
        BEGIN { while ((getline k < pubf) > 0) { pub[k] = 1; npub++ } }
        $1 > c { next }
        {
            n++
            if ($1 in seen) { dups++; next }
            seen[$1] = 1; got++
            if (!($1 in pub)) extra++
            if (got > 1 && $1 + 0 <= prev) order = 0
            prev = $1 + 0
        }
        END {
            for (k in pub) if (!(k in seen)) lost++
            printf "%d %d %d %d %d %d\n", npub, got, lost, dups, extra, (order == "" ? 1 : order)
        }')
    read -r PUB GOT LOST DUPS EXTRA ORDER <<<"${out:-0 0 0 0 0 0}"
    MONO=$(events "$2" | awk '
        { split($3, a, ":"); t = a[1] + 0; g = a[2] + 0
          if (NR > 1 && (t < pt || (t == pt && g <= pg))) bad = 1
          pt = t; pg = g }
        END { print bad ? 0 : 1 }')
}
# window REF NAME K1 K2: of the events published with K1 < key <= K2, sets
# WPUB (how many) and WGOT (how many NAME got).
# shellcheck disable=SC2034 # the results are for the sourcing script
window() {
    local out
    out=$(keys "$2" | awk -v a="$3" -v b="$4" -v reff=<(keys "$1") '
        BEGIN { while ((getline k < reff) > 0) if (k > a + 0 && k <= b + 0) w[k] = 1 }
        { if ($1 in w) got[$1] = 1 }
        END { for (k in w) { n++; if (k in got) g++ }; printf "%d %d\n", n, g }')
    read -r WPUB WGOT <<<"${out:-0 0}"
}
