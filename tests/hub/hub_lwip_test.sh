#!/usr/bin/env bash
# tests/hub/hub_lwip_test.sh: the hub with ssedge's lwIP example as the device, reached over the tap link of tests/lwip/netns.sh: nginx + nchan publish on the namespace side's address, the device's events reach node B's subscriber, also across a stop of node A.
#
#   sudo tests/lwip/netns.sh -t 180 tests/hub/hub_lwip_test.sh [LWIP_BIN_DIR]
#                    (LWIP_BIN_DIR: the lwIP host build, default build/lwip/bin:
#                     make BUILD=build/lwip KCONFIG_CONFIG=build/lwip/.config
#                     DEFCONFIG=configs/lwip_host_defconfig build/lwip/bin/sse_lwip_host)
# Env:   HUB_LWIP_UPLINK=1  (default) the lwIP example publishes to the hub itself
#                     with --uplink; with 0
#                     it tests/hub/standin_uplink.py relays the device's stream
#                     to the hub over one keep-alive connection
#        KEEP_TMP=1   keep the temp dir
# netns.sh makes the namespace: Linux holds 192.168.77.1 on tap0, the lwIP
# program takes 192.168.77.2 (SSE_LWIP_IP/..._GW, PRECONFIGURED_TAPIF).
# Here: redis-server on 127.0.0.1; nginx nodes A and B from
# examples/nchan/hub.conf whose publish servers listen on 192.168.77.1 and
# allow 192.168.77.0/24 as shipped (subscribe servers on 127.0.0.1); the
# lwIP device; a curl subscriber on node B; the device's own stream over the
# tap link (from Last-Event-ID 0) is what was published. Every process is a
# child of this shell, stopped by its PID; about 30 s.
# Last line: "hub-lwip: N passed, M failed"; exit 1 if any failed.
set -u

SUITE=hub-lwip
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

LWIP_BIN=${1:-$HUB_ROOT/build/lwip/bin}
LWIP_IP=${SSE_LWIP_IP:-192.168.77.2}
HOST_IP=${SSE_LWIP_GW:-192.168.77.1}
DEV_PORT=8080
INTERVAL_MS=200
OUTAGE_S=3
CHANNEL=lwip1

[ -n "${PRECONFIGURED_TAPIF:-}" ] ||
    bail "runs inside tests/lwip/netns.sh (PRECONFIGURED_TAPIF is not set: no tap link)"
hub_need
[ -x "$LWIP_BIN/sse_lwip_host" ] || bail "the lwIP example is built ($LWIP_BIN/sse_lwip_host)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-hub-lwip.XXXXXX") || bail "mktemp -d"
"$HUB_ROOT/scripts/devcert.sh" "$TMP/cert" "IP:$HOST_IP" >/dev/null || bail "openssl makes a test certificate"
HUB_CERT=$TMP/cert/server.crt
HUB_CERT_KEY=$TMP/cert/server.key
HUB_ALLOW=192.168.77.0/24 # as shipped: the device network
hub_up "$HOST_IP" "with the publish servers on $HOST_IP"
wait_port "$HOST_IP" "${NODE_PUB[A]}" 50 || bail "node A's publish server listens on $HOST_IP:${NODE_PUB[A]}"
ok "node A's publish server listens on the tap link's address $HOST_IP:${NODE_PUB[A]}"

PUB_A=http://$HOST_IP:${NODE_PUB[A]}/pub
SUB_B=http://127.0.0.1:${NODE_SUB[B]}/sub
AUTH="Authorization: Bearer $HUB_TOKEN"

expect_status 403 "publish from 127.0.0.1, outside the device network: 403" \
    --interface 127.0.0.1 -H "$AUTH" --data x "$PUB_A/$CHANNEL"
expect_status '2??' "publish from inside the device network ($HOST_IP) with the token: 2xx" \
    --interface "$HOST_IP" -H "$AUTH" -H 'X-EventSource-Event: hub-probe' --data probe "$PUB_A/$CHANNEL"

# ---------------------------------------------------------------- the device
curl_sub sub "$SUB_B/$CHANNEL"
wait_until 50 test -s "$TMP/sub.sse"
UPLINK_URL=$PUB_A/$CHANNEL
dev_args=(--ip "$LWIP_IP" --netmask "${SSE_LWIP_NETMASK:-255.255.255.0}" --gw "$HOST_IP"
    --port "$DEV_PORT" --interval-ms "$INTERVAL_MS")
if [ "${HUB_LWIP_UPLINK:-1}" = 1 ]; then
    # The lwIP example publishing to the hub itself, over the tap link from
    # 192.168.77.2 (allowed by the shipped allow line).
    dev_args+=(--uplink "$UPLINK_URL" --uplink-token "$HUB_TOKEN")
