#!/bin/bash
# A build folder never mixes toolchains or configurations: one folder built
# with the host cc, then the aarch64 cross compiler (from the command line,
# then from the rpi_aarch64 preset), then the host again, with other flags,
# another .config and at last the Cortex-M4 preset; after each make every
# object, library member and program in it is of the right architecture
# (readelf -h), and a make with nothing changed rebuilds nothing. Impossible
# combinations (lwIP's socket table too small, a toolchain that is not
# installed) stop with one line before any compiler runs.
#
# Usage: tests/build/toolchain_test.sh   (needs the host, aarch64 and
# arm-none-eabi compilers and liblwip-dev: scripts/deps.sh rpi lwip)
# Output: "ok - ..." / "FAIL - ..." lines, then "build: N passed, M failed".
set -u
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
unset MAKEFLAGS MFLAGS MAKELEVEL
MAKE=${MAKE:-make}
JOBS=${JOBS:-2}
STEP_S=${STEP_S:-600} # one make at most

passed=0 failed=0
ok()   { echo "ok - $*"; passed=$((passed + 1)); }
bad()  { echo "FAIL - $*"; failed=$((failed + 1)); }
check() { if [ "$1" -eq 0 ]; then ok "$2"; else bad "$2"; fi; }
summary() { echo "build: $passed passed, $failed failed"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/ssedge-build.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
trap 'bad "interrupted"; summary; exit 130' INT TERM
D=$T/b    # the build folder every step shares
LOG=$T/log

for tool in readelf cc aarch64-linux-gnu-gcc arm-none-eabi-gcc; do
    command -v "$tool" >/dev/null 2>&1 ||
        { bad "$tool is installed (scripts/deps.sh install rpi lwip)"; summary; exit 1; }
done

# mk ARGS...: make in the folder, output in $LOG; its status
mk() {
    timeout "$STEP_S" "$MAKE" -j"$JOBS" O="$D" "$@" >"$LOG" 2>&1
}
# build LABEL ARGS...: make, and say so
build() {
    local label=$1
    shift
    if mk "$@"; then
        ok "$label: make O=dir $*"
    else
        tail -15 "$LOG" | sed 's/^/#   /'
        bad "$label: make O=dir $*"
    fi
}
# machines WANT [static|dynamic]: every object, library member and program
# in $D is WANT (readelf's Machine:), the programs linked that way
machines() {
    local want=$1 link=${2:-} f n=0 wrong="" m
    while IFS= read -r f; do
        n=$((n + 1))
        m=$(readelf -h "$f" 2>/dev/null | sed -n 's/^ *Machine: *//p' | sort -u)
        [ "$m" = "$want" ] || wrong="$wrong ${f#"$D"/}(${m:-no ELF})"
    done < <(find "$D" -type f \( -name '*.o' -o -name '*.a' -o -path "$D/bin/*" \))
    [ "$n" -gt 0 ] && [ -z "$wrong" ]
    check $? "$n objects, libraries and programs are all $want${wrong:+; not:$wrong}"
    [ -n "$link" ] || return 0
    wrong=""
    for f in "$D"/bin/*; do
        [ -f "$f" ] || continue
        if readelf -l "$f" 2>/dev/null | grep -q INTERP; then
            [ "$link" = dynamic ] || wrong="$wrong ${f##*/}"
        else
            [ "$link" = static ] || wrong="$wrong ${f##*/}"
        fi
    done
    [ -z "$wrong" ]
    check $? "the programs are $link${wrong:+; not:$wrong}"
}
# since-stamp: files of $D newer than $T/stamp (make's own outputs)
stamp() { sleep 1; touch "$T/stamp"; }
newer() { find "$D" -type f -newer "$T/stamp" | sed "s|^$D/||" | sort; }
# unchanged LABEL: a second make rebuilds and rewrites nothing
unchanged() {
    local label=$1 n
    shift
    stamp
    mk "$@"
    n=$(newer | wc -l)
    [ "$n" -eq 0 ] && ! grep -q -e ' -c ' -e ' rcs ' "$LOG"
    check $? "$label: make again with nothing changed rebuilds nothing ($n files rewritten$(newer | head -3 | tr '\n' ' '))"
}
# rebuilt LABEL: every object and program of the folder was rewritten
rebuilt() {
    local all new
    all=$(find "$D" -type f \( -name '*.o' -o -path "$D/bin/*" \) | wc -l)
    new=$(find "$D" -type f \( -name '*.o' -o -path "$D/bin/*" \) -newer "$T/stamp" | wc -l)
    [ "$all" -gt 0 ] && [ "$new" -eq "$all" ]
    check $? "$1: all $all objects and programs were rebuilt ($new)"
}
# producer OBJ WANT: the object was compiled with WANT (DWARF producer)
producer() {
    readelf --debug-dump=info "$1" 2>/dev/null | grep -m1 'DW_AT_producer' | grep -q -e "$2"
}
X86="Advanced Micro Devices X86-64"

