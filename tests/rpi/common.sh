# Shared by tests/rpi/*.sh (sourced): background processes and the scratch
# directory of one run, cleaned up on exit. Scripts append to pids and set
# TMP; KEEP_TMP=1 keeps the directory.
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
