#!/bin/bash
# SPDX-License-Identifier: MIT
# The ssedge command (tools/ssedge) from the outside, with curl: a shell
# counter's lines arrive once each, in order, with ids, and resume by
# Last-Event-ID; --sse records (named events, multi-line data) with the
# malformed ones skipped and logged; plain lines with the refused ones
# logged; stdin; --restart with its back-off; CMD's exit status, signal and
# stderr in the log; SIGTERM leaving no process of CMD's group behind (also
# one that ignores SIGTERM); POST /publish through the command; --stats as
# JSON and Prometheus text; --token; --uplink to a recording hub; the
# dashboard served from the binary;
# with a TLS build, --cert/--key of ssedge and ssedge-rpi over https.
#
# Usage: tests/ssedge/cmd_test.sh [BIN_DIR [TLS_BIN_DIR]]
#        (default build/bin; uses BIN_DIR/ssedge; TLS_BIN_DIR: a CONFIG_SSE_TLS
#        build's ssedge and ssedge-rpi, e.g. build/tls/bin; skipped when absent)
# Env:   WRAP   command that runs the binary, e.g. "qemu-aarch64" (tests/rpi/qemu_test.sh)
#        NAME   label of the summary line (default ssedge)
#        QUICK=1  leaves out the 5 s grace-period case (under qemu)
#        KEEP_TMP=1 keeps the temp dir (logs, streams)
# Needs: curl, python3, pgrep, bash >= 5.
# Last line: "NAME: N passed, M failed". Listens on 127.0.0.1 only, on ports
# the OS picks; every wait is bounded (about 40 s in all, less with QUICK).
set -u
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2

BIN=${1:-build/bin}
TLS_BIN=${2:-}
SSEDGE=$BIN/ssedge
WRAP=${WRAP:-}
NAME=${NAME:-ssedge}
QUICK=${QUICK:-}
PUB=pub-0123456789abcdef
TOK=tok-0123456789abcdef

SUITE=$NAME # the summary line
# shellcheck source=tests/lib/common.sh
. tests/lib/common.sh # checks, pids, TMP, cleanup, waits, stop, serve

[ -x "$SSEDGE" ] || bail "ssedge built ($SSEDGE missing: make ${BIN%/bin}/bin/ssedge)"
for c in curl python3 pgrep; do
    command -v $c >/dev/null 2>&1 || bail "$c is installed"
done
[ "${BASH_VERSINFO[0]}" -ge 5 ] || bail "bash >= 5 (EPOCHREALTIME)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-cmd.XXXXXX") || bail "mktemp -d"

# start NAME ARGS...: ssedge on 127.0.0.1, a port the OS picks, stdin from
# $STDIN (default /dev/null); sets PID and PORT (from its "serving" line).
# shellcheck disable=SC2086 # WRAP is a word list
start() { serve "$1" $WRAP "$SSEDGE" --port 0 --bind 127.0.0.1 "${@:2}"; }
# in_log NAME PATTERN [N]: ssedge's log has N (1) lines matching PATTERN
in_log() { [ "$(grep -c -- "$2" "$TMP/$1.log")" -ge "${3:-1}" ]; }
# events FILE: one line per event: "ID EVENT DATA" (data lines joined by \n)
events() {
    tr -d '\r' <"$1" | awk '
        /^id: / { id = substr($0, 5) } /^event: / { ev = substr($0, 8) }
        /^data: / { d = (hd ? d "\\n" : "") substr($0, 7); hd = 1 }
        /^$/ { if (hd) print id, (ev == "" ? "message" : ev), d; id = ""; ev = ""; d = ""; hd = 0 }'
}
# replay NAME PORT [LAST_ID] [SECONDS] [QUERY]: what a resuming client gets
replay() {
    timeout 20 curl -sN --max-time "${4:-1}" -H 'Accept: text/event-stream' \
        -H "Last-Event-ID: ${3:-0}" "http://127.0.0.1:$2/events${5:-}" >"$TMP/$1.sse" 2>/dev/null
    events "$TMP/$1.sse" >"$TMP/$1.ev"
}
# pgid_of NAME: the process group of the CMD ssedge started (from its log)
pgid_of() { sed -n 's/.*started .* (pid \([0-9][0-9]*\)).*/\1/p' "$TMP/$1.log" | tail -1; }
# group_empty PGID: no process of that group runs. ssedge reaps what CMD
# leaves (it is their subreaper), so natively none is left at all; under
# qemu-user, which does not pass prctl(PR_SET_CHILD_SUBREAPER) on, killed
# ones wait as zombies for init to reap them (and some sandboxes' init
# never does): dead, so they count as gone there.
group_empty() {
    local p st
    for p in $(pgrep -g "$1" 2>/dev/null); do
        st=$(ps -o stat= -p "$p" 2>/dev/null)
        [ -z "$st" ] && continue
        [ -n "$WRAP" ] && [ "${st:0:1}" = Z ] && continue
        return 1
    done
    return 0
}
stat_of() { # stat_of PORT FIELD: a number from /stats (JSON)
    timeout 10 curl -s --max-time 5 "http://127.0.0.1:$1/stats" |
        python3 -c "import json,sys; print(json.load(sys.stdin).get('$2', 'none'))" 2>/dev/null
}
stat_is() { [ "$(stat_of "$1" "$2")" = "$3" ]; } # stat_is PORT FIELD VALUE

