#!/bin/sh
# Every preset in configs/ builds as a user builds it, with nothing on the
# command line but the folder (make O=dir NAME_defconfig && make O=dir: the
# toolchain, flags, lwIP headers and default goal are the preset's own), with
# -Werror, and savedefconfig of it gives the same settings back (the
# preset's lines without its comments, "# CONFIG_X is not set" kept, in
# order: no redundant or dead line).
# Output: one line per preset, then "presets: N passed, M failed".
set -u
cd "$(dirname "$0")/.." || exit 2
MAKE=${MAKE:-make}
unset MAKEFLAGS MFLAGS MAKELEVEL
JOBS=${JOBS:-2}
pass=0 fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

for preset in configs/*_defconfig; do
    name=$(basename "$preset" _defconfig)
    out=build/presets/$name
    rm -rf "$out"
    if ! timeout 1200 "$MAKE" -s O="$out" "${name}_defconfig" >"$tmp/log" 2>&1 ||
       ! timeout 1200 "$MAKE" -s -j"$JOBS" O="$out" >>"$tmp/log" 2>&1; then
        tail -20 "$tmp/log"
        echo "FAIL - $name: make O=$out ${name}_defconfig && make O=$out"
        fail=$((fail + 1))
        continue
    fi
    what=$("$MAKE" -s O="$out" toolchain 2>/dev/null | sed -n 's/^CC=//p')
    if [ -d "$out/bin" ]; then what="$what, programs"; else what="$what, library"; fi
    "$MAKE" -s O="$out" savedefconfig >>"$tmp/log" 2>&1
    # The preset's own lines, "is not set" ones included, in order.
    awk '/^# CONFIG_[A-Za-z0-9_]* is not set$/ { print; next }
         /^#/ || /^[[:space:]]*$/ { next } { print }' "$preset" >"$tmp/want"
    if cmp -s "$tmp/want" "$out/defconfig"; then
        echo "ok - $name: builds as it is ($what), savedefconfig round-trips"
        pass=$((pass + 1))
    else
        echo "FAIL - $name: savedefconfig differs (preset < > saved)"
        diff "$tmp/want" "$out/defconfig" | sed 's/^/    /'
        fail=$((fail + 1))
    fi
done
echo "presets: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
