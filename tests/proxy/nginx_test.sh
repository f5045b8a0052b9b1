#!/bin/bash
# Runs Debian's nginx with examples/nginx/ssedge.conf in front of the
# telemetry example and checks that events come through one by one, as
# ssedge publishes them, and not in a lump when a proxy buffer fills.
#
# Usage: tests/proxy/nginx_test.sh [BIN_DIR]     (default build/bin; uses BIN_DIR/telemetry)
# Env:   NGINX (/usr/sbin/nginx); SSEDGE_NGINX_SITE (examples/nginx/ssedge.conf),
#        another site file to check; KEEP_TMP=1 keeps the temp dir (configs,
#        logs, arrival times)
# Needs: nginx (Debian package "nginx"), curl, ss (iproute2), bash >= 5.
#
# Everything listens on 127.0.0.1 only. Each nginx runs as one process in the
# foreground (daemon off, master_process off) from a private prefix under a
# mktemp -d directory that holds its config, pid, logs and temp paths. With no
# master there is no worker that switches to another user, so running as root
# (CI) needs no "user" directive and no world-readable temp dirs; as any other
# user it works the same. Every process started here is stopped by its PID on
# exit. The whole run takes about 6 s; every blocking step has a timeout.
#
# Four nginx instances run side by side, each from a copy of the site file in
# which only the listen address and the upstream address are changed:
#   site     the file as shipped: /events, another stream path, Last-Event-ID
#            resume, and a plain request;
#   off      + proxy_ignore_headers X-Accel-Buffering: "proxy_buffering off"
#            alone keeps the stream unbuffered;
#   header   proxy_buffering on: ssedge's "X-Accel-Buffering: no" alone does;
#   buffered proxy_buffering on, header ignored: the negative control, which
#            must FAIL the streaming checks (it shows they can see buffering).
# The same stream read straight from ssedge is the positive control.
set -u
export LC_ALL=C            # a dot in $EPOCHREALTIME and in awk's numbers

BIN=${1:-build/bin}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SITE=${SSEDGE_NGINX_SITE:-$HERE/../../examples/nginx/ssedge.conf}
TELEMETRY=$BIN/telemetry
NGINX=${NGINX:-/usr/sbin/nginx}
INTERVAL_MS=300            # telemetry's publishing period
WINDOW_S=4                 # how long each stream is read (curl --max-time)
MIN_EVENTS=8               # about 2 events per 300 ms tick: ~26 expected
MAX_FIRST_S=1              # first event no later than this after connecting
MIN_SPAN_S=2.5             # first to last arrival
MIN_DELIVERIES=6           # arrivals separated by >= 100 ms: ~13 expected

SUITE=nginx # the summary line
CLEANUP_TENTHS=80 # sse_server_stop() waits for every stream thread; one
                  # blocked in send can take CONFIG_SSE_SEND_TIMEOUT_MS (5 s)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$HERE/../lib/common.sh" # checks, pids (nginx, telemetry, curls, readers), TMP, cleanup, ports

# ---------------------------------------------------------------- prerequisites
if [ ! -x "$NGINX" ]; then
    NGINX=$(command -v nginx 2>/dev/null || true)
fi
if [ -z "$NGINX" ] || [ ! -x "$NGINX" ]; then
    echo "nginx_test: nginx is not installed (Debian package \"nginx\"; make deps installs it)" >&2
    bail "nginx is installed"
fi
[ -x "$TELEMETRY" ] || bail "telemetry example built ($TELEMETRY missing: make $TELEMETRY)"
[ -r "$SITE" ] || bail "site file $SITE readable"
command -v curl >/dev/null 2>&1 || bail "curl is installed"
[ "${BASH_VERSINFO[0]}" -ge 5 ] || echo "# bash < 5: timing with date(1), a little coarser"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-nginx.XXXXXX") || bail "mktemp -d"

# ---------------------------------------------------------------- ports
pick_port P_SSE || bail "a free port for ssedge"
declare -A PORT
for v in site off header buffered; do
    pick_port "PORT[$v]" || bail "a free port for nginx ($v)"