# ------------------------------------------------------------ a shell counter
# It waits for $TMP/go, so the client is connected before the first line.
N=50
COUNTER='while [ ! -e "$0" ]; do sleep 0.02; done
i=1; while [ $i -le '$N' ]; do echo "count $i"; i=$((i+1)); sleep 0.01; done
echo "counter done" >&2; sleep 300'
if start counter --stats /stats -- sh -c "$COUNTER" "$TMP/go"; then
    CPID=$PID
    ok "ssedge -- sh -c COUNTER serves on 127.0.0.1:$PORT${WRAP:+ (under $WRAP)}"
    timeout 30 curl -sN --max-time 15 -D "$TMP/live.headers" -H 'Accept: text/event-stream' \
        "http://127.0.0.1:$PORT/events" >"$TMP/live.sse" 2>/dev/null &
    CURL=$!
    pids+=("$CURL")
    wait_until 100 stat_is "$PORT" streams_active 1 # the stream is registered
    touch "$TMP/go"
    wait_until 150 grep -qs "^data: count $N\$" "$TMP/live.sse" # the last line came
    kill "$CURL" 2>/dev/null
    wait "$CURL" 2>/dev/null
    events "$TMP/live.sse" >"$TMP/live.ev"
    tr -d '\r' <"$TMP/live.headers" | grep -qi '^content-type: text/event-stream'
    check $? "curl /events: 200 text/event-stream"
    awk -v n=$N '{ if ($3 != "count" || $4 != NR || $2 != "message") bad = 1
                   if (NR > 1 && $1 != prev + 1) bad = 1; prev = $1 }
                 END { exit !(NR == n && !bad) }' "$TMP/live.ev"
    check $? "every one of $N lines arrived once, in order, one event each with consecutive ids ($(wc -l <"$TMP/live.ev") events, ids $(head -1 "$TMP/live.ev" | cut -d' ' -f1)..$(tail -1 "$TMP/live.ev" | cut -d' ' -f1))"
    FROM=$(awk 'NR == 20 { print $1 }' "$TMP/live.ev")
    replay resume "$PORT" "${FROM:-0}"
    awk -v n=$N '{ if ($4 != NR + 20) bad = 1 } END { exit !(NR == n - 20 && !bad) }' "$TMP/resume.ev"
    check $? "Last-Event-ID: $FROM (line 20) replays lines 21..$N exactly ($(wc -l <"$TMP/resume.ev") events, first: $(head -1 "$TMP/resume.ev"))"
    grep -q "ssedge: sh\[[0-9]*\]: counter done" "$TMP/counter.log"
    check $? "CMD's stderr line is in ssedge's log: $(grep -m1 'counter done' "$TMP/counter.log")"
    v=$(stat_of "$PORT" input_lines)
    [ "$v" = $N ] && [ "$(stat_of "$PORT" input_events)" = $N ]
    check $? "--stats: input_lines and input_events are $N (got $v)"
    PG=$(pgid_of counter)
    stop "$CPID" TERM
    [ "$RC" -eq 0 ]
    check $? "SIGTERM: exit 0 in $STOP_S s (got $RC)"
    grep -q "stopping: SIGTERM to sh (process group $PG)" "$TMP/counter.log" &&
        grep -q "was killed by signal 15 (Terminated)" "$TMP/counter.log"
    check $? "SIGTERM: the stop and CMD's signal are logged"
    [ -n "$PG" ] && group_empty "$PG"
    check $? "SIGTERM: nothing left of CMD's process group ${PG:-?} (sh and its sleep)"
