#!/usr/bin/env bash
# tests/hub/hub_test.sh: the hub of issue 13 for real: a device pushes its events to node A of an nginx + nchan hub (examples/nchan/hub.conf, two nodes sharing one redis-server) and subscribers on node B get every one of them, in order, through restarts of B, A and Redis, over http and https.
#
# Usage: tests/hub/hub_test.sh [BIN_DIR [TLS_BIN_DIR]]   (default build/bin build/tls/bin)
# Env:   HUB_DEVICE   the device command (default: tests/hub/standin_uplink.py,
#                     which runs BIN_DIR/telemetry and relays its stream over
#                     one keep-alive connection). It
#                     is run as
#                       HUB_DEVICE --port P --bind 127.0.0.1 --interval-ms MS
#                                  --uplink URL --uplink-token T [--uplink-ca PEM]
#                     so the real uplink plugs in as HUB_DEVICE=BIN_DIR/telemetry.
#        HUB_EVENT, HUB_FIELD  which events are counted and the number in their
#                     data that names each one (load, t: telemetry's load
#                     events carry the device's milliseconds since start)
#        KEEP_TMP=1   keep the temp dir (configs, logs, every stream)
# Needs: nginx, libnginx-mod-nchan, redis-server (scripts/deps.sh install hub),
#        curl, openssl, node with tests/e2e's node_modules (npm ci there).
#
# What runs, all on 127.0.0.1 ports picked free, from one mktemp -d dir
# removed at exit, every process a child of this shell stopped by its PID:
#   redis-server (saves at shutdown, loads at start, like Debian's), nginx
#   node A and node B (a master and one worker each, in the foreground), each
#   with the example site file where only the ADAPT lines are changed; the
#   device (HUB_DEVICE) publishing to A; on B a curl subscriber that
#   reconnects with Last-Event-ID like a browser, and an EventSource from
#   the eventsource package; the device's own stream, read from its start
#   (Last-Event-ID: 0), is what was published. Then B restarts (the
#   subscribers resume with Last-Event-ID), A stops for 5 s, Redis restarts;
#   at the end every published event must have reached B's subscribers, in
#   order, each hub id once; duplicates are the publisher's resends (the real
#   uplink: at most 1 per outage; the stand-in: at most its ambiguous tries).
#   The same over https to A's TLS server as https://localhost:PORT
#   (certificate from scripts/devcert.sh in the temp dir, the device given
#   the CA). About 50 s.
# Last line: "hub: N passed, M failed"; exit 1 if any failed.
set -u

SUITE=hub
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