fi
"$LWIP_BIN/sse_lwip_host" "${dev_args[@]}" >"$TMP/device.out" 2>&1 &
DEV_PID=$!
pids+=("$DEV_PID")
wait_until 100 --pid "$DEV_PID" grep -q '^ready$' "$TMP/device.out"
r=$?
check $r "the lwIP example is up on $LWIP_IP ($(head -n 1 "$TMP/device.out"))"
[ $r -ne 0 ] && bail "the lwIP example starts"
# What the device publishes: its "message" events (its "ping" is a timer of
# each connection), read over the tap link from its first one.
curl_sub ref "http://$LWIP_IP:$DEV_PORT/events" 0
published() { events ref | grep -c '^event message '; }
delivered() { events sub | grep -c '^event message '; }
RELAY_PID=""
if [ "${HUB_LWIP_UPLINK:-1}" != 1 ]; then
    HUB_STANDIN_STREAM="http://$LWIP_IP:$DEV_PORT/events" HUB_STANDIN_SKIP=ping \
        "$HUB_HERE/standin_uplink.py" --uplink "$UPLINK_URL" --uplink-token "$HUB_TOKEN" \
        >"$TMP/relay.out" 2>&1 &
    RELAY_PID=$!
    pids+=("$RELAY_PID")
    echo "# publisher: tests/hub/standin_uplink.py relaying the lwIP example's stream (HUB_LWIP_UPLINK=0)"
fi
# wait_delivered N TENTHS: 0 once node B's subscriber got N events.
wait_delivered() { wait_until "$2" delivered_at_least "$1"; }
delivered_at_least() { [ "$(delivered)" -ge "$1" ]; }
r=1
wait_delivered 3 150 && r=0
check $r "lwIP device -> tap link -> node A -> Redis -> node B: $(delivered) events so far"
sleep 2

n1=$(published)
node_stop A
sleep "$OUTAGE_S"
node_start A || { node_errors A; bail "node A starts again"; }
n2=$(published)
r=1
wait_delivered "$n2" 300 && r=0
check $r "node A stopped ${OUTAGE_S} s: the $((n2 - n1)) events published meanwhile reach node B after ($(delivered) delivered, $n2 published by then)"
sleep 1

cut=$(published)
wait_delivered "$cut" 300
got=$(delivered)
tally ref sub 0 # MONO only: the hub's ids strictly increasing
r=1
[ "$cut" -gt 0 ] && [ "$got" -ge "$cut" ] && [ "$MONO" -eq 1 ] && r=0
check $r "every event the lwIP device published reached node B once, in the hub's order ($got delivered, $cut published by then)"
# The device's own counters (SIGUSR1 prints a "stats ..." line): what its
# uplink says it sent, shown with the tallies below.
kill -USR1 "$DEV_PID" 2>/dev/null
wait_until 20 grep -q '^stats ' "$TMP/device.out"
dev_stats=$(grep '^stats ' "$TMP/device.out" | tail -n 1 | grep -o 'uplink_[a-z_]*=[0-9]*' | tr '\n' ' ')
stop_pid "$DEV_PID" 100
[ -n "$RELAY_PID" ] && stop_pid "$RELAY_PID" 50
[ -f "$TMP/relay.out" ] && grep '^uplink ' "$TMP/relay.out" | sed 's/^/# publisher: /'
sleep 1
pub=$(published)
got=$(delivered)
echo "# lwIP device: message events published=$pub delivered=$got; ${dev_stats:-no stats line}"
# Every event is "hello": a duplicate can hide a loss in the count above.
# Extra deliveries are at most the publisher's duplicates: the stand-in's
# ambiguous tries, or the real uplink's 1 for the one outage.
extra=1
if [ -f "$TMP/relay.out" ]; then
    extra=$(sed -n 's/^uplink .* ambiguous=\([0-9]*\).*/\1/p' "$TMP/relay.out" | tail -n 1)
fi
extra=${extra:-0}
r=1
[ "$got" -le $((pub + extra)) ] && r=0
check $r "no more deliveries than events published plus the publisher's possible duplicates ($got <= $pub + $extra)"

if [ "${HUB_LWIP_UPLINK:-1}" != 1 ]; then
    echo "# the stand-in relayed; HUB_LWIP_UPLINK=1 (the default) has the lwIP example's own uplink"
fi
if [ "$failed" -ne 0 ]; then
    node_errors A B
    # Which side stopped: the device's uplink lines, the subscriber's
    # connects, what node A answered to the device's POSTs.
    grep 'uplink' "$TMP/device.out" | tail -n 15 | sed 's/^/# device: /'
    sed 's/^/# sub: /' "$TMP/sub.conns" | tail -n 5
    grep "^$LWIP_IP " "$TMP/A/access.log" 2>/dev/null | awk '{print $6}' | sort | uniq -c |
        sed 's/^/# node A answered the device: /'
fi
summary
[ "$failed" -eq 0 ]
