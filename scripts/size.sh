#!/bin/sh
# Flash and static RAM of ssedge's own objects for one defconfig preset,
# built at CONFIG_SSE_MAX_CONNECTIONS=4 and =16 (everything else from the
# preset, its toolchain included: make toolchain shows it), plus the thread
# stacks the OS allocates on top.
#
# Usage: scripts/size.sh [configs/X_defconfig]
#   default configs/cortex_m4_lwip_defconfig. The last line ("summary: ...")
#   feeds scripts/size-all.sh (make size-all).
# lwIP is sized for each count as a board would be (EXTRA_CFLAGS=
# -DSSE_LWIP_CONNECTIONS=N, read by port/lwip/target/lwipopts.h), so the
# MEMP_NUM_NETCONN check holds at 16. Debian's hosted lwIP has a fixed
# 4-socket table in its header (and opens more), so for host lwIP presets the
# check is left off (CONFIG_SSE_LWIP_NETCONN_CHECK): those sizes are ssedge's
# only.
# Builds go to build/size/<preset>/cN/ through the Makefile's lib target.
set -u
cd "$(dirname "$0")/.." || exit 2
preset=${1:-configs/cortex_m4_lwip_defconfig}
[ -f "$preset" ] || { echo "size.sh: no such preset: $preset" >&2; exit 2; }
name=$(basename "$preset" _defconfig)
MAKE=${MAKE:-make}
# Run the same from a shell or from make: no inherited command-line variables.
unset MAKEFLAGS MFLAGS MAKELEVEL
TIMEOUT=""
command -v timeout >/dev/null 2>&1 && TIMEOUT="timeout 600"
EXTRA=""
grep -q '^CONFIG_SSE_PORT_LWIP=y' "$preset" && EXTRA=-DSSE_LWIP_CONNECTIONS=

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# build N: a .config from the preset with CONFIG_SSE_MAX_CONNECTIONS=N, then
# the library. Sets $build.
build() {
    n=$1
    build=build/size/$name/c$n
    sed -e '/^CONFIG_SSE_MAX_CONNECTIONS=/d' \
        -e '/^# CONFIG_SSE_MAX_CONNECTIONS is not set/d' "$preset" >"$tmp/defconfig"
    # Debian's hosted lwIP: no check against its header's 4 sockets.
    grep -q '^CONFIG_SSE_LWIP_DIRS=y' "$preset" ||
        sed -i '/^CONFIG_SSE_LWIP_NETCONN_CHECK=y/d' "$tmp/defconfig"
    echo "CONFIG_SSE_MAX_CONNECTIONS=$n" >>"$tmp/defconfig"
    mkdir -p "$build"
    set -- BUILD="$build" KCONFIG_CONFIG="$build/.config"
    [ -n "$EXTRA" ] && set -- "$@" EXTRA_CFLAGS="$EXTRA$n"
    if ! { $TIMEOUT "$MAKE" -s "$@" DEFCONFIG="$tmp/defconfig" defconfig &&
           $TIMEOUT "$MAKE" -s -j"$(nproc 2>/dev/null || echo 2)" "$@" lib &&
           "$MAKE" -s "$@" toolchain >"$tmp/toolchain"; } >"$tmp/build.log" 2>&1; then
        tail -40 "$tmp/build.log"
        echo "size.sh: build of $preset at $(basename "$build") failed" >&2
        exit 1
    fi
    CC=$(sed -n 's/^CC=//p' "$tmp/toolchain")
    SIZE=$(sed -n 's/^SIZE=//p' "$tmp/toolchain")
    CFLAGS=$(sed -n 's/^CFLAGS=//p' "$tmp/toolchain")
    LWIP_CFLAGS=$(sed -n 's/^LWIP_CFLAGS=//p' "$tmp/toolchain")
    command -v "$SIZE" >/dev/null 2>&1 || { echo "size.sh: $SIZE not found" >&2; exit 2; }
}

cfg() { # symbol -> value from the last build's .config
    sed -n "s/^CONFIG_$1=//p" "$build/.config"
}

# table N: per-object text/data/bss of the last build; sets $ram (data+bss).
table() {
    objs=""
    for m in $(ar t "$build/libssedge.a"); do
        for o in "$build/core/$m" "$build"/port/*/"$m"; do
            [ -f "$o" ] && { objs="$objs $o"; break; }
        done
    done
    echo
    echo "CONFIG_SSE_MAX_CONNECTIONS=$1"
    # shellcheck disable=SC2086
    $SIZE -B $objs | awk -v b="$build/" '
        NR == 1 { printf "  %-28s %8s %8s %8s\n", "object", "text", "data", "bss"; next }
        { f = $6; sub("^" b, "", f); t += $1; d += $2; s += $3
          printf "  %-28s %8d %8d %8d\n", f, $1, $2, $3 }
        END { printf "  %-28s %8d %8d %8d\n", "total", t, d, s }'
    $SIZE -B -t "$build/libssedge.a" | awk '/\(TOTALS\)/ {
        printf "  %-28s %8d %8d %8d\n", "libssedge.a (size -t)", $1, $2, $3 }'
    ram=$($SIZE -B -t "$build/libssedge.a" | awk '/\(TOTALS\)/ { print $2 + $3 }')
    text=$($SIZE -B -t "$build/libssedge.a" | awk '/\(TOTALS\)/ { print $1 }')
}

echo "ssedge size: $preset"
build 4
echo "  $CC $CFLAGS${LWIP_CFLAGS:+ $LWIP_CFLAGS}"
table 4
ram4=$ram
stack=$(cfg SSE_THREAD_STACK_SIZE)
port=lwip; [ "$(cfg SSE_PORT_POSIX)" = y ] && port=posix
tls=$(cfg SSE_TLS)

build 16
table 16
ram16=$ram

per=$(awk -v a="$ram4" -v b="$ram16" 'BEGIN { v = (b - a) / 12
    printf (v == int(v)) ? "%d" : "%.1f", v }')
echo
echo "static RAM (data+bss) for 4 connections: $ram4 bytes; for 16: $ram16 bytes;" \
     "per extra connection: $per bytes"
if [ "$port" = lwip ]; then
    where="allocated by the RTOS (sys_thread_new), not in .data/.bss"
else
    where="allocated by pthread_create (mmap), not in .data/.bss"
fi
echo "thread stacks, $where:"
echo "  CONFIG_SSE_THREAD_STACK_SIZE $stack x (connections + 3: listener, timer, fan-out writer):" \
     "$((stack * 7)) bytes for 4 connections, $((stack * 19)) for 16"
echo "static RAM + stacks: $((ram4 + stack * 7)) bytes for 4 connections;" \
     "$((ram16 + stack * 19)) for 16; per extra connection: $per + $stack bytes"
[ "$tls" = y ] && echo "TLS: mbedTLS's per-connection heap (record buffers, session) comes on top."
# One line for make size-all's table.
echo "summary: $name cc=$(basename "$CC") text=$text ram4=$ram4 ram16=$ram16 per=$per stack=$stack tls=${tls:-n}"
exit 0