BIN=${1:-$HUB_ROOT/build/bin}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
# The https part needs a device built with TLS (CONFIG_SSE_TLS).
TLS_BIN=${2:-$HUB_ROOT/build/tls/bin}
case $TLS_BIN in /*) ;; *) TLS_BIN=$PWD/$TLS_BIN ;; esac
export HUB_TELEMETRY=$BIN/telemetry
# The device is telemetry with its own uplink (tests/hub/standin_uplink.py,
# which relays a device's stream from outside, stays for comparison).
HUB_DEVICE=${HUB_DEVICE:-$BIN/telemetry}
read -r -a DEVICE <<<"$HUB_DEVICE"
STANDIN=0
case "${DEVICE[0]}" in *standin_uplink.py) STANDIN=1 ;; esac
INTERVAL_MS=200          # the device publishes 4 events per interval
OUTAGE_S=5               # node A is down this long
DUPS_PER_OUTAGE=1        # the real uplink's promise
CATCH_UP=600             # tenths of a second allowed for the hub to catch up

hub_need
[ -x "$HUB_TELEMETRY" ] || bail "telemetry built ($HUB_TELEMETRY: make)"
[ -x "${DEVICE[0]}" ] || bail "device command ${DEVICE[0]} executable"
command -v node >/dev/null 2>&1 || bail "node is installed (Debian package nodejs)"
[ -d "$HUB_ROOT/tests/e2e/node_modules/eventsource" ] ||
    bail "tests/e2e/node_modules has the eventsource package (cd tests/e2e && npm ci)"
command -v openssl >/dev/null 2>&1 || bail "openssl is installed"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-hub.XXXXXX") || bail "mktemp -d"
echo "# device: ${DEVICE[*]}$([ "$STANDIN" -eq 1 ] && echo " (stand-in for the uplink)")"

# ---------------------------------------------------------------- the hub
"$HUB_ROOT/scripts/devcert.sh" "$TMP/cert" >/dev/null || bail "openssl makes a test certificate"
# The device reaches the TLS server as https://localhost: mbedTLS 2.28 (what
# sse_uplink links on Debian 12) checks a certificate against DNS names
# only, an IP address in the URL fails its check. Where localhost may
# resolve to ::1 first, the publish servers listen there too.
TLS_HOST=localhost
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/'; then
    HUB_PUB_ALSO="[::1]"
    HUB_ALLOW="127.0.0.1; allow ::1"
fi
HUB_CERT=$TMP/cert/server.crt
HUB_CERT_KEY=$TMP/cert/server.key
CA=$TMP/cert/ca.crt
hub_up 127.0.0.1 "($("$NGINX" -v 2>&1 | sed 's/.*: //'), nchan module)"
echo "# redis 127.0.0.1:$REDIS_PORT; node A pub ${NODE_PUB[A]} tls ${NODE_TLS[A]} sub ${NODE_SUB[A]}; node B sub ${NODE_SUB[B]}"

PUB_A=http://127.0.0.1:${NODE_PUB[A]}/pub
SUB_B=http://127.0.0.1:${NODE_SUB[B]}/sub
AUTH="Authorization: Bearer $HUB_TOKEN"

# ---------------------------------------------------------------- the locks
expect_status 401 "publish without a token: 401" --data x "$PUB_A/device1"
expect_status 401 "publish with another token: 401" \
    -H "Authorization: Bearer not-$HUB_TOKEN" --data x "$PUB_A/device1"
expect_status 403 "publish from an address not allowed (127.0.0.2): 403" \
    --interface 127.0.0.2 -H "$AUTH" --data x "$PUB_A/device1"
expect_status 403 "GET on the publish location (channel info): 403, devices only POST" \
    -H "$AUTH" "$PUB_A/device1"
expect_status 403 "subscribe from another Origin: 403" \
    -H 'Accept: text/event-stream' -H 'Origin: https://elsewhere.test' "$SUB_B/device1"
expect_status 403 "subscribe without Accept: text/event-stream: 403, EventSource only" "$SUB_B/device1"
curl -s -o /dev/null -D "$TMP/cors.headers" --max-time 1 -H 'Accept: text/event-stream' \
    -H "Origin: $HUB_ORIGIN" "$SUB_B/device1"
r=1
tr -d '\r' <"$TMP/cors.headers" | grep -qi "^access-control-allow-origin: $HUB_ORIGIN\$" &&
    grep -q '^HTTP/1.1 200' "$TMP/cors.headers" && r=0
check $r "subscribe from the configured Origin: 200 with Access-Control-Allow-Origin: $HUB_ORIGIN"

# ---------------------------------------------------------------- subscribers on B
# subscribe N CHANNEL [EVENT]: curlN and esN (HUB_EVENT and EVENT) on node B's
# CHANNEL, once both are connected (10 s at most)
subscribe() {
    curl_sub "curl$1" "$SUB_B/$2"
    es_sub "es$1" "$SUB_B/$2" 300 "$HUB_EVENT" "${@:3}"
    wait_until 100 streaming "$1"
}
streaming() { [ "$(opens "es$1")" -ge 1 ] && [ -s "$TMP/curl$1.sse" ]; }
subscribe 1 device1 hub-probe
# One event published on A before the device starts: Redis carries it to B.
s=$(status -H "$AUTH" -H 'X-EventSource-Event: hub-probe' --data 'probe' "$PUB_A/device1")
probe_on_b() {
    events curl1 | grep -q '^event hub-probe [0-9:]* probe$' &&
        events es1 | grep -q '^event hub-probe [0-9:]* probe$'
}
wait_until 50 probe_on_b
r=$?
check $r "POST on node A ($s) reaches both subscribers on node B through Redis as 'event: hub-probe'"
[ $r -ne 0 ] && { node_errors A B; bail "the hub carries events from A to B"; }

# ---------------------------------------------------------------- the device
# start_device NAME URL [ARGS...]: the device on a port of its own; its
# stream, read from its first event, is NAME-ref.
start_device() {
    local name=$1 url=$2 port
    shift 2
    pick_port port || return 1
    "${DEVICE[@]}" --port "$port" --bind 127.0.0.1 --interval-ms "$INTERVAL_MS" \
        --uplink "$url" --uplink-token "$HUB_TOKEN" "$@" >"$TMP/$name.out" 2>&1 &
    DEV_PID=$!
    pids+=("$DEV_PID")
    wait_port 127.0.0.1 "$port" 50 "$DEV_PID" || return 1
    curl_sub "$name-ref" "http://127.0.0.1:$port/events?ch=$HUB_EVENT" 0
}
# stop_device NAME: SIGTERM; its "uplink ..." line, if it prints one, in UPLINK.
stop_device() {
    stop_pid "$DEV_PID" 100
    UPLINK=$(grep '^uplink ' "$TMP/$1.out" | tail -n 1)
}
ref_key() { last_key "$1-ref"; }
# on_b DEV N LABEL: a check that curlN and esN on node B get DEV's events
on_b() {
    local r=1
    wait_key "curl$2" 1 100 && wait_key "es$2" 1 100 && r=0
    check $r "$3"
    [ $r -ne 0 ] && { sed 's/^/# device: /' "$TMP/$1.out" | tail -n 5; node_errors A B; }
    sleep 2
}
# catch_up DEV N LABEL: a check that curlN and esN get all DEV published so
# far (CATCH_UP/10 s at most each)
catch_up() {
    local t0=$SECONDS k r=1
    k=$(ref_key "$1")
    wait_key "curl$2" "$k" "$CATCH_UP" && wait_key "es$2" "$k" "$CATCH_UP" && r=0
    check $r "$3 (in $((SECONDS - t0)) s)"
}
# a_outage DEV N LABEL: node A stops for OUTAGE_S (the device cannot publish
# meanwhile); after, curlN and esN catch up. Sets KA1, KA2: DEV's keys
# before and once caught up.
a_outage() {
    KA1=$(ref_key "$1")
    node_stop A
    sleep "$OUTAGE_S"
    node_start A || { node_errors A; bail "node A starts again"; }
    catch_up "$1" "$2" "$3"
    KA2=$(ref_key "$1")
}
# device_done DEV N: CUT is DEV's key now; once curlN and esN have it, DEV stops
device_done() {
    CUT=$(ref_key "$1")
    wait_key "curl$2" "$CUT" "$CATCH_UP"
    wait_key "es$2" "$CUT" "$CATCH_UP"
    stop_device "$1"
    [ -n "$UPLINK" ] && echo "# device: $UPLINK"
}
# all_in_window LABEL DEV K1 K2 SUB...: a check that of what DEV published
# with K1 < key <= K2 (something), every SUB got every event
all_in_window() {
    local label=$1 dev=$2 k1=$3 k2=$4 sub got="" r=0
    shift 4
    for sub in "$@"; do
        window "$dev-ref" "$sub" "$k1" "$k2"
        got="$got, $sub $WGOT/$WPUB"
        [ "$WPUB" -gt 0 ] && [ "$WGOT" -eq "$WPUB" ] || r=1
    done
    check $r "$label: $WPUB events published, all delivered (${got#, })"
}

# count_checks LABEL REF SUBSCRIBER CUT OUTAGES
count_checks() {
    local label=$1 ref=$2 sub=$3 cut=$4 outages=$5 bound r
    tally "$ref" "$sub" "$cut"
    echo "# $label: $HUB_EVENT events published=$PUB delivered=$GOT lost=$LOST duplicates=$DUPS (never published: $EXTRA)"
    if [ "$STANDIN" -eq 1 ]; then
        bound=$(sed -n 's/.* ambiguous=\([0-9]*\).*/\1/p' <<<"$UPLINK")
        bound=${bound:-0}
    else
        bound=$((outages * DUPS_PER_OUTAGE))
    fi
    r=1
    [ "$PUB" -gt 0 ] && [ "$LOST" -eq 0 ] && [ "$EXTRA" -eq 0 ] && r=0
    check $r "$label: every published event delivered ($GOT of $PUB, lost $LOST)"
    r=1
    [ "$ORDER" -eq 1 ] && [ "$MONO" -eq 1 ] && r=0
    check $r "$label: in publishing order, each hub id once (order=$ORDER, ids increasing=$MONO)"
    r=1
    [ "$DUPS" -le "$bound" ] && r=0
    check $r "$label: $DUPS duplicate(s), at most $bound ($([ "$STANDIN" -eq 1 ] && echo "the stand-in's ambiguous resends" || echo "$DUPS_PER_OUTAGE per outage x $outages"))"
}

