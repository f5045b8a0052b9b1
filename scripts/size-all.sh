#!/bin/sh
# make size-all: scripts/size.sh over every preset in configs/, then one
# footprint table (code and static RAM of ssedge's own objects, and how
# static RAM grows with CONFIG_SSE_MAX_CONNECTIONS). Details per preset in
# build/size/<preset>.txt.
set -u
cd "$(dirname "$0")/.." || exit 2
mkdir -p build/size
rc=0
rows=""
for preset in configs/*_defconfig; do
    name=$(basename "$preset" _defconfig)
    if scripts/size.sh "$preset" >"build/size/$name.txt" 2>&1; then
        rows="$rows$(sed -n 's/^summary: //p' "build/size/$name.txt")
"
    else
        echo "size-all: $name failed (build/size/$name.txt)" >&2
        rc=1
    fi
done
fmt='%-16s %-24s %9s %10s %10s %10s %9s\n'
# shellcheck disable=SC2059
printf "$fmt" preset compiler "text B" "RAM@4 B" "RAM@16 B" "B/conn" "stack B"
printf '%s' "$rows" | while read -r name cc text r4 r16 per stack tls; do
    # shellcheck disable=SC2059
    printf "$fmt" "$name" "${cc#cc=}" "${text#text=}" "${r4#ram4=}" "${r16#ram16=}" \
        "${per#per=}" "${stack#stack=}"
    : "$tls"
done
echo "RAM = static data+bss of libssedge.a (ring, slots, buffers); thread stacks"
echo "(stack B x (connections + 3)) come from the OS and are not included."
exit $rc