else
    not_ok "ssedge -- sh -c COUNTER starts"
fi

# ------------------------------------------------------------ --sse records
cat >"$TMP/records.sh" <<'EOF'
#!/bin/sh
printf 'event: temp\ndata: 21.5\n\n'
printf ': a comment\n\n'
printf 'event: note\ndata: line one\ndata: line two\n\n'
printf 'id: 99\nretry: 5\ndata: ids are ours\n\n'
printf 'temp 22\ndata: forgot the field name\n\n'
printf 'event: bad\ndata: \377\376\n\n'
printf 'event: lonely\n\n'
printf 'data: %s\n\n' "$(head -c 2000 /dev/zero | tr '\0' x)"
printf 'event: crlf\r\ndata: windows\r\n\r\n'
printf 'data: after\n\n'
printf 'event: tail\ndata: no blank line at the end\n'
EOF
chmod +x "$TMP/records.sh"
if start sse --sse --linger --stats /stats -- "$TMP/records.sh"; then
    wait_until 50 in_log sse 'serving until SIGTERM'
    replay sse "$PORT"
    want=$'1 temp 21.5\n2 note line one\\nline two\n3 message ids are ours\n4 crlf windows\n5 message after'
    [ "$(cat "$TMP/sse.ev")" = "$want" ]
    check $? "--sse: 5 good records, named, multi-line, CRLF, in order with ids 1..5"
    [ "$(cat "$TMP/sse.ev")" = "$want" ] || sed 's/^/#   got: /' "$TMP/sse.ev"
    miss=""
    for w in "not an SSE field" "refused by the framer (not UTF-8)" "no data: line: skipped" \
             "a line longer than one event may be" "input ended inside a record" \
             "id: and retry: lines are ignored"; do
        grep -qF "$w" "$TMP/sse.log" || miss="$miss [$w]"
    done
    [ -z "$miss" ]
    check $? "--sse: each malformed record is logged and skipped${miss:+ (missing:$miss)}"
    v=$(stat_of "$PORT" input_skipped)
    [ "$v" = 5 ] && [ "$(stat_of "$PORT" input_events)" = 5 ]
    check $? "--sse: input_skipped 5 ($v), input_events 5"
    stop "$PID" TERM
    [ "$RC" -eq 0 ]
    check $? "--sse --linger: SIGTERM, exit 0 ($RC)"
else
    not_ok "ssedge --sse starts"
fi

# ------------------------------------------------------------ plain lines
cat >"$TMP/lines.sh" <<'EOF'
#!/bin/sh
printf 'a\n\nb\r\n'
head -c 1500 /dev/zero | tr '\0' y; echo
printf 'bad \377\n'
printf 'c'
EOF
chmod +x "$TMP/lines.sh"
if start lines --event reading --linger -- "$TMP/lines.sh"; then
    wait_until 50 in_log lines 'serving until SIGTERM'
    replay lines "$PORT"
    [ "$(cat "$TMP/lines.ev")" = $'1 reading a\n2 reading b\n3 reading c' ]
    check $? "plain lines with --event: a, b (CR stripped), c (no final LF); empty line skipped"
    grep -q 'line 4: longer than 1024 bytes, the largest event' "$TMP/lines.log" &&
        grep -q 'line 5: refused by the framer (not UTF-8): skipped' "$TMP/lines.log"
    check $? "a line over the event limit and one not UTF-8 are refused with a log line each"
    stop "$PID" TERM
else
    not_ok "ssedge --event reading starts"
fi