start_device dev1 "$PUB_A/device1" || bail "the device starts ($(tail -n 3 "$TMP/dev1.out"))"
on_b dev1 1 "device -> node A -> Redis -> node B: the subscribers get the device's '$HUB_EVENT' events"

# B restarts: its subscribers come back with Last-Event-ID.
k1=$(ref_key dev1)
node_stop B
sleep 1.5
node_start B || { node_errors B; bail "node B starts again"; }
k2=$(ref_key dev1)
reconnected() { [ "$(opens es1)" -ge 2 ] && [ "$(grep -c connect "$TMP/curl1.conns")" -ge 2 ]; }
wait_until 300 reconnected # EventSource retries after 3 s
check $? "node B restarted: both subscribers connected again (eventsource opens: $(opens es1))"
sleep 2

a_outage dev1 1 "node A back after ${OUTAGE_S} s: B's subscribers catch up with the device"
sleep 1

# Redis restarts (saves, exits, loads): nchan reconnects by itself.
kR1=$(ref_key dev1)
redis_stop
sleep 1
redis_start || bail "redis-server starts again"
catch_up dev1 1 "Redis restarted: B's subscribers catch up with the device (nchan reconnects)"
kR2=$(ref_key dev1)
sleep 2

# The end: whatever the device published up to now must arrive.
device_done dev1 1
all_in_window "while B was down (replayed on B by Last-Event-ID)" dev1 "$k1" "$k2" curl1 es1
all_in_window "while A was down and the device caught up" dev1 "$KA1" "$KA2" curl1 es1
all_in_window "while Redis restarted and nchan reconnected (delivered after)" dev1 "$kR1" "$kR2" curl1 es1

