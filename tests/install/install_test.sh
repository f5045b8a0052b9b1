#!/bin/sh
# make install into a scratch DESTDIR, then build and run a program against
# the installed copy through pkg-config, as a user of the library would.
# Last line: "install: N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 2
MAKE=${MAKE:-make}
unset MAKEFLAGS MFLAGS MAKELEVEL
pass=0 fail=0
ok()   { pass=$((pass + 1)); echo "ok - $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL - $1"; }
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT INT TERM
O=build/install-test
PREFIX=/usr/local

if $MAKE -s O=$O posix_defconfig >"$D/log" 2>&1 &&
   $MAKE -s O=$O install PREFIX=$PREFIX DESTDIR="$D/stage" >>"$D/log" 2>&1; then
    ok "make install PREFIX=$PREFIX DESTDIR=..."
else
    tail -20 "$D/log"; bad "make install"
fi
for f in lib/libssedge.a lib/pkgconfig/ssedge.pc include/ssedge/sse.h \
         include/ssedge/sse_config.h bin/ssedge-rpi lib/systemd/system/ssedge-rpi.service; do
    if [ -f "$D/stage$PREFIX/$f" ]; then ok "installed $f"; else bad "installed $f"; fi
done
grep -q "^ExecStart=$PREFIX/bin/ssedge-rpi" "$D/stage$PREFIX/lib/systemd/system/ssedge-rpi.service" \
    && ok "unit's ExecStart names $PREFIX/bin" || bad "unit's ExecStart"

# pkg-config sees the staged tree as its sysroot.
PC="env PKG_CONFIG_SYSROOT_DIR=$D/stage PKG_CONFIG_LIBDIR=$D/stage$PREFIX/lib/pkgconfig pkg-config"
flags=$($PC --cflags --libs ssedge 2>&1) && ok "pkg-config --cflags --libs ssedge: $flags" ||
    bad "pkg-config ssedge: $flags"
# shellcheck disable=SC2086
if cc -std=c99 -Wall -Wextra -Werror -o "$D/hello" tests/install/hello_ssedge.c $flags 2>"$D/cc.log"; then
    ok "a program builds against the installed library"
    if timeout 20 "$D/hello"; then ok "it streams an event"; else bad "it streams an event"; fi
else
    cat "$D/cc.log"; bad "a program builds against the installed library"
fi
echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