# ------------------------------------------------------------ stdin
printf 'one\ntwo\nthree\n' >"$TMP/in.txt"
if STDIN=$TMP/in.txt start stdin --linger; then
    wait_until 50 in_log stdin 'standard input ended after 3 lines'
    replay stdin "$PORT"
    [ "$(cat "$TMP/stdin.ev")" = $'1 message one\n2 message two\n3 message three' ]
    check $? "stdin (no CMD) with --linger: three lines, three events; its end logged"
    stop "$PID" TERM
    [ "$RC" -eq 0 ]
    check $? "stdin --linger: SIGTERM, exit 0 ($RC)"
else
    not_ok "ssedge reading stdin starts"
fi
STDIN=$TMP/in.txt $WRAP "$SSEDGE" --port 0 --bind 127.0.0.1 <"$TMP/in.txt" \
    >/dev/null 2>"$TMP/stdin2.log" &
P=$!
pids+=("$P")
wait_exit "$P" 10
[ "$RC" -eq 0 ] && grep -q 'stopped (3 lines, 3 events, 0 skipped)' "$TMP/stdin2.log"
check $? "stdin without --linger: exits 0 when it ends ($RC in $STOP_S s), 3 events"

# ------------------------------------------------------------ RSS at start
# The event ring's RAM is written when the server starts: publishing enough
# to wrap it (3000 events of about 230 bytes; the host ring holds 256 KiB
# and 2048 events) leaves ssedge's RSS where it was. Natively only: under
# qemu-user the RSS is qemu's.
if [ -z "$WRAP" ]; then
    RSSCMD='while [ ! -e "$0" ]; do sleep 0.02; done
awk "BEGIN { s = sprintf(\"%190s\", \"\"); gsub(/ /, \"x\", s); for (i = 1; i <= 3000; i++) print i, s }"
sleep 300'
    vmrss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
    if start ringrss --stats /stats -- sh -c "$RSSCMD" "$TMP/go-rss"; then
        # One /stats answered before r0, so a connection thread's stack is in
        # it; the polls meanwhile may each add one (8 KiB), well under 160.
        wait_until 50 stat_is "$PORT" input_events 0
        r0=$(vmrss "$PID")
        touch "$TMP/go-rss"
        wait_until 150 stat_is "$PORT" input_events 3000
        r1=$(vmrss "$PID")
        [ -n "$r0" ] && [ -n "$r1" ] && [ "$(stat_of "$PORT" input_events)" = 3000 ] &&
            [ $((r1 - r0)) -lt 160 ]
        check $? "3000 events of 230 bytes (the ring wraps) grow ssedge's RSS by $((${r1:-0} - ${r0:-0})) KiB ($r0 -> $r1; < 160, where the ring and its index are 304): the ring is committed at start"
        stop "$PID" TERM
    else
        not_ok "ssedge for the RSS check starts"
    fi
fi

# ------------------------------------------------------------ --restart
if start restart --restart --restart-delay-ms 100 --stats /stats -- sh -c 'echo "run $$"; exit 1'; then
    # 10 s: 100 + 200 + 400 ms of back-off and the runs
    wait_until 100 in_log restart 'exited with status 1' 4
    grep -q 'restarting sh in 100 ms' "$TMP/restart.log" &&
        grep -q 'restarting sh in 200 ms' "$TMP/restart.log" &&
        grep -q 'restarting sh in 400 ms' "$TMP/restart.log"
    check $? "--restart: CMD started again after 100, 200, 400 ms (the back-off doubles)"
    replay restart "$PORT"
    n=$(awk '{ print $4 }' "$TMP/restart.ev" | sort -u | wc -l)
    r=$(stat_of "$PORT" program_restarts)
    [ "$n" -ge 4 ] && [ "${r:-0}" -ge 3 ]
    check $? "--restart: each run's line is an event ($n runs with distinct pids; program_restarts $r)"
    stop "$PID" TERM
    [ "$RC" -eq 0 ] && awk -v s="$STOP_S" 'BEGIN { exit !(s < 3) }'
    check $? "--restart: SIGTERM while a restart waits: exit 0 in $STOP_S s ($RC)"
else
    not_ok "ssedge --restart starts"
fi

