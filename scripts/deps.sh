#!/bin/sh
# Installs the Debian packages ssedge needs; "check" only reports what is missing.
# Usage: scripts/deps.sh [check|install] [group...]   groups: build test e2e lwip bench
set -u
mode=${1:-install}; shift 2>/dev/null || true
groups=${*:-build test}

pkgs_build="make gcc libc6-dev python3 python3-kconfiglib"
pkgs_test="clang libclang-rt-14-dev libcunit1-dev curl binutils procps libmbedtls-dev openssl"
pkgs_e2e="chromium nginx nodejs openssl"
pkgs_lwip="liblwip-dev pkg-config iproute2 gcc-arm-none-eabi libnewlib-arm-none-eabi"
pkgs_bench="procps libmbedtls-dev openssl"

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
[ -z "$missing" ] && exit 0

if [ "$mode" = check ]; then
    echo "missing packages:$missing"
    exit 1
fi
echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
# apt-get update may fail on one mirror index yet leave the main suite usable:
# go on and let the install decide.
$SUDO apt-get update -qq || echo "deps: apt-get update reported errors, trying install" >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 $missing
