#!/bin/sh
# What the Makefile runs before it compiles anything; each failure is one
# line on stderr that says what to install or change, and exit 1.
#
#   scripts/preflight.sh kconfig PYTHON
#       python3 and kconfiglib are there (every configuration goal).
#   scripts/preflight.sh build
#       Before the first object of a build folder (environment from make):
#       SSE_BUILD            the build folder
#       SSE_CC, SSE_AR       compiler and archiver commands
#       SSE_CFLAGS           the compile's CPPFLAGS and CFLAGS
#       SSE_LINK             the link's flags and libraries
#       SSE_NEEDS            words: cunit mbedtls uring lwip-pkg-config lwip-dirs netconn
#       SSE_LWIP_DIRS        CONFIG_SSE_LWIP_INCLUDE_DIRS (lwip-dirs)
#       SSE_MAX_CONNECTIONS  CONFIG_SSE_MAX_CONNECTIONS (netconn)
#     1. The tools: the configured compiler and its C library, and what the
#        goals need (CUnit, mbedTLS, lwIP's headers), found through the
#        compiler itself, so the answer holds on any distribution; the line
#        names the Debian packages.
#     2. netconn: lwIP's MEMP_NUM_NETCONN, read with the compiler's
#        preprocessor from the lwipopts.h this build uses, holds the slots
#        and the listener.
#     3. The signatures SSE_BUILD/.cc-signature (the compiler's target and
#        version, the compile command) and SSE_BUILD/.ld-signature (the link
#        and archive commands), rewritten only when they change: every
#        object depends on the first, the library and every program on the
#        second. When the target changes, the folder's objects, library and
#        programs of the old one are removed first.
set -u
LC_ALL=C
export LC_ALL

die() { echo "ssedge: $*" >&2; exit 1; }

if [ "${1:-}" = kconfig ]; then
    py=${2:-python3}
    command -v "$py" >/dev/null 2>&1 ||
        die "missing $py, which runs Kconfig: apt-get install python3 python3-kconfiglib (or make deps)"
    "$py" -c 'import kconfiglib' >/dev/null 2>&1 ||
        die "missing kconfiglib for $py (the configuration tools): apt-get install python3-kconfiglib, or pip install kconfiglib (or make deps)"
    exit 0
fi
[ "${1:-}" = build ] || { echo "usage: $0 kconfig PYTHON | build" >&2; exit 2; }

build=${SSE_BUILD:?} cflags=${SSE_CFLAGS:-} needs=" ${SSE_NEEDS:-} "
# The commands' first words are the programs (CC may carry flags:
# "clang --target=...").
# shellcheck disable=SC2086 # word lists on purpose
set -- $SSE_CC
cc=$1
# shellcheck disable=SC2086
set -- $SSE_AR
ar=$1

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

has() { case $needs in *" $1 "*) return 0 ;; esac; return 1; }
# probe LINES...: the compiler's preprocessor finds these includes with the
# build's flags (no warning counts: -w).
probe() {
    printf '%s\n' "$@" >"$tmp/probe.c"
    # shellcheck disable=SC2086
    $SSE_CC $cflags -w -E "$tmp/probe.c" >"$tmp/probe.i" 2>"$tmp/probe.err"
}
# Debian installed? (for what cannot be probed without the compiler)
installed() {
    command -v dpkg-query >/dev/null 2>&1 || return 1
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# ---- 1. tools ----------------------------------------------------------------
missing="" pkgs="" archs=""
miss() { # what [package]
    missing="$missing${missing:+, }$1"
    [ -n "${2:-}" ] && pkgs="$pkgs $2"
}
name=${cc##*/}
# The Debian packages of the compiler, its binutils and its C library, and
# the Debian architecture of target libraries (":arm64").
case $name in
arm-none-eabi-*)       tc=gcc-arm-none-eabi libc=libnewlib-arm-none-eabi bu=binutils-arm-none-eabi
                       darch=none ;;
aarch64-linux-gnu-*)   tc=gcc-aarch64-linux-gnu libc=libc6-dev-arm64-cross bu=binutils-aarch64-linux-gnu
                       darch=arm64 ;;
arm-linux-gnueabihf-*) tc=gcc-arm-linux-gnueabihf libc=libc6-dev-armhf-cross bu=binutils-arm-linux-gnueabihf
                       darch=armhf ;;
clang*)                tc=clang libc=libc6-dev bu=binutils darch="" ;;
cc|gcc|gcc-[0-9]*|x86_64-linux-gnu-gcc*) tc=gcc libc=libc6-dev bu=binutils darch="" ;;
*)                     tc="" libc="" bu="" darch=unknown ;;
esac
native=$(dpkg --print-architecture 2>/dev/null || echo amd64)
# A target library: pkg or pkg:arch (multiarch), none for bare metal.
tlib() {
    case $darch in
    ""|"$native") echo "$1" ;;
    none|unknown) ;;
    *) echo "$1:$darch"
       case " $archs " in *" $darch "*) ;; *) archs="$archs $darch" ;; esac ;;
    esac
}
have_cc=0
if ! command -v "$cc" >/dev/null 2>&1; then
    if [ -n "$tc" ]; then
        miss "$cc (the compiler this configuration names: CONFIG_SSE_CROSS_COMPILE, or CC=)" "$tc $libc"
    else
        miss "$cc (the compiler this configuration names: CONFIG_SSE_CROSS_COMPILE, or CC=; install the toolchain that provides it)"
    fi
    # What the goals need too, when Debian says it is missing.
    for n in cunit:libcunit1-dev mbedtls:libmbedtls-dev uring:liburing-dev; do
        has "${n%%:*}" || continue
        p=$(tlib "${n#*:}")
        [ -n "$p" ] && ! installed "$p" && pkgs="$pkgs $p"
    done