# ------------------------------------------------------------ exit status
for spec in "3|sh -c 'echo x; exit 3'|exited with status 3" \
            "137|sh -c 'kill -KILL \$\$'|was killed by signal 9 (Killed)" \
            "127|/nonexistent/prog|cannot run /nonexistent/prog: No such file or directory"; do
    IFS='|' read -r want cmd line <<<"$spec"
    eval "set -- $cmd"
    $WRAP "$SSEDGE" --port 0 --bind 127.0.0.1 -- "$@" </dev/null >/dev/null 2>"$TMP/status.log" &
    P=$!
    pids+=("$P")
    wait_exit "$P" 10
    [ "$RC" -eq "$want" ] && grep -qF "$line" "$TMP/status.log"
    check $? "without --restart, ssedge exits with CMD's status: $cmd -> $RC (want $want), logged: $line"
done

# ------------------------------------------------------------ no child left behind
# CMD started two background sleeps; and one that ignores SIGTERM.
if start group -- sh -c 'sleep 300 & sleep 300 & echo up; wait'; then
    wait_until 50 in_log group 'started sh'
    PG=$(pgid_of group)
    sleep 0.3
    n=$(pgrep -g "$PG" | wc -l)
    stop "$PID" TERM
    [ "$RC" -eq 0 ] && [ "$n" -eq 3 ] && group_empty "$PG"
    check $? "SIGTERM: CMD's group of $n (sh + 2 sleeps) gone, exit $RC in $STOP_S s"
fi
if start stubborn -- sh -c 'trap "" TERM; sleep 300 & echo up; wait; wait'; then
    wait_until 50 in_log stubborn 'started sh'
    PG=$(pgid_of stubborn)
    sleep 0.3
    kill -TERM "$PID"
    sleep 0.5
    stop "$PID" TERM # a second stop signal: SIGKILL at once
    [ "$RC" -eq 0 ] && [ -n "$PG" ] && group_empty "$PG" &&
        grep -q 'a second stop signal: SIGKILL to process group' "$TMP/stubborn.log"
    check $? "CMD ignoring SIGTERM: a second SIGTERM kills its group: exit $RC in $STOP_S s, none left"
fi
if [ -z "$QUICK" ] && start stubborn2 -- sh -c 'trap "" TERM; sleep 300 & echo up; wait; wait'; then
    wait_until 50 in_log stubborn2 'started sh'
    PG=$(pgid_of stubborn2)
    sleep 0.3
    stop "$PID" TERM 10
    [ "$RC" -eq 0 ] && [ -n "$PG" ] && group_empty "$PG" &&
        awk -v s="$STOP_S" 'BEGIN { exit !(s >= 4.5 && s < 8) }' &&
        grep -q 'still running after the grace period: SIGKILL' "$TMP/stubborn2.log"
    check $? "CMD ignoring SIGTERM: SIGKILL after the 5 s grace: exit $RC in $STOP_S s, none left"
fi

# ------------------------------------------------------------ POST /publish, channels, token
if start pub --publish-token "$PUB" --channel room --channel door --token "$TOK" --stats /stats \
        -- sh -c 'echo 20.5; sleep 300'; then
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/events")
    [ "$code" = 401 ]
    check $? "--token: /events without it: 401 ($code)"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/stats")
    [ "$code" = 401 ]
    check $? "--token: /stats without it: 401 ($code)"
    body=$(curl -s --max-time 5 -H "Authorization: Bearer $PUB" -H 'Content-Type: text/plain' \
        --data-binary 'open' "http://127.0.0.1:$PORT/publish?event=door&ch=door")
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer nope-$PUB" \
        -H 'Content-Type: text/plain' --data-binary x "http://127.0.0.1:$PORT/publish")
    replay pub "$PORT" 0 1 "?ch=room,door&token=$TOK"
    [ "$body" = 2 ] && [ "$code" = 403 ] &&
        [ "$(cat "$TMP/pub.ev")" = $'1 message 20.5\n2 door open' ]
    check $? "POST /publish: 201 with id $body, a wrong token 403 ($code); the stream of ?ch=room,door has the line and the POST"
    replay pubnone "$PORT" 0 1 "?token=$TOK"
    [ ! -s "$TMP/pubnone.ev" ]
    check $? "--channel: a stream without ?ch= gets neither channel's events"
    timeout 10 curl -s --max-time 5 -H "Authorization: Bearer $TOK" \
        "http://127.0.0.1:$PORT/stats" >"$TMP/stats.json"
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
need = ["connections_active", "streams_active", "connections_accepted", "auth_failures",
        "event_last_id", "event_oldest_id", "input_lines", "input_events", "program_running"]