done

# ---------------------------------------------------------------- ssedge
# answers NAME URL [PID]: 0 once URL answers (5 s at most, less if PID
# exits); else NAME's logs are shown.
answers() {
    # shellcheck disable=SC2086 # --pid PID, or nothing
    wait_until 50 ${3:+--pid "$3"} timeout 2 curl -s -o /dev/null --max-time 1 "$2" && return 0
    sed 's/^/# /' "$TMP/$1.log" "$TMP/$1/logs/error.log" "$TMP/$1/logs/stdout.log" 2>/dev/null
    return 1
}
"$TELEMETRY" --port "$P_SSE" --bind 127.0.0.1 --interval-ms "$INTERVAL_MS" \
    >"$TMP/telemetry.log" 2>&1 &
pids+=($!)
answers telemetry "http://127.0.0.1:$P_SSE/health" "${pids[-1]}" ||
    bail "telemetry accepts on 127.0.0.1:$P_SSE"

# ---------------------------------------------------------------- nginx
# The site file with only the two addresses changed; each variant then adds
# or flips the buffering directives.
sed -e "s/^\([[:space:]]*\)listen 80;/\1listen 127.0.0.1:${PORT[site]};/" \
    -e "s/^\([[:space:]]*\)server 127\.0\.0\.1:8080;/\1server 127.0.0.1:$P_SSE;/" \
    "$SITE" >"$TMP/site.conf"
n_listen=$(grep -c "^[[:space:]]*listen " "$TMP/site.conf")
n_listen_ok=$(grep -c "^[[:space:]]*listen 127\.0\.0\.1:${PORT[site]};" "$TMP/site.conf")
n_server_ok=$(grep -c "^[[:space:]]*server 127\.0\.0\.1:$P_SSE;" "$TMP/site.conf")
n_off=$(grep -c "^[[:space:]]*proxy_buffering off;" "$TMP/site.conf")
if [ "$n_listen" -ne 1 ] || [ "$n_listen_ok" -ne 1 ] || [ "$n_server_ok" -ne 1 ] || [ "$n_off" -lt 1 ]; then
    bail "site file has one 'listen 80;', one 'server 127.0.0.1:8080;' and 'proxy_buffering off;' to test with"
fi

variant() { # variant NAME SED_EXPR...
    local name=$1
    shift
    sed -e "s/listen 127\.0\.0\.1:${PORT[site]};/listen 127.0.0.1:${PORT[$name]};/" "$@" \
        "$TMP/site.conf" >"$TMP/$name.conf"
}
IGNORE='proxy_ignore_headers X-Accel-Buffering;'
variant off -e "s/proxy_buffering off;/proxy_buffering off; $IGNORE/"
variant header -e "s/proxy_buffering off;/proxy_buffering on;/"
variant buffered -e "s/proxy_buffering off;/proxy_buffering on; $IGNORE/"

for v in site off header buffered; do
    mkdir -p "$TMP/$v/tmp" "$TMP/$v/logs"
    # The http{} settings of Debian's nginx.conf that matter here (gzip is
    # on there), around the include, as sites-enabled/* is included there.
    cat >"$TMP/$v/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/$v/nginx.pid;
error_log $TMP/$v/logs/error.log info;
events { worker_connections 64; }
http {
    sendfile on;
    tcp_nopush on;
    gzip on;
    default_type application/octet-stream;
    access_log $TMP/$v/logs/access.log;
    client_body_temp_path $TMP/$v/tmp/body;
    proxy_temp_path $TMP/$v/tmp/proxy;
    fastcgi_temp_path $TMP/$v/tmp/fastcgi;
    uwsgi_temp_path $TMP/$v/tmp/uwsgi;
    scgi_temp_path $TMP/$v/tmp/scgi;
    include $TMP/$v.conf;
}
EOF
done

timeout 10 "$NGINX" -t -q -c "$TMP/site/nginx.conf" -p "$TMP/site" -e "$TMP/site/logs/error.log" \
    >"$TMP/nginx-t.log" 2>&1
