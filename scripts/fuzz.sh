#!/bin/sh
# make fuzz: runs each libFuzzer target for N seconds on a scratch copy of its
# seed corpus, prints one line per target and a closing tally; exit 1 on any
# crash, leak, timeout or broken property.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS target...
set -u
build=$1 secs=$2
shift 2
passed=0 failed=0
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for t in "$@"; do
    bin=$build/bin/$t
    seeds=tests/fuzz/corpus/$t
    work=$build/run/$t
    case $t in
    fuzz_conn) opts="-max_len=3000 -dict=tests/fuzz/http.dict" ;;
    fuzz_http) opts="-max_len=2048 -dict=tests/fuzz/http.dict" ;;
    *)         opts="-max_len=2048" ;;
    esac
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    # New inputs go to the scratch dir (the first corpus); seeds are only read.
    # Per-input bound: far above any input's cost, below CI patience.
    "$bin" $opts -max_total_time="$secs" -timeout=30 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" >"$work/log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
    found=$(ls "$work/artifacts" | wc -l)
    if [ "$rc" -eq 0 ] && [ "$found" -eq 0 ] && [ -n "$execs" ]; then
        echo "fuzz $t: $execs execs, ${cov:-?} cov, 0 crashes"
        passed=$((passed + 1))
    else
        echo "fuzz $t: FAILED (exit $rc, $found inputs in $work/artifacts/, log $work/log)"
        grep -E 'ERROR|property broken|SUMMARY|runtime error|Test unit written' "$work/log" | head -20
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