echo "# build folder $D"
# ---- host cc ------------------------------------------------------------------
build "host" posix_defconfig
build "host"
machines "$X86" dynamic
[ -x "$D/bin/sse_tests" ] && [ -x "$D/bin/telemetry" ]
check $? "host: make builds the programs (posix preset)"
# The default link flags: every symbol bound at start, relocations read-only.
lazy=""
for f in "$D"/bin/*; do
    [ -f "$f" ] || continue
    readelf -d "$f" 2>/dev/null | grep -q 'FLAGS.*BIND_NOW' &&
        readelf -l "$f" 2>/dev/null | grep -q GNU_RELRO || lazy="$lazy ${f##*/}"
done
[ -z "$lazy" ]
check $? "host: the programs bind every symbol at start, RELRO (CONFIG_SSE_LDFLAGS)${lazy:+; not:$lazy}"
unchanged "host"

# ---- aarch64 from the command line ---------------------------------------------
stamp
build "aarch64 (command line)" CROSS_COMPILE=aarch64-linux-gnu- LDFLAGS=-static
machines AArch64 static
rebuilt "aarch64 (command line)"
unchanged "aarch64 (command line)" CROSS_COMPILE=aarch64-linux-gnu- LDFLAGS=-static

# ---- host again ------------------------------------------------------------------
stamp
build "host again"
machines "$X86" dynamic
rebuilt "host again"

# ---- aarch64 from the preset ---------------------------------------------------
build "rpi_aarch64 preset" rpi_aarch64_defconfig
stamp
build "rpi_aarch64 preset"
machines AArch64 static
rebuilt "rpi_aarch64 preset"
grep -q '^ssedge: .* held objects for .*removing them' "$LOG"
check $? "rpi_aarch64 preset: the folder's host objects are removed first (one line says so)"
mk toolchain
grep -qx 'CC=aarch64-linux-gnu-gcc' "$LOG" && grep -qx 'LDFLAGS=-static' "$LOG"
check $? "rpi_aarch64 preset: make toolchain names aarch64-linux-gnu-gcc and -static"
unchanged "rpi_aarch64 preset"
# The same preset again: .config unchanged, nothing rebuilt.
build "rpi_aarch64 preset" rpi_aarch64_defconfig
unchanged "rpi_aarch64 preset applied again"

# ---- host, then a flags change -------------------------------------------------
build "host preset" posix_defconfig
build "host preset"
machines "$X86" dynamic
stamp
build "flags" OPT="-O1 -g"
rebuilt "OPT=-O1"
producer "$D/core/sse_ring.o" ' -O1'
check $? "OPT=-O1: the objects say -O1 (DW_AT_producer)"
unchanged "OPT=-O1" OPT="-O1 -g"
stamp
build "flags back"
rebuilt "flags back to the preset's -O2"
producer "$D/core/sse_ring.o" ' -O2'
check $? "flags back: the objects say -O2"
stamp
build "link flags" LDFLAGS=-Wl,--as-needed
n=$(find "$D" -name '*.o' -newer "$T/stamp" | wc -l)
p=$(find "$D/bin" -type f -newer "$T/stamp" | wc -l)
[ "$n" -eq 0 ] && [ "$p" -gt 0 ] && [ "$p" -eq "$(find "$D/bin" -type f | wc -l)" ]
check $? "a link-flags change relinks every program ($p) and recompiles nothing ($n)"
build "link flags back"

