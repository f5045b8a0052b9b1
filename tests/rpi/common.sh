# Shared by tests/rpi/*.sh (sourced, with SUITE set): counted checks and a
# "SUITE: N passed, M failed" summary; background processes and the scratch
# directory of one run, cleaned up on exit. Scripts append to pids and set
# TMP; KEEP_TMP=1 keeps the directory.
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
TMP=""
pids=()
cleanup() {
    local p live
    # Only PIDs still running as children of this shell (a PID already
    # waited for may belong to someone else by now).
    live=" $(jobs -pr | tr '\n' ' ') "
    for p in "${pids[@]}"; do
        case "$live" in *" $p "*) kill -TERM "$p" 2>/dev/null ;; *) continue ;; esac
        for _ in $(seq 1 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    pids=()
    if [ -n "$TMP" ] && [ -n "${KEEP_TMP:-}" ]; then
        echo "# kept $TMP"
    elif [ -n "$TMP" ]; then
        rm -rf "$TMP"
    fi
    TMP=""
}
trap cleanup EXIT
