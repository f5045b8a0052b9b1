#!/bin/bash
# Checks the ssedge-rpi daemon (examples/rpi-daemon) from the outside with
# curl: JSON "stats" events with the four fields at about 1 Hz, values read
# from a fake /sys and /proc, the dashboard page, journald-style log lines,
# SIGTERM/SIGINT ending the streams and the process with exit code 0, and
# --token, --cors-origin, --stats (JSON and Prometheus text).
#
# Usage: tests/rpi/daemon_test.sh [BIN_DIR]   (default build/rpi-host/bin; uses BIN_DIR/ssedge-rpi)
# Env:   WRAP  command that runs the binary, e.g. "qemu-aarch64" for a cross
#              build (tests/rpi/qemu_test.sh sets it); empty = run it directly
#        NAME  label of the summary line (default rpi-daemon)
#        KEEP_TMP=1 keeps the temp dir (logs, streams)
# Needs: curl, python3 (to read the JSON), bash >= 5.
#
# Listens on 127.0.0.1 only, on a port the OS picks (--port 0, read back from
# the daemon's log). Every process started here is stopped by its PID on
# exit; every wait is bounded (about 20 s in all, 30 s under qemu).
set -u
export LC_ALL=C

BIN=${1:-build/rpi-host/bin}
DAEMON=$BIN/ssedge-rpi
WRAP=${WRAP:-}
NAME=${NAME:-rpi-daemon}
WINDOW_S=4.5               # a stream is read this long: 1 Hz gives 4 or 5 events

SUITE=$NAME # the summary line
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh" # checks, pids, TMP, cleanup, waits

[ -x "$DAEMON" ] || bail "daemon built ($DAEMON missing: make BUILD=${BIN%/bin} ${BIN%/bin}/bin/ssedge-rpi)"
command -v curl >/dev/null 2>&1 || bail "curl is installed"
command -v python3 >/dev/null 2>&1 || bail "python3 is installed"
[ "${BASH_VERSINFO[0]}" -ge 5 ] || bail "bash >= 5 (EPOCHREALTIME)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-rpi.XXXXXX") || bail "mktemp -d"