sys.exit(0 if all(isinstance(d.get(k), int) for k in need) and d["event_last_id"] == 2
         and d["auth_failures"] >= 2 and d["program_running"] == 1 else 1)' "$TMP/stats.json"
    check $? "--stats: JSON with the server's and the input's numbers ($(head -c 100 "$TMP/stats.json")...)"
    timeout 10 curl -s --max-time 5 -D "$TMP/prom.headers" -H "Authorization: Bearer $TOK" \
        -H 'Accept: text/plain; version=0.0.4' "http://127.0.0.1:$PORT/stats" >"$TMP/stats.prom"
    tr -d '\r' <"$TMP/prom.headers" | grep -qi '^content-type: text/plain; version=0.0.4' &&
        grep -qx '# TYPE ssedge_connections_accepted_total counter' "$TMP/stats.prom" &&
        grep -qx 'ssedge_event_last_id 2' "$TMP/stats.prom" &&
        grep -qx 'ssedge_input_lines_total 1' "$TMP/stats.prom" &&
        ! grep -Eqv '^(# (HELP|TYPE) ssedge_[a-z_]+ .+|ssedge_[a-z_]+ [0-9]+)$' "$TMP/stats.prom"
    check $? "--stats with Accept: text/plain; version=0.0.4: Prometheus text ($(grep -c '^ssedge_' "$TMP/stats.prom") samples)"
    stop "$PID" TERM
else
    not_ok "ssedge --publish-token --channel --token starts"
fi

# ------------------------------------------------------------ --uplink
# The program's lines go up to a hub as well (tests/lib/record_hub.py): in
# order, named, with the bearer token, channels to the URL's path; /stats
# says so.
if record_hub up && start up --event temp --channel door --stats /stats \
        --uplink "http://127.0.0.1:$HUB_PORT/pub/cmd" --uplink-token "$TOK" \
        -- sh -c 'for i in 1 2 3; do echo "t$i"; done; sleep 300'; then
    got_three() { [ "$(grep -c . "$TMP/up.jsonl")" -ge 3 ]; }
    wait_until 100 got_three
    python3 -c '
import json, sys
p = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if [(x["path"], x["event"], x["auth"], x["data"]) for x in p] ==
         [("/pub/cmd", "temp", "Bearer " + sys.argv[2], "t%d" % i) for i in (1, 2, 3)] else 1)
' "$TMP/up.jsonl" "$TOK"
    check $? "--uplink: the three lines reach the hub in order, named, with the token ($(tr -d '\n' <"$TMP/up.jsonl" | head -c 160))"
    stat_is "$PORT" uplink_sent 3 && stat_is "$PORT" uplink_state 2
    check $? "--uplink: /stats says uplink_sent 3, uplink_state 2 ($(stat_of "$PORT" uplink_sent), $(stat_of "$PORT" uplink_state))"
    stop "$PID" TERM
    [ "$RC" = 0 ]
    check $? "--uplink: SIGTERM stops the uplink and the server, exit 0 ($RC)"
else
    not_ok "ssedge --uplink starts with a hub on 127.0.0.1:${HUB_PORT:-?}"
fi
timeout 10 $WRAP "$SSEDGE" --uplink-token "$TOK" </dev/null >"$TMP/upbad.out" 2>"$TMP/upbad.err"
rc=$?
[ "$rc" = 2 ] && [ "$(cat "$TMP/upbad.err")" = "ssedge: --uplink-token: needs --uplink too" ]
check $? "--uplink-token without --uplink: exit 2, one line ($rc: $(head -c 100 "$TMP/upbad.err"))"