else
    have_cc=1
    command -v "$ar" >/dev/null 2>&1 || miss "$ar (the archiver beside $cc)" "$bu"
    if ! probe '#include <stdlib.h>' '#include <string.h>'; then
        miss "the C library headers of $cc" "$libc"
        have_cc=0
    fi
fi
triple=""
[ $have_cc = 1 ] && triple=$($SSE_CC -dumpmachine 2>/dev/null)
if [ $have_cc = 1 ]; then
    if has cunit && ! probe '#include <CUnit/Basic.h>'; then
        miss "CUnit for ${triple:-$cc} (the test runner)" "$(tlib libcunit1-dev)"
    fi
    if has mbedtls && ! probe '#include <mbedtls/ssl.h>'; then
        miss "mbedTLS headers for ${triple:-$cc} (CONFIG_SSE_TLS)" "$(tlib libmbedtls-dev)"
    fi
    if has uring && ! probe '#include <liburing.h>'; then
        miss "liburing for ${triple:-$cc} (CONFIG_SSE_PORT_IO_URING)" "$(tlib liburing-dev)"
    fi
fi
if has lwip-pkg-config; then
    if ! command -v pkg-config >/dev/null 2>&1; then
        miss "pkg-config (finds Debian's hosted lwIP)" "pkg-config liblwip-dev"
    elif ! pkg-config --exists lwip; then
        miss "Debian's hosted lwIP (pkg-config lwip)" liblwip-dev
    fi
fi
if has lwip-dirs; then
    for d in ${SSE_LWIP_DIRS:-}; do
        [ -d "$d" ] && continue
        case $d in
        /usr/include/lwip) miss "lwIP's headers in $d" liblwip-dev ;;
        *) miss "$d (CONFIG_SSE_LWIP_INCLUDE_DIRS: make menuconfig)" ;;
        esac
    done
fi
if [ -n "$missing" ]; then
    line="missing $missing"
    if [ -n "$pkgs" ]; then
        # shellcheck disable=SC2086 # one word per package
        pkgs=$(printf '%s\n' $pkgs | awk '!seen[$0]++' | tr '\n' ' ')
        line="$line: apt-get install ${pkgs% }"
        [ -n "$archs" ] && line="$line (after dpkg --add-architecture${archs} and apt-get update)"
        line="$line, or make deps"
    fi
    die "$line"
fi

# ---- 2. lwIP's socket table against the slots --------------------------------
if has netconn; then
    slots=${SSE_MAX_CONNECTIONS:?}
    if ! probe '#include "lwip/opt.h"' "sse_netconn = MEMP_NUM_NETCONN" \
               "#if MEMP_NUM_NETCONN < $slots + 1" "sse_netconn_short" "#endif"; then
        first=$(grep -m1 -E 'error|fatal' "$tmp/probe.err")
        die "cannot read lwIP's MEMP_NUM_NETCONN: the preprocessor says: ${first:-nothing}: check the lwIP include directories (make toolchain)"
    fi
    opts=$(sed -n 's/^# [0-9]* "\([^"]*lwipopts\.h\)".*/\1/p' "$tmp/probe.i" | head -n 1)
    val=$(sed -n 's/^sse_netconn = //p' "$tmp/probe.i" | tail -n 1)
    if grep -q '^sse_netconn_short' "$tmp/probe.i"; then
        # Its value for the message: the expression with integer suffixes dropped.
        n=$(echo "$val" | sed 's/\([0-9]\)[uUlL]*/\1/g')
        # shellcheck disable=SC2004 # $n is an expression, not a number
        n=$( (echo $(($n))) 2>/dev/null) || n=$val
        die "lwIP's MEMP_NUM_NETCONN is $n (${opts:-lwipopts.h}) but CONFIG_SSE_MAX_CONNECTIONS=$slots needs $((slots + 1)) sockets (slots + listener): raise MEMP_NUM_NETCONN there, lower CONFIG_SSE_MAX_CONNECTIONS (make menuconfig), or unset CONFIG_SSE_LWIP_NETCONN_CHECK for an lwIP whose socket table it does not bound"
    fi
fi

# ---- 3. signatures --------------------------------------------------------------
# The compiler as the path it resolves to: cc and gcc are one compiler.
path=$(command -v "$cc")
real=$(readlink -f "$path" 2>/dev/null || echo "$path")
# shellcheck disable=SC2086
set -- $SSE_CC
shift
rest="$*"
version=$($SSE_CC --version 2>/dev/null | head -n 1)
{
    echo "target: $triple"
    echo "compiler: $real${rest:+ $rest} ($version)"
    echo "compile: $cflags"
} >"$tmp/cc"
{
    echo "target: $triple"
    echo "link: $real${rest:+ $rest} ${SSE_LINK:-}"
    echo "archive: $SSE_AR"
} >"$tmp/ld"

mkdir -p "$build" || exit 2
old=$(sed -n 's/^target: //p' "$build/.cc-signature" 2>/dev/null)
if [ -f "$build/.cc-signature" ] && [ "$old" != "$triple" ]; then
    # This folder's own outputs only (a folder may hold other build folders,
    # as build/ holds build/gcc).
    echo "ssedge: $build held objects for ${old:-another target}, now $triple: removing them" >&2
    for d in core port tests examples bench tools; do
        [ -d "$build/$d" ] && find "$build/$d" -type f \( -name '*.o' -o -name '*.d' \) -exec rm -f {} +
    done
    rm -rf "${build:?}/bin" "${build:?}/libssedge.a"
fi
for s in cc ld; do
    cmp -s "$tmp/$s" "$build/.$s-signature" || cp "$tmp/$s" "$build/.$s-signature"
done
exit 0
