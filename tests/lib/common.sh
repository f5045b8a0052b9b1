# tests/lib/common.sh: what the shell tests share: counted checks, clean-up of their processes and scratch dir, free ports, bounded waits, stopping a process, curl streams stamped line by line.
#
# Sourced (bash >= 4.4), with SUITE set for the "SUITE: N passed, M failed"
# line. The sourcing script sets TMP (a mktemp -d directory, removed at exit
# unless KEEP_TMP=1) before it starts anything and appends the PID of
# everything it starts in the background to pids: at exit each one still a
# child of this shell gets SIGTERM, then SIGKILL after CLEANUP_TENTHS/10 s.
# Every wait here is bounded in tries and in time.
# shellcheck shell=bash disable=SC2034 # RC, STOP_S, PID, PORT...: for the sourcing script

# ---------------------------------------------------------------- counting
passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
check() { # check STATUS MESSAGE
    if [ "$1" -eq 0 ]; then ok "$2"; else not_ok "$2"; fi
}
summary() { echo "$SUITE: $passed passed, $failed failed"; }
bail() {
    not_ok "$*"
    summary
    exit 1
}
now() { # seconds.microseconds (bash < 5 has no EPOCHREALTIME: date, coarser)
    if [ -n "${EPOCHREALTIME:-}" ]; then echo "$EPOCHREALTIME"; else date +%s.%6N; fi
}
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; } # since T0: seconds

# ---------------------------------------------------------------- cleanup
TMP=""
pids=()
CLEANUP_TENTHS=${CLEANUP_TENTHS:-50}
alive() { kill -0 "$1" 2>/dev/null; }

# stop_pids TENTHS PID...: SIGTERM to all at once, then each is given up to
# TENTHS/10 s before SIGKILL; only PIDs that are still running children of
# this shell (one waited for already may belong to someone else by now).
stop_pids() {
    local n=$1 p live
    shift
    live=" $(jobs -pr | tr '\n' ' ') "
    for p in "$@"; do
        case "$live" in *" $p "*) kill -TERM "$p" 2>/dev/null ;; esac
    done
    for p in "$@"; do
        case "$live" in *" $p "*) ;; *) continue ;; esac
        for _ in $(seq 1 "$n"); do
            alive "$p" || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    return 0
}
stop_pid() { [ -z "$1" ] || stop_pids "${2:-50}" "$1"; } # stop_pid PID [TENTHS]

cleanup_tmp() {
    if [ -n "$TMP" ] && [ -n "${KEEP_TMP:-}" ]; then
        echo "# kept $TMP"
    elif [ -n "$TMP" ]; then
        rm -rf "$TMP"
    fi
    TMP=""
}
# What runs at exit; a script with more to stop defines its own, calling these.
cleanup() {
    stop_pids "$CLEANUP_TENTHS" "${pids[@]}"
    pids=()
    cleanup_tmp
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- ports
chosen=" "
port_free() { # port_free PORT [ADDR]: nothing listening on it nor bound to it
    case "$chosen" in *" $1 "*) return 1 ;; esac
    if command -v ss >/dev/null 2>&1; then
        [ -z "$(ss -Htan "sport = :$1" 2>/dev/null)" ]
    else
        ! (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null
    fi
}
pick_port() { # pick_port VAR: a free port in 20000..32767 (below Linux's ephemeral range)
    local _pick
    for _ in $(seq 1 200); do
        _pick=$((20000 + RANDOM % 12768))
        if port_free "$_pick"; then
            chosen="$chosen$_pick "
            printf -v "$1" %s "$_pick"
            return 0
        fi
    done
    return 1
}

# ---------------------------------------------------------------- waits
# wait_until TENTHS [--pid PID] CMD...: 0 once CMD succeeds, tried every
# 0.1 s; 1 after TENTHS tries or about TENTHS/10 s, whichever comes first,
# or (--pid) as soon as PID is gone.
wait_until() {
    local n=$1 end=$((SECONDS + ($1 + 9) / 10 + 1)) pid=""
    shift
    if [ "$1" = --pid ]; then
        pid=$2
        shift 2
    fi
    for _ in $(seq 1 "$n"); do
        "$@" && return 0
        [ "$SECONDS" -lt "$end" ] || return 1
        [ -z "$pid" ] || alive "$pid" || return 1
        sleep 0.1
    done
    return 1
}
accepts() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; } # accepts ADDR PORT
# wait_port ADDR PORT TENTHS [PID]: 0 once something accepts on ADDR:PORT;
# 1 after TENTHS/10 s, or as soon as PID (when given) is gone.
wait_port() { wait_until "$3" ${4:+--pid "$4"} accepts "$1" "$2"; }
prints() { local e=$1; shift; [ -n "$(sed -n "$e" "$@" 2>/dev/null)" ]; } # prints SED_EXPR FILE...
# wait_line TENTHS PID SED_EXPR FILE...: prints the first line SED_EXPR
# prints from the FILEs once there is one (at most TENTHS/10 s, less if PID
# is gone).
wait_line() {
    local n=$1 pid=$2
    shift 2
    wait_until "$n" --pid "$pid" prints "$@"
    sed -n "$1" "${@:2}" 2>/dev/null | head -n 1
}

