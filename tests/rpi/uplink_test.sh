#!/bin/bash
# Checks ssedge-rpi's --uplink through the real path: a small hub on
# loopback (Python's http.server recording every POST) receives the daemon's
# "stats" events over sse_uplink, with their data, event name and bearer
# token, the same events a local stream gets; and the uplink flags refused
# on one line: --uplink-token or --uplink-ca without --uplink (exit 2), a
# URL that is not http[s]://HOST[:PORT]/PATH (exit 1).
#
# Usage: tests/rpi/uplink_test.sh [BIN_DIR]   (default build/gcc/bin; uses BIN_DIR/ssedge-rpi)
# Env:   KEEP_TMP=1 keeps the temp dir (logs, the hub's record)
# Needs: curl, python3, bash >= 4.
#
# Everything listens on 127.0.0.1 on ports the OS picks; every process
# started here is stopped by its PID on exit; every wait is bounded (about
# 15 s in all).
set -u
export LC_ALL=C

BIN=${1:-build/gcc/bin}
DAEMON=$BIN/ssedge-rpi
TOKEN=uplink-test-token-0123456789

SUITE=rpi-uplink # common.sh: the summary line
# shellcheck source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh" # checks, pids, TMP, cleanup
trap 'exit 130' INT TERM

[ -x "$DAEMON" ] || bail "daemon built ($DAEMON missing: make BUILD=${BIN%/bin} ${BIN%/bin}/bin/ssedge-rpi)"
command -v curl >/dev/null 2>&1 || bail "curl is installed"
command -v python3 >/dev/null 2>&1 || bail "python3 is installed"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-rpi-uplink.XXXXXX") || bail "mktemp -d"