# start NAME ARGS...: runs the daemon on a port the OS picks; sets PID and
# PORT from its "serving http://127.0.0.1:PORT/" log line.
# shellcheck disable=SC2086 # WRAP is a word list
start() { serve "$1" $WRAP "$DAEMON" --port 0 --bind 127.0.0.1 "${@:2}"; }
# stream NAME PORT SECONDS: curl reads /events; a reader stamps each line with
# its arrival time into $TMP/NAME.lines; STREAM_PID is curl's.
stream() { stamp_stream "$1" 30 --max-time "$3" "http://127.0.0.1:$2/events"; }
# events NAME: one line per "stats" event: "ARRIVAL ID DATA"
events() {
    awk '$2 == "event:" { ev = $3 } $2 == "id:" { id = $3 }
         $2 == "data:" && ev == "stats" { d = $0; sub(/^[^ ]+ data: /, "", d); print $1, id, d }
         NF == 1 { ev = ""; id = "" }' "$TMP/$1.lines"
}
# Checks each event's JSON; prints "N RATE_OK IDS_OK FIELDS_OK TEMP_KIND MEDIAN_GAP".
# TEMP_KIND: null (all null), number (all numbers) or mixed.
analyze() {
    events "$1" | python3 -c '
import json, sys
rows = [l.split(" ", 2) for l in sys.stdin if l.strip()]
n = len(rows)
ids = [int(r[1]) for r in rows if r[1].isdigit()]
ids_ok = len(ids) == n and all(b > a for a, b in zip(ids, ids[1:]))
fields_ok, kinds = n > 0, set()
for r in rows:
    try:
        d = json.loads(r[2])
    except ValueError:
        fields_ok = False
        continue
    ok = sorted(d) == ["load", "mem", "temp_c", "uptime_s"]
    ok = ok and isinstance(d["load"], list) and len(d["load"]) == 3 \
        and all(isinstance(v, (int, float)) and v >= 0 for v in d["load"])
    m = d.get("mem") or {}
    ok = ok and sorted(m) == ["available_kb", "total_kb"] and 0 <= m["available_kb"] <= m["total_kb"] \
        and m["total_kb"] > 0
    ok = ok and isinstance(d["uptime_s"], (int, float)) and d["uptime_s"] > 0
    fields_ok = fields_ok and ok
    kinds.add("null" if d.get("temp_c") is None else
              "number" if isinstance(d.get("temp_c"), (int, float)) else "bad")
gaps = sorted(float(b[0]) - float(a[0]) for a, b in zip(rows, rows[1:]))
med = gaps[len(gaps) // 2] if gaps else -1
kind = kinds.pop() if len(kinds) == 1 else "mixed"
print(n, int(0.7 <= med <= 1.3), int(ids_ok), int(fields_ok), kind, "%.3f" % med)
'
}

# ---------------------------------------------------------------- the real /sys and /proc
start real || bail "ssedge-rpi starts and logs its port (${WRAP:-native})"
REAL_PID=$PID
REAL_PORT=$PORT
ok "ssedge-rpi serves on 127.0.0.1:$REAL_PORT (OS-chosen port${WRAP:+, under $WRAP})"

stream real "$REAL_PORT" "$WINDOW_S"
wait "$STREAM_PID"
RC=$?
is_sse_200 real
check $? "GET /events with Accept: text/event-stream: 200, Content-Type: text/event-stream"
[ "$RC" -eq 28 ]
check $? "the stream stays open for ${WINDOW_S} s (curl exit $RC, want 28)"
read -r N RATE IDS FIELDS KIND GAP <<<"$(analyze real)"
[ "${N:-0}" -ge 3 ] && [ "$N" -le 6 ]
check $? "$N stats events in ${WINDOW_S} s at the default interval (want 3..6)"
[ "${RATE:-0}" -eq 1 ]
check $? "about 1 Hz: median gap $GAP s (want 0.7..1.3)"
[ "${IDS:-0}" -eq 1 ]
check $? "every event has an id:, increasing"
[ "${FIELDS:-0}" -eq 1 ]
check $? "JSON with exactly temp_c, load[3], mem{total_kb,available_kb}, uptime_s"
if compgen -G "/sys/class/thermal/thermal_zone*/temp" >/dev/null; then
    [ "$KIND" = number ]
    check $? "temp_c is a number (this machine has a thermal zone; got $KIND)"
else
    [ "$KIND" = null ]
    check $? "temp_c is null (no thermal zone on this machine; got $KIND)"
    n=$(grep -c 'no thermal zone' "$TMP/real.log")
    [ "$n" -eq 1 ]
    check $? "the missing thermal zone is logged once ($n times)"
fi
[ "${FIELDS:-0}" -eq 1 ] || events real | head -3 | sed 's/^/# /'

# The dashboard.
body=$(timeout 10 curl -s --max-time 5 -D "$TMP/page.headers" "http://127.0.0.1:$REAL_PORT/")
r=1
tr -d '\r' <"$TMP/page.headers" | grep -qi '^content-type: text/html' &&
    grep -q '^HTTP/1.1 200' "$TMP/page.headers" && [[ $body == *'<script src="app.js">'* ]] && r=0
check $r "GET / serves the dashboard page (200 text/html loading app.js)"
js=$(timeout 10 curl -s --max-time 5 "http://127.0.0.1:$REAL_PORT/app.js")
r=1
[[ $js == *"new EventSource('/events'"* ]] && [[ $js == *"addEventListener('stats'"* ]] && r=0
check $r "GET /app.js: the page's EventSource on /events listening for stats"
gz=$(timeout 10 curl -s --max-time 5 --compressed -D "$TMP/gz.headers" "http://127.0.0.1:$REAL_PORT/")
r=1
tr -d '\r' <"$TMP/gz.headers" | grep -qi '^content-encoding: gzip' && [ "$gz" = "$body" ] && r=0
check $r "the page is served gzip-encoded when accepted, same content"
code=$(timeout 10 curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REAL_PORT/nope")
[ "$code" = 404 ]
check $? "another path: 404 (got $code)"

# SIGTERM while a client streams: its response ends, the daemon exits 0.
stream term "$REAL_PORT" 20
wait_until 50 grep -qs ' id: ' "$TMP/term.lines" # the first event arrived
stop "$REAL_PID" TERM
[ "$RC" -eq 0 ]
check $? "SIGTERM: exit code $RC in $STOP_S s (want 0, within 5 s)"
wait_exit "$STREAM_PID" 2.5 # for curl to see the end
[ "$RC" -eq 0 ]
check $? "SIGTERM: the client's stream ended cleanly (curl exit $RC $STOP_S s later, want 0)"
grep -q 'ssedge-rpi: SIGTERM: stopping' "$TMP/real.log" && grep -q 'ssedge-rpi: stopped' "$TMP/real.log"
check $? "SIGTERM: 'stopping' and 'stopped' logged"

# ---------------------------------------------------------------- a fake /sys and /proc
R=$TMP/root
mkdir -p "$R/sys/class/thermal/thermal_zone0" "$R/sys/class/thermal/thermal_zone1" "$R/proc"
echo gpu-thermal >"$R/sys/class/thermal/thermal_zone0/type"
echo 40000 >"$R/sys/class/thermal/thermal_zone0/temp"
echo cpu-thermal >"$R/sys/class/thermal/thermal_zone1/type"
echo 48312 >"$R/sys/class/thermal/thermal_zone1/temp"
echo "0.25 0.50 0.75 1/123 4567" >"$R/proc/loadavg"
printf 'MemTotal:         948304 kB\nMemFree:          100000 kB\nMemAvailable:     512000 kB\n' \
    >"$R/proc/meminfo"
echo "12345.67 20000.00" >"$R/proc/uptime"
WANT='{"temp_c":48.3,"load":[0.25,0.50,0.75],"mem":{"total_kb":948304,"available_kb":512000},"uptime_s":12346}'

if start fake --interval-ms 200 --root "$R"; then
    FAKE_PID=$PID
    grep -q "CPU temperature from $R/sys/class/thermal/thermal_zone1/temp" "$TMP/fake.log"
    check $? "--root: picks the zone of type cpu-thermal (thermal_zone1)"
    stream fake1 "$PORT" 1.5
    wait "$STREAM_PID"
    got=$(events fake1 | tail -1 | cut -d' ' -f3-)
    [ "$got" = "$WANT" ]
    check $? "--root: the event carries the fake values exactly"
    [ "$got" = "$WANT" ] || echo "# got  $got"$'\n'"# want $WANT"
    # The zone becomes unreadable: null, logged once.
    rm "$R/sys/class/thermal/thermal_zone1/temp"
    sleep 0.5
    stream fake2 "$PORT" 1.2
    wait "$STREAM_PID"
    got=$(events fake2 | tail -1 | cut -d' ' -f3-)
    n=$(grep -c 'cannot read' "$TMP/fake.log")
    [[ $got == '{"temp_c":null,'* ]] && [ "$n" -eq 1 ]
    check $? "an unreadable zone: temp_c null, logged once ($n times)"
    stop "$FAKE_PID" INT
    [ "$RC" -eq 0 ]
    check $? "SIGINT: exit code $RC in $STOP_S s (want 0)"
    LOGS="$TMP/real.log $TMP/fake.log"
else
    not_ok "ssedge-rpi starts with --root"
    LOGS="$TMP/real.log"
fi

# ---------------------------------------------------------------- --token, --stats, --cors-origin
TOK=rpi-0123456789abcdef
if start guarded --token "$TOK" --stats /stats --cors-origin http://dash.test; then
    G_PID=$PID
    code=$(timeout 10 curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
        -H 'Accept: text/event-stream' "http://127.0.0.1:$PORT/events")
    [ "$code" = 401 ]
    check $? "--token: a stream without it: 401 ($code)"
    timeout 10 curl -sN --max-time 2.5 -D "$TMP/tok.headers" -H 'Accept: text/event-stream' \
        -H 'Origin: http://dash.test' "http://127.0.0.1:$PORT/events?token=$TOK" >"$TMP/tok.out"
    tr -d '\r' <"$TMP/tok.headers" | grep -qx 'Access-Control-Allow-Origin: http://dash.test' &&
        grep -q '^event: stats' "$TMP/tok.out"
    check $? "--token with ?token= streams stats; --cors-origin echoes the allowed origin"
    code=$(timeout 10 curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/stats")
    [ "$code" = 401 ]
    check $? "--stats behind --token: 401 without it ($code)"
    timeout 10 curl -s --max-time 5 -H "Authorization: Bearer $TOK" \
        "http://127.0.0.1:$PORT/stats" >"$TMP/stats.json"
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["event_last_id"] >= 1 and d["auth_failures"] >= 1 and
         d["connections_accepted"] >= 3 else 1)' "$TMP/stats.json"
    check $? "--stats: JSON ($(head -c 90 "$TMP/stats.json")...)"
    timeout 10 curl -s --max-time 5 -D "$TMP/prom.headers" -H "Authorization: Bearer $TOK" \
        -H 'Accept: text/plain; version=0.0.4' "http://127.0.0.1:$PORT/stats" >"$TMP/stats.prom"
    tr -d '\r' <"$TMP/prom.headers" | grep -qi '^content-type: text/plain; version=0.0.4' &&
        grep -qx '# TYPE ssedge_auth_failures_total counter' "$TMP/stats.prom" &&
        grep -Eqx 'ssedge_streams_active [0-9]+' "$TMP/stats.prom"
    check $? "--stats with Accept: text/plain; version=0.0.4: Prometheus text"
    stop "$G_PID" TERM
    [ "$RC" -eq 0 ]
    check $? "SIGTERM: exit code $RC (want 0)"
    LOGS="$LOGS $TMP/guarded.log"
else
    not_ok "ssedge-rpi starts with --token --stats --cors-origin"
fi

# journald: every line "<N>ident: message", no timestamps (a line about a
# client starts with its address).
# shellcheck disable=SC2086
bad=$(grep -hEv '^<[0-7]>ssedge(-rpi)?: ([^0-9[]|[0-9.]+:[0-9]+: |\[[0-9a-f:]+\]:[0-9]+: )' $LOGS | head -3)
[ -z "$bad" ]
check $? "every log line is '<priority>ssedge-rpi: message' (journald)"
[ -z "$bad" ] || echo "#   ${bad//$'\n'/$'\n#   '}"

summary
[ $failed -eq 0 ]
