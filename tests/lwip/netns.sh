#!/usr/bin/env bash
# Runs one command inside a network namespace made for it, with a tap link
# for Debian's hosted lwIP: Linux holds 192.168.77.1/24 on tap0, the lwIP
# program in the command takes .2 (PRECONFIGURED_TAPIF=tap0 and
# SSE_LWIP_IP/NETMASK/GW are exported). The addresses exist only inside the
# namespace; IPv6 too: Linux fd00:77::1/64, lwIP ::2 (SSE_LWIP_IP6).
# lwIP's netif has MTU 576: Debian's lwIP overflows its pbufs on received
# frames over 590 bytes (tests/backend/lwip.c). This is how the shared suites and the bench run over lwIP:
#
#   sudo tests/lwip/netns.sh [-t SECONDS] build/lwip-suite/bin/sse_tests -s server
#
# The command is killed after SECONDS (default 300); the namespace is
# deleted whatever happens. Exit status is the command's (124 on time-out).
set -u

LIMIT=300
if [ "${1:-}" = "-t" ]; then
    LIMIT=$2
    shift 2
fi
[ $# -ge 1 ] || { echo "usage: $0 [-t SECONDS] CMD [ARGS...]" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
    echo "netns.sh: needs root (network namespace and tap device)" >&2
    exit 2
fi

NS=sse-net-$$
cleanup() { timeout 5 ip netns del "$NS" 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { timeout 5 ip netns exec "$NS" "$@"; }
timeout 5 ip netns add "$NS" &&
    nsx ip link set lo up &&
    nsx ip tuntap add dev tap0 mode tap &&
    nsx ip addr add 192.168.77.1/24 dev tap0 &&
    nsx ip -6 addr add fd00:77::1/64 dev tap0 nodad &&
    nsx ip link set tap0 up ||
    { echo "netns.sh: cannot make $NS with tap0" >&2; exit 2; }

# The command runs in the foreground: timeout's signal reaches it, and
# tapif's device goes away with the namespace afterwards.
timeout -k 5 "$LIMIT" ip netns exec "$NS" env PRECONFIGURED_TAPIF=tap0 \
    SSE_LWIP_IP=192.168.77.2 SSE_LWIP_NETMASK=255.255.255.0 SSE_LWIP_GW=192.168.77.1 \
    SSE_LWIP_IP6=fd00:77::2 \
    "$@"
