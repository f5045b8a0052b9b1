#!/usr/bin/env bash
# tests/hub/standin_uplink.sh: stands in for `telemetry --uplink` until sse_uplink lands: runs the real telemetry example and relays every event it publishes to the hub with curl, store-and-forward.
#
#   tests/hub/standin_uplink.sh [telemetry flags...] --uplink URL
#                               [--uplink-token TOKEN] [--uplink-ca PEM]
#
# The same command line as the real thing (build/bin/telemetry --uplink ...),
# so tests/hub/hub_test.sh swaps one for the other with one variable
# (HUB_DEVICE). Every other flag goes to telemetry (HUB_TELEMETRY, default
# build/bin/telemetry of this tree), whose line "telemetry: http://H:P/ ..."
# is printed as is.
#
# The relay reads telemetry's own stream (/events?ch=load,mem,clients: what
# telemetry publishes, all but the "message: hello" its connection timer
# sends to that stream alone; ids start after Last-Event-ID, the cursor, so
# a reconnect resumes from ssedge's ring) and POSTs each event
# to URL: data as the body, "X-EventSource-Event: NAME", "Authorization:
# Bearer TOKEN" when given, --cacert PEM for https. An event is sent again
# until it is answered 2xx (each try bounded, 0.2 s apart), then the next
# one: in order, none skipped unless it failed for HUB_STANDIN_GIVEUP_S
# (120 s). Unlike the real uplink it opens one connection per event.
#
# On SIGTERM/SIGINT it stops telemetry and prints
#   uplink posted=N resent=R ambiguous=A gave_up=G cursor=ID
# posted: events answered 2xx; resent: of those, how many needed more than
# one try; ambiguous: tries that failed after the request may have reached
# the hub (no answer: curl exit 52, 55, 56, 28, 92), the only ones that can
# duplicate an event; gave_up: events skipped; cursor: the last id relayed.
# Exit 2: bad flag; 1: telemetry did not start.
#
# HUB_STANDIN_STREAM=URL relays the stream of a device that runs already
# (the lwIP example over a tap link) instead of starting telemetry; the
# other flags are then ignored. HUB_STANDIN_SKIP lists event names not
# relayed (default "message": telemetry's per-connection "hello").
set -u

me=standin_uplink
here=$(cd "$(dirname "$0")" && pwd)
telemetry=${HUB_TELEMETRY:-$here/../../build/bin/telemetry}
giveup_s=${HUB_STANDIN_GIVEUP_S:-120}

url="" token="" ca=""
targs=()
while [ $# -gt 0 ]; do
    case "$1" in
    --uplink | --uplink-token | --uplink-ca)
        [ $# -ge 2 ] || { echo "$me: $1 needs a value" >&2; exit 2; }
        case "$1" in
        --uplink) url=$2 ;;
        --uplink-token) token=$2 ;;
        --uplink-ca) ca=$2 ;;
        esac
        shift 2 ;;
    *) targs+=("$1"); shift ;;
    esac
done
case "$url" in
http://* | https://*) ;;
*) echo "$me: --uplink needs an http:// or https:// URL (got '$url')" >&2; exit 2 ;;
esac
[ -z "$ca" ] || [ -r "$ca" ] || { echo "$me: --uplink-ca: cannot read $ca" >&2; exit 2; }

post_args=(-s -o /dev/null -w '%{http_code}' --connect-timeout 2 --max-time 3
    -H 'Content-Type: text/plain' --data-binary @-)
[ -n "$token" ] && post_args+=(-H "Authorization: Bearer $token")
[ -n "$ca" ] && post_args+=(--cacert "$ca")

out=$(mktemp "${TMPDIR:-/tmp}/hub-standin.XXXXXX") || exit 1
tele="" stream=""
posted=0 resent=0 ambiguous=0 gave_up=0 cursor=0 stopping=0
# shellcheck disable=SC2317 # reached from the EXIT trap
finish() {
    [ -n "$stream" ] && kill -TERM "$stream" 2>/dev/null
    if [ -n "$tele" ]; then
        kill -TERM "$tele" 2>/dev/null
        for _ in $(seq 1 80); do
            kill -0 "$tele" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$tele" 2>/dev/null
        wait "$tele" 2>/dev/null
    fi
    rm -f "$out"
    echo "uplink posted=$posted resent=$resent ambiguous=$ambiguous gave_up=$gave_up cursor=$cursor"
}
trap finish EXIT
trap 'stopping=1' TERM INT

