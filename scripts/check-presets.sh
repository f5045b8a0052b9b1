#!/bin/sh
# Every preset in configs/ builds with -Werror, with the toolchain its name
# asks for, and savedefconfig of it gives the same settings back (the
# preset's non-comment lines, in order: no redundant or dead line).
# Output: one line per preset, then "presets: N passed, M failed".
set -u
cd "$(dirname "$0")/.." || exit 2
MAKE=${MAKE:-make}
unset MAKEFLAGS MFLAGS MAKELEVEL
JOBS=${JOBS:-2}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
LWIP_HOST_CFLAGS="$(pkg-config --cflags lwip 2>/dev/null)"

for preset in configs/*_defconfig; do
    name=$(basename "$preset" _defconfig)
    out=build/presets/$name
    # What to build and with which compiler: the host programs where they
    # run here, the library for cross targets (the Pi programs are built and
    # run under qemu by tests/rpi/qemu_test.sh).
    set -- all
    case $name in
    cortex_m*)
        set -- lib CC=arm-none-eabi-gcc AR=arm-none-eabi-ar \
            "OPT=-Os -mcpu=cortex-m4 -mthumb -mfloat-abi=soft" \
            "LWIP_CFLAGS=-Iport/lwip/target -I/usr/include/lwip" ;;
    rpi_aarch64) set -- lib CROSS_COMPILE=aarch64-linux-gnu- ;;
    rpi_armhf)   set -- lib CROSS_COMPILE=arm-linux-gnueabihf- ;;
    lwip_host_suite|lwip_host_tls)
        set -- all "LWIP_CFLAGS=$LWIP_HOST_CFLAGS -DSSE_LWIP_NO_NETCONN_CHECK" ;;
    esac
    rm -rf "$out"
    if ! $MAKE -s O="$out" "${name}_defconfig" >"$tmp/log" 2>&1 ||
       ! $MAKE -s -j"$JOBS" O="$out" "$@" >>"$tmp/log" 2>&1; then
        tail -20 "$tmp/log"
        echo "FAIL - $name: build ($*)"
        fail=$((fail + 1))
        continue
    fi
    $MAKE -s O="$out" savedefconfig >>"$tmp/log" 2>&1
    grep -v -e '^#' -e '^[[:space:]]*$' "$preset" >"$tmp/want"
    if cmp -s "$tmp/want" "$out/defconfig"; then
        echo "ok - $name: builds ($1), savedefconfig round-trips"
        pass=$((pass + 1))
    else
        echo "FAIL - $name: savedefconfig differs (preset < > saved)"
        diff "$tmp/want" "$out/defconfig" | sed 's/^/    /'
        fail=$((fail + 1))
    fi
done
echo "presets: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