r=$?
[ $r -ne 0 ] && sed 's/^/# /' "$TMP/nginx-t.log"
check $r "nginx -t accepts the site file ($("$NGINX" -v 2>&1 | sed 's/.*: //'))"

for v in site off header buffered; do
    "$NGINX" -c "$TMP/$v/nginx.conf" -p "$TMP/$v" -e "$TMP/$v/logs/error.log" \
        -g 'daemon off; master_process off;' >"$TMP/$v/logs/stdout.log" 2>&1 &
    pids+=($!)
done
for v in site off header buffered; do
    answers "$v" "http://127.0.0.1:${PORT[$v]}/health" || bail "nginx ($v) answers on 127.0.0.1:${PORT[$v]}"
done

# ---------------------------------------------------------------- streams
# stream NAME URL MAX_TIME [CURL_ARGS...]: reads the stream with curl in the
# background; a reader stamps every line with its arrival time into
# $TMP/NAME.lines ("SECONDS LINE"); $TMP/NAME.t0 is when curl started.
declare -A CURL_PID
stream() {
    stamp_stream "$1" "$(($3 + 3))" --max-time "$3" "${@:4}" "$2"
    CURL_PID[$1]=$STREAM_PID
}
# finish NAME: waits for the curl, sets RC
finish() {
    wait "${CURL_PID[$1]}"
    RC=$?
}
# analyze NAME: sets N FIRST SPAN DELIVERIES MONO FIRST_ID LAST_ID from the
# "id:" lines (one per event).
analyze() {
    local out
    out=$(awk -v t0="$(cat "$TMP/$1.t0")" '
        $2 == "id:" {
            t = $1 - t0; id = $3 + 0; n++
            if (n == 1) { first = t; del = 1; firstid = id; mono = 1 }
            else {
                if (t - prev >= 0.1) del++
                if (id <= lastid) mono = 0
            }
            prev = t; lastid = id
        }
        END {
            if (n == 0) { print "0 -1 0 0 0 -1 -1"; exit }
            printf "%d %.3f %.3f %d %d %d %d\n", n, first, prev - first, del, mono, firstid, lastid
        }' "$TMP/$1.lines" 2>/dev/null)
    read -r N FIRST SPAN DELIVERIES MONO FIRST_ID LAST_ID <<<"${out:-0 -1 0 0 0 -1 -1}"
}
# streaming: true when the analyzed stream came event by event
streaming() {
    [ "$N" -ge "$MIN_EVENTS" ] &&
        awk -v f="$FIRST" -v s="$SPAN" -v mf="$MAX_FIRST_S" -v ms="$MIN_SPAN_S" \
            'BEGIN { exit !(f >= 0 && f < mf && s >= ms) }' &&
        [ "$DELIVERIES" -ge "$MIN_DELIVERIES" ]
}
show() { # diagnostics for a failed stream
    echo "# $1: curl exit $RC, headers:"
    sed 's/^/#   /' "$TMP/$1.headers" 2>/dev/null
    echo "# $1: arrivals (s after connect):"
    awk -v t0="$(cat "$TMP/$1.t0")" '$2 == "id:" { printf "#   %.3f id %s\n", $1 - t0, $3 }' \
        "$TMP/$1.lines" 2>/dev/null | head -40
}
check_stream() { # check_stream NAME LABEL
    local name=$1 label=$2 bad=0 r
    finish "$name"
    analyze "$name"
    is_sse_200 "$name"
    r=$?
    check $r "$label: 200 with Content-Type: text/event-stream" || true
    [ $r -ne 0 ] && bad=1
    [ "$RC" -eq 28 ]
    r=$?
    check $r "$label: stream stayed open until curl's --max-time $WINDOW_S (curl exit $RC, want 28)"
    [ $r -ne 0 ] && bad=1
    [ "$N" -ge "$MIN_EVENTS" ] && [ "$MONO" -eq 1 ]
    r=$?
    check $r "$label: $N events, ids increasing (want >= $MIN_EVENTS)"
    [ $r -ne 0 ] && bad=1
    awk -v f="$FIRST" -v mf="$MAX_FIRST_S" 'BEGIN { exit !(f >= 0 && f < mf) }'
    r=$?
    check $r "$label: first event ${FIRST} s after connecting (want < $MAX_FIRST_S s)"
    [ $r -ne 0 ] && bad=1
    awk -v s="$SPAN" -v ms="$MIN_SPAN_S" 'BEGIN { exit !(s >= ms) }' && [ "$DELIVERIES" -ge "$MIN_DELIVERIES" ]
    r=$?
    check $r "$label: arrivals span $SPAN s in $DELIVERIES deliveries >= 100 ms apart (want >= $MIN_SPAN_S s, >= $MIN_DELIVERIES)"
    [ $r -ne 0 ] && bad=1
    [ $bad -ne 0 ] && show "$name"
    return 0
}

S=http://127.0.0.1
stream direct "$S:$P_SSE/events" "$WINDOW_S"
stream site "$S:${PORT[site]}/events" "$WINDOW_S"
stream generic "$S:${PORT[site]}/some/other/stream?x=1" "$WINDOW_S"
stream off "$S:${PORT[off]}/events" "$WINDOW_S"
stream header "$S:${PORT[header]}/events" "$WINDOW_S"
stream buffered "$S:${PORT[buffered]}/events" "$WINDOW_S"

# A plain request meanwhile goes through "location /" (not a stream).
body=$(timeout 5 curl -s --max-time 3 -D "$TMP/plain.headers" "$S:${PORT[site]}/status")
r=1
[ "$body" = "ok" ] && ! grep -qi '^content-type: text/event-stream' "$TMP/plain.headers" && r=0
check $r "nginx: a plain GET /status is proxied by location / (body '$body')"

check_stream direct "direct to ssedge (control)"
check_stream site "nginx, site as shipped, /events"
SITE_LAST=$LAST_ID
SITE_IDS=$(awk '$2 == "id:" { print $3 }' "$TMP/site.lines")
check_stream generic "nginx, site as shipped, other stream path (Accept: text/event-stream)"
check_stream off "nginx, X-Accel-Buffering ignored (proxy_buffering off alone)"
check_stream header "nginx, proxy_buffering on (ssedge's X-Accel-Buffering: no alone)"

finish buffered
analyze buffered
if streaming; then r=1; else r=0; fi
check $r "control: a buffering nginx (proxy_buffering on, header ignored) fails the streaming checks ($N events, first at $FIRST s)"
[ $r -ne 0 ] && show buffered

# Last-Event-ID through nginx: resume from an event the site stream saw a
# moment ago. Only a replay from ssedge's ring can deliver ids <= SITE_LAST
# (anything published later has a larger id), and none may be <= FROM.
FROM=$(echo "$SITE_IDS" | tail -n 4 | head -n 1)
if [ -n "$FROM" ] && [ "$SITE_LAST" -ge 0 ]; then
    stream resume "$S:${PORT[site]}/events" 1 -H "Last-Event-ID: $FROM"
    finish resume
    analyze resume
    r=1
    [ "$N" -ge 1 ] && [ "$FIRST_ID" -gt "$FROM" ] && [ "$FIRST_ID" -le "$SITE_LAST" ] && r=0
    check $r "nginx passes Last-Event-ID: resuming after id $FROM replays id $FIRST_ID first (want $FROM < id <= $SITE_LAST)"
    [ $r -ne 0 ] && show resume
else
    not_ok "nginx passes Last-Event-ID (no ids from the site stream to resume from)"
fi

if [ $failed -ne 0 ]; then
    for v in site off header buffered; do
        grep -E '\[(emerg|alert|crit|error)\]' "$TMP/$v/logs/error.log" 2>/dev/null | sed "s/^/# $v: /" | head -20
    done
fi
summary
[ $failed -eq 0 ]