# ---------------------------------------------------------------- processes
# wait_exit PID [SECONDS]: waits (5 s by default) for PID to exit by itself;
# sets RC (its exit status; 999: still running, then killed) and STOP_S.
wait_exit() {
    local t0 n
    t0=$(now)
    n=$(awk -v s="${2:-5}" 'BEGIN { printf "%d", s * 20 }')
    for _ in $(seq 1 "$n"); do
        alive "$1" || break
        sleep 0.05
    done
    if alive "$1"; then
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        RC=999
    else
        wait "$1"
        RC=$?
    fi
    STOP_S=$(since "$t0")
}
stop() { # stop PID SIGNAL [SECONDS]: sends SIGNAL, then as wait_exit
    kill "-$2" "$1" 2>/dev/null
    wait_exit "$1" "${3:-5}"
}
# serve NAME CMD...: CMD in the background, stdin from $STDIN (/dev/null),
# stdout in $TMP/NAME.out, stderr in $TMP/NAME.log; sets PID, and PORT from
# the "serving http(s)://127.0.0.1:PORT/" line it logs (10 s at most);
# 1, its log shown, when none came.
serve() {
    local name=$1
    shift
    : >"$TMP/$name.log" # exists before wait_line reads it
    "$@" <"${STDIN:-/dev/null}" >"$TMP/$name.out" 2>"$TMP/$name.log" &
    PID=$!
    pids+=("$PID")
    PORT=$(wait_line 100 "$PID" 's|.*serving https\{0,1\}://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' \
        "$TMP/$name.log")
    [ -n "$PORT" ] && return 0
    sed 's/^/# /' "$TMP/$name.log"
    return 1
}

# record_hub NAME: tests/lib/record_hub.py as a hub for an uplink, its POSTs
# one JSON line each in $TMP/NAME.jsonl; sets HUB_PORT; 1 if it never listened.
record_hub() {
    : >"$TMP/$1.jsonl"
    python3 "$(dirname "${BASH_SOURCE[0]}")/record_hub.py" "$TMP/$1.jsonl" >"$TMP/$1.hub" 2>&1 &
    pids+=("$!")
    HUB_PORT=$(wait_line 50 "$!" 's/^port \([0-9][0-9]*\)$/\1/p' "$TMP/$1.hub")
    [ -n "$HUB_PORT" ]
}

# ---------------------------------------------------------------- streams
stamp() { # each line of stdin as "SECONDS LINE" (its arrival time; CR dropped)
    local line
    while IFS= read -r line; do
        echo "${EPOCHREALTIME:-$(date +%s.%6N)} ${line%$'\r'}"
    done
}
# stamp_stream NAME LIMIT_S CURL_ARGS...: curl reads a stream in the
# background (head in $TMP/NAME.headers) and a reader stamps its lines into
# $TMP/NAME.lines; $TMP/NAME.t0 is when curl started, STREAM_PID is curl's.
stamp_stream() {
    local name=$1 limit=$2
    shift 2
    mkfifo "$TMP/$name.fifo"
    stamp <"$TMP/$name.fifo" >"$TMP/$name.lines" &
    pids+=($!)
    now >"$TMP/$name.t0"
    timeout "$limit" curl -sN -D "$TMP/$name.headers" -H 'Accept: text/event-stream' "$@" \
        >"$TMP/$name.fifo" &
    STREAM_PID=$!
    pids+=("$STREAM_PID")
}
is_sse_200() { # is_sse_200 NAME: $TMP/NAME.headers' last head: 200, text/event-stream
    tr -d '\r' <"$TMP/$1.headers" 2>/dev/null | awk '
        /^HTTP\// { st = $2; ct = "" }
        tolower($1) == "content-type:" { ct = tolower($2) }
        END { exit !(st == 200 && ct ~ /^text\/event-stream/) }'
}