# wait_for SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_for() {
    local i n=$(($1 * 10))
    shift
    for ((i = 0; i < n; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# A board's /sys and /proc (--root): the events carry these values, and no
# warning about a missing thermal zone mixes with the lines checked below.
R=$TMP/root
mkdir -p "$R/sys/class/thermal/thermal_zone0" "$R/proc" || bail "mkdir $R"
echo cpu-thermal >"$R/sys/class/thermal/thermal_zone0/type"
echo 48312 >"$R/sys/class/thermal/thermal_zone0/temp"
echo "0.25 0.50 0.75 1/100 4242" >"$R/proc/loadavg"
printf 'MemTotal:        3884328 kB\nMemFree:          100000 kB\nMemAvailable:    2000000 kB\n' \
    >"$R/proc/meminfo"
echo "12345.67 20000.00" >"$R/proc/uptime"

# ---------------------------------------------------------------- the hub
# One JSON line per POST (tests/lib/record_hub.py): path, the two headers
# the uplink sends, the body.
record_hub posts || bail "the hub listens ($(head -c 300 "$TMP/posts.hub"))"

# ---------------------------------------------------------------- forwarding
"$DAEMON" --port 0 --bind 127.0.0.1 --root "$R" --interval-ms 200 \
    --uplink "http://127.0.0.1:$HUB_PORT/pub/board" --uplink-token "$TOKEN" \
    2>"$TMP/daemon.log" &
DPID=$!
pids+=("$DPID")
daemon_port() {
    PORT=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' "$TMP/daemon.log")
    [ -n "$PORT" ]
}
wait_for 10 daemon_port || bail "ssedge-rpi --uplink serves ($(head -c 300 "$TMP/daemon.log"))"
grep -q "serving .*uplink to http://127.0.0.1:$HUB_PORT/pub/board" "$TMP/daemon.log"
check $? "the start line names the uplink"

# A local stream for about 1.5 s: its events must reach the hub too.
curl -sN --max-time 1.5 -H 'Accept: text/event-stream' "http://127.0.0.1:$PORT/events" \
    >"$TMP/stream.txt" 2>/dev/null
sed -n 's/^data: //p' "$TMP/stream.txt" >"$TMP/stream.data"
[ -s "$TMP/stream.data" ]
check $? "a local stream got stats events ($(wc -l <"$TMP/stream.data") in 1.5 s)"

# Every event the stream got, POSTed to the hub (it may lag a little).
all_posted() {
    python3 - "$TMP/posts.jsonl" "$TMP/stream.data" <<'PY'
import json, sys
posted = {json.loads(l)["data"] for l in open(sys.argv[1]) if l.strip()}
want = [l.rstrip("\n") for l in open(sys.argv[2]) if l.strip()]
sys.exit(0 if want and all(w in posted for w in want) else 1)
PY
}
wait_for 5 all_posted
check $? "each of the stream's events reached the hub with the same data"

python3 - "$TMP/posts.jsonl" "$TOKEN" >"$TMP/verdict.txt" <<'PY'
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bad = []
for p in posts:
    try:
        d = json.loads(p["data"])
        keys = set(d)
    except ValueError:
        keys = set()
    if p["path"] != "/pub/board": bad.append("path " + p["path"])
    if p["auth"] != "Bearer " + sys.argv[2]: bad.append("auth %r" % p["auth"])
    if p["event"] != "stats": bad.append("event %r" % p["event"])
    if keys != {"temp_c", "load", "mem", "uptime_s"} or d["temp_c"] != 48.3 or \
       d["load"] != [0.25, 0.5, 0.75] or d["mem"]["total_kb"] != 3884328:
        bad.append("data %r" % p["data"][:80])
print(len(posts), "; ".join(bad[:3]))
sys.exit(0 if len(posts) >= 3 and not bad else 1)
PY
check $? "POSTs to /pub/board carry event stats, the board's JSON and the Bearer token ($(cat "$TMP/verdict.txt") POSTs)"

kill -TERM "$DPID"
wait_for 5 eval '! kill -0 "$DPID" 2>/dev/null'
wait "$DPID"
check $? "SIGTERM with the uplink running: exit 0"

# ---------------------------------------------------------------- refusals
# refused STATUS PATTERN ARGS...: exits STATUS, nothing on stdout, and
# exactly one line of its own on stderr matching PATTERN (the library's
# "<3>ssedge: uplink: ..." line saying why may come before it).
refused() {
    local want=$1 pattern=$2 rc own
    shift 2
    timeout 10 "$DAEMON" --port 0 --bind 127.0.0.1 --root "$R" "$@" >"$TMP/bad.out" 2>"$TMP/bad.err"
    rc=$?
    own=$(grep -v -e '^<[0-9]>ssedge: ' -e '^<6>ssedge-rpi: CPU temperature from ' "$TMP/bad.err")
    [ "$rc" -eq "$want" ] && [ ! -s "$TMP/bad.out" ] && [ "$(printf '%s\n' "$own" | wc -l)" -eq 1 ] &&
        grep -q -- "$pattern" <<<"$own"
    check $? "$* -> exit $want ($rc): $(head -c 160 <<<"$own")"
}
refused 2 '^ssedge-rpi: --uplink-token: needs --uplink too$' --uplink-token "$TOKEN"
refused 2 '^ssedge-rpi: --uplink-ca: needs --uplink too$' --uplink-ca ca.pem
refused 2 '^ssedge-rpi: --uplink: needs a value' --uplink
refused 1 '^<3>ssedge-rpi: --uplink ftp://127.0.0.1/pub: ' --uplink ftp://127.0.0.1/pub
grep -q 'ftp://127.0.0.1/pub.* is not http\[s\]://HOST\[:PORT\]/PATH' "$TMP/bad.err"
check $? "the bad URL's reason is logged: $(grep -m1 '^<3>ssedge: ' "$TMP/bad.err" | head -c 120)"
refused 1 '^<3>ssedge-rpi: --uplink http://127.0.0.1:99999/pub: ' --uplink http://127.0.0.1:99999/pub

"$DAEMON" --help >"$TMP/help.out" 2>&1
grep -q '^    --uplink URL$' "$TMP/help.out" && grep -q '^    --uplink-token TOKEN$' "$TMP/help.out" &&
    grep -q '^    --uplink-ca PEM$' "$TMP/help.out"
check $? "--help documents --uplink, --uplink-token and --uplink-ca"

summary
[ "$failed" -eq 0 ]