# ------------------------------------------------------------ the dashboard
if start page --channel temp -- sh -c 'echo 1; sleep 300'; then
    body=$(timeout 10 curl -s --max-time 5 -D "$TMP/page.headers" "http://127.0.0.1:$PORT/")
    tr -d '\r' <"$TMP/page.headers" | grep -qi '^content-type: text/html' &&
        [[ $body == *'<script src="app.js">'* ]]
    check $? "GET /: the dashboard page (text/html loading app.js), served from the binary"
    gz=$(timeout 10 curl -s --max-time 5 --compressed -D "$TMP/gz.headers" "http://127.0.0.1:$PORT/")
    tr -d '\r' <"$TMP/gz.headers" | grep -qi '^content-encoding: gzip' && [ "$gz" = "$body" ]
    check $? "GET / with Accept-Encoding: gzip: gzip-encoded, same page"
    js=$(timeout 10 curl -s --max-time 5 "http://127.0.0.1:$PORT/app.js")
    [[ $js == *"'Last-Event-ID'"* ]] && [[ $js == *"/ssedge.json"* ]]
    check $? "GET /app.js: reads the stream with Last-Event-ID, finds it in /ssedge.json"
    cfg=$(timeout 10 curl -s --max-time 5 "http://127.0.0.1:$PORT/ssedge.json")
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(0 if d["stream"] == "/events"
        and d["channels"] == ["temp"] and d["source"] == "sh" and d["input"] == "lines" else 1)' "$cfg"
    check $? "GET /ssedge.json: the stream, its channels, the source ($cfg)"
    code=$(timeout 10 curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/nope")
    [ "$code" = 404 ]
    check $? "another path: 404 ($code)"
    stop "$PID" TERM
else
    not_ok "ssedge --channel temp starts"
fi

# ------------------------------------------------------------ systemd units
# systemd-analyze verify (no running systemd needed) on copies whose
# ExecStart names the binaries built here; and the command line of
# tools/ssedge/example.conf, split at white space as systemd does, is one
# that ssedge takes (its program aside).
if [ -n "$WRAP" ]; then
    echo "# skip: the units are checked on the host run"
elif command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -p "$TMP/units"
    sed "s|/usr/local/bin/ssedge|$PWD/$BIN/ssedge|" 'tools/ssedge/ssedge@.service' \
        >"$TMP/units/ssedge@demo.service"
    sed "s|/usr/local/bin/ssedge-rpi|$PWD/$BIN/ssedge-rpi|" examples/rpi-daemon/ssedge-rpi.service \
        >"$TMP/units/ssedge-rpi.service"
    for u in "ssedge@demo.service" ssedge-rpi.service; do
        out=$(systemd-analyze verify "$TMP/units/$u" 2>&1)
        check $? "systemd-analyze verify $u${out:+: $out}"
    done
    grep -q '^EnvironmentFile=/etc/ssedge/%i.conf$' 'tools/ssedge/ssedge@.service' &&
        grep -q '^ExecStart=/usr/local/bin/ssedge $SSEDGE_ARGS$' 'tools/ssedge/ssedge@.service' &&
        grep -q '^KillMode=mixed$' 'tools/ssedge/ssedge@.service' &&
        grep -q '^EnvironmentFile=-/etc/default/ssedge-rpi$' examples/rpi-daemon/ssedge-rpi.service
    check $? "ssedge@.service runs SSEDGE_ARGS of /etc/ssedge/%i.conf (KillMode=mixed); ssedge-rpi reads /etc/default/ssedge-rpi"
    # @system-service has no io_uring: the units make the kernel refuse it
    # (EPERM, below) instead of killing the server with SIGSYS.
    grep -q '^SystemCallErrorNumber=EPERM$' 'tools/ssedge/ssedge@.service' &&
        grep -q '^SystemCallErrorNumber=EPERM$' examples/rpi-daemon/ssedge-rpi.service
    check $? "both units: SystemCallErrorNumber=EPERM beside SystemCallFilter=@system-service"
    # shellcheck disable=SC2046 # split at white space, as systemd does
    args=$(sed -n 's/^SSEDGE_ARGS=//p' tools/ssedge/example.conf |
           sed -e 's| -- .*| -- sleep 30|' -e 's|--port [0-9]*|--port 0 --bind 127.0.0.1|')
    # shellcheck disable=SC2086
    "$SSEDGE" $args </dev/null >/dev/null 2>"$TMP/conf.log" &
    P=$!
    pids+=("$P")
    sleep 0.5
    stop "$P" TERM
    [ "$RC" -eq 0 ] && grep -q 'serving http://127.0.0.1:' "$TMP/conf.log"
    check $? "example.conf's flags are ones ssedge takes (exit $RC)"
else
    echo "# skip: no systemd-analyze here"
fi

# ------------------------------------------------------------ io_uring refused
# As under the units (a seccomp filter: io_uring_setup fails with EPERM),
# a build with CONFIG_SSE_PORT_IO_URING says so in one line at start and
# still streams every line.
if [ -n "$WRAP" ]; then
    echo "# skip: io_uring refusal is checked on the host run"
elif ! grep -qs '^#define CONFIG_SSE_PORT_IO_URING 1' "$BIN/../include/sse_config.h"; then
    echo "# skip: this build has no io_uring (CONFIG_SSE_PORT_IO_URING)"
elif ! cc -o "$TMP/no_uring" tests/ssedge/no_uring.c 2>"$TMP/no_uring.cc"; then
    not_ok "tests/ssedge/no_uring.c builds: $(head -1 "$TMP/no_uring.cc")"
elif WRAP="$TMP/no_uring" start nouring -- sh -c \
        'i=1; while [ $i -le 20 ]; do echo "n $i"; i=$((i+1)); done; sleep 30'; then
    replay nouring "$PORT" 0 1
    in_log nouring 'fan-out: io_uring refused (Operation not permitted): sends go one by one' &&
        [ "$(grep -c 'io_uring' "$TMP/nouring.log")" -eq 1 ]
    check $? "io_uring refused: one log line ($(grep -m1 io_uring "$TMP/nouring.log"))"
    awk '{ if ($3 != "n" || $4 != NR) bad = 1 } END { exit !(NR == 20 && !bad) }' "$TMP/nouring.ev"
    check $? "io_uring refused: all 20 lines stream, in order ($(wc -l <"$TMP/nouring.ev") events)"
    stop "$PID" TERM
else
    not_ok "ssedge starts with io_uring refused"
fi

# ------------------------------------------------------------ https
if [ -z "$TLS_BIN" ]; then
    echo "# skip: no TLS build given (second argument)"
elif [ ! -x "$TLS_BIN/ssedge" ] || [ ! -x "$TLS_BIN/ssedge-rpi" ]; then
    not_ok "$TLS_BIN/ssedge and ssedge-rpi are built (CONFIG_SSE_TLS)"
elif ! scripts/devcert.sh "$TMP/cert" >"$TMP/cert.txt" 2>&1; then
    not_ok "scripts/devcert.sh makes a test certificate: $(tail -1 "$TMP/cert.txt")"
else
    for prog in ssedge ssedge-rpi; do
        lf=$TMP/tls-$prog.log # ssedge-rpi's lines start <N>ssedge-rpi: (not checked below)
        [ $prog = ssedge ] || lf=$TMP/tls-$prog.err
        : >"$lf"
        if [ $prog = ssedge ]; then set -- -- sh -c 'echo secret; sleep 300'; else set --; fi
        "$TLS_BIN/$prog" --port 0 --bind 127.0.0.1 --cert "$TMP/cert/server.crt" \
            --key "$TMP/cert/server.key" "$@" </dev/null >/dev/null 2>"$lf" &
        P=$!
        pids+=("$P")
        port=$(wait_line 100 "$P" 's|.*serving https://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' "$lf")
        timeout 20 curl -sN --max-time 2 --cacert "$TMP/cert/ca.crt" -H 'Last-Event-ID: 0' \
            -H 'Accept: text/event-stream' "https://localhost:${port:-1}/events" >"$TMP/tls-$prog.sse"
        if [ $prog = ssedge ]; then want='^data: secret$'; else want='^event: stats$'; fi
        grep -q "$want" "$TMP/tls-$prog.sse"
        check $? "$prog --cert --key: https with the test CA streams (${port:+port $port})"
        stop "$P" TERM
    done
fi

# journald: every line "<N>ssedge: message"
# shellcheck disable=SC2086
bad=$(cat "$TMP"/*.log | grep -Ev '^<[0-7]>ssedge: ' | head -3)
[ -z "$bad" ]
check $? "every log line is '<priority>ssedge: message' (journald)${bad:+: $bad}"

summary
[ "$failed" -eq 0 ]
