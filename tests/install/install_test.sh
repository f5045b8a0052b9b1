#!/bin/sh
# make install into a scratch DESTDIR (ssedge.pc carrying the version of
# include/ssedge/sse_version.h), then build and run a program against
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
         include/ssedge/sse_version.h include/ssedge/sse_config.h bin/ssedge-rpi bin/ssedge \
         lib/systemd/system/ssedge-rpi.service lib/systemd/system/ssedge@.service \
         share/ssedge/example.conf; do
    if [ -f "$D/stage$PREFIX/$f" ]; then ok "installed $f"; else bad "installed $f"; fi
done
grep -q "^ExecStart=$PREFIX/bin/ssedge-rpi" "$D/stage$PREFIX/lib/systemd/system/ssedge-rpi.service" \
    && ok "unit's ExecStart names $PREFIX/bin" || bad "unit's ExecStart"
grep -q "^ExecStart=$PREFIX/bin/ssedge \$SSEDGE_ARGS\$" "$D/stage$PREFIX/lib/systemd/system/ssedge@.service" \
    && ok "ssedge@.service's ExecStart names $PREFIX/bin" || bad "ssedge@.service's ExecStart"

# pkg-config sees the staged tree as its sysroot.
PC="env PKG_CONFIG_SYSROOT_DIR=$D/stage PKG_CONFIG_LIBDIR=$D/stage$PREFIX/lib/pkgconfig pkg-config"
flags=$($PC --cflags --libs ssedge 2>&1) && ok "pkg-config --cflags --libs ssedge: $flags" ||
    bad "pkg-config ssedge: $flags"
# The version has one home, sse_version.h: the installed ssedge.pc says the
# same, and the string matches the three numbers (read by the preprocessor,
# not by the sed that make install uses).
cflags=$($PC --cflags ssedge 2>/dev/null)
# shellcheck disable=SC2046,SC2086 # word lists on purpose
set -- $(printf '#include "ssedge/sse_version.h"\nSSE_VERSION_STRING SSE_VERSION_MAJOR SSE_VERSION_MINOR SSE_VERSION_PATCH\n' |
         cc -E -P $cflags - 2>/dev/null | tail -1) x x x x
v=$(echo "$1" | tr -d '"')
if [ -n "$v" ] && [ "$1" = "\"$2.$3.$4\"" ]; then
    ok "installed sse_version.h: SSE_VERSION_STRING $1 = MAJOR.MINOR.PATCH"
else
    bad "installed sse_version.h: SSE_VERSION_STRING $1 against $2.$3.$4"
fi
mv=$($PC --modversion ssedge 2>&1)
if [ -n "$v" ] && [ "$mv" = "$v" ]; then
    ok "pkg-config --modversion ssedge: $mv, as in sse_version.h"
else
    bad "pkg-config --modversion ssedge: \"$mv\", sse_version.h says $1"
fi
# shellcheck disable=SC2086
if cc -std=c99 -Wall -Wextra -Werror -o "$D/hello" tests/install/hello_ssedge.c $flags 2>"$D/cc.log"; then
    ok "a program builds against the installed library"
    if timeout 20 "$D/hello"; then ok "it streams an event"; else bad "it streams an event"; fi
else
    cat "$D/cc.log"; bad "a program builds against the installed library"
fi
echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