# ---- another .config -------------------------------------------------------------
{ grep -v MAX_CONNECTIONS configs/posix_defconfig; echo CONFIG_SSE_MAX_CONNECTIONS=100; } >"$T/c100"
build "config" defconfig DEFCONFIG="$T/c100"
stamp
build "config"
rebuilt "CONFIG_SSE_MAX_CONNECTIONS=100"
grep -q '^#define CONFIG_SSE_MAX_CONNECTIONS 100$' "$D/include/sse_config.h"
check $? "CONFIG_SSE_MAX_CONNECTIONS=100 reaches sse_config.h"
unchanged "config"

# ---- Cortex-M4 in the same folder: the library only ----------------------------
build "cortex_m4 preset" cortex_m4_lwip_defconfig
build "cortex_m4 preset"
machines ARM
[ -f "$D/libssedge.a" ] && [ ! -e "$D/bin" ]
check $? "cortex_m4 preset: make builds the library only, no program of the host is left"
unchanged "cortex_m4 preset"

# ---- impossible combinations: one line, before any compiler runs ----------------
# fails LABEL WANT CONFIG-ARGS... -- MAKE-ARGS...: in a new folder, make
# CONFIG-ARGS, then make MAKE-ARGS fails, its output has exactly one
# "ssedge:" line, that line matches WANT, and no object was made
fails() {
    local label=$1 want=$2 lines cfg=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do cfg+=("$1"); shift; done
    shift
    rm -rf "$D"
    mk "${cfg[@]}" || { bad "$label: make ${cfg[*]}"; return; }
    if mk "$@"; then
        bad "$label: make should fail"
        return
    fi
    lines=$(grep -c '^ssedge: ' "$LOG")
    [ "$lines" -eq 1 ] && grep '^ssedge: ' "$LOG" | grep -q -e "$want" &&
        [ -z "$(find "$D" -name '*.o')" ]
    check $? "$label: stops before compiling with one line: $(grep -m1 '^ssedge: ' "$LOG" | cut -c1-160)"
}
{ cat configs/cortex_m4_lwip_defconfig; echo CONFIG_SSE_MAX_CONNECTIONS=16; } >"$T/m4_16"
fails "cortex_m4 at 16 slots" \
    "MEMP_NUM_NETCONN is 8 (port/lwip/target/lwipopts.h) but CONFIG_SSE_MAX_CONNECTIONS=16 needs 17" \
    defconfig DEFCONFIG="$T/m4_16" --
{ cat configs/lwip_host_defconfig; echo CONFIG_SSE_MAX_CONNECTIONS=8; } >"$T/host_8"
fails "lwip_host at 8 slots" \
    "MEMP_NUM_NETCONN is 4 (/usr/include/lwip/lwipopts.h) but CONFIG_SSE_MAX_CONNECTIONS=8 needs 9" \
    defconfig DEFCONFIG="$T/host_8" --
fails "an aarch64 compiler that is not there" "apt-get install gcc-aarch64-linux-gnu" \
    posix_defconfig -- CROSS_COMPILE=/nonexistent/aarch64-linux-gnu-
fails "an armhf compiler that is not there" "apt-get install gcc-arm-linux-gnueabihf" \
    rpi_armhf_defconfig -- CROSS_COMPILE=/nonexistent/arm-linux-gnueabihf-
fails "an arm-none-eabi compiler that is not there" "apt-get install gcc-arm-none-eabi" \
    cortex_m4_lwip_defconfig -- CROSS_COMPILE=/nonexistent/arm-none-eabi-
fails "a test runner without a target CUnit" "missing CUnit for arm-none-eabi" \
    cortex_m4_lwip_defconfig -- "$D/bin/sse_tests"

summary
[ "$failed" -eq 0 ]