skip=" ${HUB_STANDIN_SKIP-message} "
stream_url=${HUB_STANDIN_STREAM:-}
if [ -z "$stream_url" ]; then
    [ -x "$telemetry" ] || { echo "$me: no telemetry at $telemetry (make)" >&2; exit 1; }
    "$telemetry" "${targs[@]}" >"$out" 2>&1 &
    tele=$!
    local_url=""
    for _ in $(seq 1 50); do
        local_url=$(sed -n 's|^telemetry: \(http://[^ ]*/\) .*|\1|p' "$out" | head -n 1)
        [ -n "$local_url" ] && break
        kill -0 "$tele" 2>/dev/null || break
        sleep 0.1
    done
    cat "$out"
    if [ -z "$local_url" ]; then
        echo "$me: telemetry did not start" >&2
        exit 1
    fi
    stream_url="${local_url}events?ch=load,mem,clients"
fi

# post NAME DATA: until 2xx, the give-up time, or a stop signal.
post() {
    local name=$1 data=$2 tries=0 code rc end
    end=$((SECONDS + giveup_s))
    while [ "$stopping" -eq 0 ]; do
        tries=$((tries + 1))
        code=$(printf '%s' "$data" | curl "${post_args[@]}" -H "X-EventSource-Event: $name" "$url")
        rc=$?
        if [ "$rc" -eq 0 ] && [ "${code:0:1}" = 2 ]; then
            posted=$((posted + 1))
            [ "$tries" -gt 1 ] && resent=$((resent + 1))
            return 0
        fi
        case "$rc" in 28 | 52 | 55 | 56 | 92) ambiguous=$((ambiguous + 1)) ;; esac
        if [ "$SECONDS" -ge "$end" ]; then
            echo "$me: gave up on an event after $tries tries (last: curl exit $rc, HTTP $code)" >&2
            gave_up=$((gave_up + 1))
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# The relay: one local stream at a time, resumed from the cursor.
for _ in $(seq 1 1000); do
    [ "$stopping" -eq 0 ] || break
    [ -z "$tele" ] || kill -0 "$tele" 2>/dev/null || break
    exec 3< <(exec curl -sN --connect-timeout 2 --max-time 3600 -H 'Accept: text/event-stream' \
        -H "Last-Event-ID: $cursor" "$stream_url")
    stream=$!
    name="" id="" data="" have_data=0 partial=""
    while [ "$stopping" -eq 0 ]; do
        IFS= read -r -t 1 -u 3 line
        rc=$?
        if [ "$rc" -gt 128 ]; then # timed out: keep what came of the line
            partial+=$line
            continue
        fi
        [ "$rc" -eq 0 ] || break # the stream ended
        line=${partial}${line%$'\r'}
        partial=""
        case "$line" in
        "")
            # telemetry's "message: hello" comes from a timer of this
            # connection (sse_send_to), not from sse_publish: not relayed.
            if [ -n "$id" ] && [ "$have_data" -eq 1 ]; then
                case "$skip" in
                *" ${name:-message} "*) ;;
                *) post "${name:-message}" "$data" || break ;;
                esac
                cursor=$id
            fi
            name="" id="" data="" have_data=0 ;;
        event:*) name=${line#event:}; name=${name# } ;;
        id:*) id=${line#id:}; id=${id# } ;;
        data:*)
            v=${line#data:}
            v=${v# }
            if [ "$have_data" -eq 1 ]; then data+=$'\n'$v; else data=$v; fi
            have_data=1 ;;
        esac
    done
    exec 3<&-
    kill -TERM "$stream" 2>/dev/null
    wait "$stream" 2>/dev/null
    stream=""
    [ "$stopping" -eq 0 ] && sleep 0.2
done
exit 0
