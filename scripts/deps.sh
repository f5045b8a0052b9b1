#!/bin/sh
# Installs the Debian packages ssedge needs; "check" only reports what is missing.
# Usage: scripts/deps.sh [check|install] [group...]
#        scripts/deps.sh need WHAT group...   (one line naming what WHAT lacks,
#                                              exit 1; no dpkg: says nothing)
# groups: build test e2e lwip bench rpi hub fuzz
# Only make run, test, bench and deps install (the Makefile); every other
# target asks "need" or scripts/preflight.sh.
# The pkgs_* groups are read through eval.
# shellcheck disable=SC2034
set -u
mode=${1:-install}; shift 2>/dev/null || true
what=""
if [ "$mode" = need ]; then
    what=${1:-this target}; shift 2>/dev/null || true
    # Not Debian: nothing to ask; the build itself says what fails.
    command -v dpkg-query >/dev/null 2>&1 || exit 0
fi
groups=${*:-build test}

pkgs_build="make gcc libc6-dev python3 python3-kconfiglib liburing-dev"
pkgs_test="clang libclang-rt-14-dev libcunit1-dev curl binutils procps libmbedtls-dev openssl valgrind"
pkgs_e2e="chromium nginx nodejs openssl"
pkgs_lwip="liblwip-dev pkg-config iproute2 gcc-arm-none-eabi libnewlib-arm-none-eabi"
pkgs_bench="procps libmbedtls-dev openssl libmicrohttpd-dev libcivetweb-dev nginx libnginx-mod-nchan pkg-config"
pkgs_hub="nginx libnginx-mod-nchan redis-server curl openssl"
# libFuzzer and the sanitizers (make fuzz).
pkgs_fuzz="clang libclang-rt-14-dev"
# Raspberry Pi cross builds run under qemu-user; the runner and TLS builds
# link the target's CUnit and mbedTLS from Debian multiarch (the ":arch"
# packages need dpkg --add-architecture first), and the host preset built
# with a cross compiler (CROSS_COMPILE=) the target's liburing.
pkgs_rpi="gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross
 libc6-dev-armhf-cross qemu-user libcunit1-dev:arm64 libcunit1-dev:armhf
 libmbedtls-dev:arm64 libmbedtls-dev:armhf liburing-dev:arm64 liburing-dev:armhf"

want=""
for g in $groups; do
    eval "want=\"\$want \$pkgs_$g\""
done

missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing="$missing $p"
done
# npm ships inside some nodejs builds; Debian's own nodejs needs the npm
# package. Ask for it only when the command is missing (they conflict).
case " $groups " in
*" e2e "*) command -v npm >/dev/null 2>&1 || missing="$missing npm" ;;
esac
# Foreign architectures named by ":arch" packages and not yet enabled.
archs=""
for p in $want; do
    case "$p" in *:*) a=${p#*:} ;; *) continue ;; esac
    case " $archs " in *" $a "*) continue ;; esac
    dpkg --print-foreign-architectures 2>/dev/null | grep -qx "$a" || archs="$archs $a"
done
[ -z "$missing" ] && exit 0

if [ "$mode" = need ]; then
    first=""
    [ -n "$archs" ] && first=" (dpkg --add-architecture${archs} first)"
    echo "ssedge: $what needs Debian packages that are missing: apt-get install${missing}${first}, or make deps" >&2
    exit 1
fi
if [ "$mode" = check ]; then
    [ -n "$archs" ] && echo "missing dpkg architectures:$archs"
    echo "missing packages:$missing"
    exit 1
fi
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
for a in $archs; do
    echo "deps: dpkg --add-architecture $a" >&2
    $SUDO dpkg --add-architecture "$a" || exit 1
done
# apt-get update may fail on one mirror index yet leave the main suite usable:
# go on and let the install decide.
$SUDO apt-get update -qq || echo "deps: apt-get update reported errors, trying install" >&2
# shellcheck disable=SC2086 # $missing is a list of package names
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 $missing
r=$?
# With a foreign architecture a failed index fetch shows only here: say
# which packages are still missing rather than trusting the exit code alone.
still=""
for p in $missing; do
    case "$p" in npm) command -v npm >/dev/null 2>&1 && continue ;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || still="$still $p"
done
if [ -n "$still" ]; then
    echo "deps: still missing after apt-get install:$still" >&2
    exit 1
fi
exit $r