count_checks "http, curl on B" dev1-ref curl1 "$CUT" 2
count_checks "http, eventsource on B" dev1-ref es1 "$CUT" 2

# B's access log: the reconnects carried Last-Event-ID (written when each
# request ends: stop B first).
node_stop B
lei_curl=$(grep '"GET /sub/device1 ' "$TMP/B/access.log" | grep 'lei="[0-9]' | grep -c 'ua="curl/')
lei_es=$(grep '"GET /sub/device1 ' "$TMP/B/access.log" | grep 'lei="[0-9]' | grep -vc 'ua="curl/')
r=1
[ "$lei_curl" -ge 1 ] && [ "$lei_es" -ge 1 ] && r=0
check $r "node B was asked with Last-Event-ID after its restart (curl $lei_curl, eventsource $lei_es request(s))"
node_start B || bail "node B starts again"

# ---------------------------------------------------------------- https
TLS_A=https://$TLS_HOST:${NODE_TLS[A]}/pub
expect_status '2??' "https publish on node A, certificate checked against the test CA: 2xx" \
    --cacert "$CA" -H "$AUTH" -H 'X-EventSource-Event: hub-probe' --data probe "$TLS_A/device2"
expect_status 401 "https publish without a token: 401" --cacert "$CA" --data probe "$TLS_A/device2"

subscribe 2 device2
if [ "$STANDIN" -eq 0 ] && [ -z "${HUB_DEVICE_TLS:-}" ]; then
    [ -x "$TLS_BIN/telemetry" ] || bail "a TLS build's telemetry ($TLS_BIN/telemetry: make run-tls builds one)"
    DEVICE=("$TLS_BIN/telemetry")
elif [ -n "${HUB_DEVICE_TLS:-}" ]; then
    read -r -a DEVICE <<<"$HUB_DEVICE_TLS"
fi
start_device dev2 "$TLS_A/device2" --uplink-ca "$CA" || bail "the device starts with an https uplink"
on_b dev2 2 "https: device -> node A's TLS server -> Redis -> node B"
a_outage dev2 2 "https: node A back after ${OUTAGE_S} s: B's subscribers catch up"
sleep 2
device_done dev2 2
all_in_window "https: while A was down and the device caught up" dev2 "$KA1" "$KA2" curl2
count_checks "https, curl on B" dev2-ref curl2 "$CUT" 1
count_checks "https, eventsource on B" dev2-ref es2 "$CUT" 1

# ---------------------------------------------------------------- local latency
# Needs the real uplink (with the stand-in, relaying runs in other
# processes and cannot slow the device): tests/hub/local_latency.sh compares the p99 lateness of a local curl
# stream on the device with no uplink and with an uplink that cannot be
# reached (a closed port, and a hub that accepts and never answers).
if [ "$STANDIN" -eq 0 ]; then
    "$HUB_HERE/local_latency.sh" "${DEVICE[@]}" >"$TMP/latency.out" 2>&1
    r=$?
    sed 's/^/# /' "$TMP/latency.out"
    check $r "the device's local stream keeps its latency with an unreachable uplink"
else
    echo "# local latency with an unreachable uplink: not measured with the stand-in device"
fi

if [ "$failed" -ne 0 ]; then
    node_errors A B
fi
summary
[ "$failed" -eq 0 ]
