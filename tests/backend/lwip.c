/* SPDX-License-Identifier: MIT */
/* Test backend for the lwIP port: Debian's hosted lwIP on a tap link that
 * tests/lwip/netns.sh makes inside a network namespace. The test process
 * runs in that namespace, so its Linux client sockets reach lwIP's own TCP
 * over the link (there is no 127.0.0.1 inside lwIP).
 *
 * Environment: PRECONFIGURED_TAPIF (required: the tap device, e.g. tap0),
 * SSE_LWIP_IP / SSE_LWIP_NETMASK / SSE_LWIP_GW (default 192.168.77.2/24
 * via .1) and SSE_LWIP_IP6 (default fd00:77::2, a /64 with Linux on ::1):
 * addresses that exist only inside the test's namespace.
 *
 * MTU 576: Debian's liblwip 2.1.3 sizes its PBUF_POOL elements for 590-byte
 * frames (memp_PBUF_POOL: 616 bytes) while its pbuf_alloc() fills 1536 per
 * pool pbuf, so tapif overflows the heap on any received frame > 590 bytes
 * (seen under ASan with a 1141-byte request). A 576-byte MTU on lwIP's
 * netif makes it advertise MSS 536 (516 over IPv6), which keeps every TCP
 * frame Linux sends within 590; the Linux side keeps 1500 (IPv6 needs
 * 1280 or more there). */
#define _DEFAULT_SOURCE /* lwIP's headers want SSIZE_MAX */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "backend.h"
#include "sse_arch.h" /* sse_port_lwip_set_random */

/* Debian's hosted lwIP: its headers are -Wundef/-Wshadow clean (a board's
 * may not be: port/lwip/ guards them). */
#include "lwip/opt.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"
#include "lwip/netif.h"
#include "lwip/ip_addr.h"
#include "lwip/mld6.h"
#include "netif/tapif.h"

#define SSE_LWIP_HOST_MTU 576 /* see above: not a board setting */

static struct netif tap_netif;
static sys_sem_t up_sem;
static ip4_addr_t a_ip, a_mask, a_gw;
static char client_addr[16];
#if LWIP_IPV6
static ip6_addr_t a_ip6;
static char client_addr6[48];
#endif
static int is_up;

/* The board's RNG hook (TLS seeds from it): the host's kernel here. */
static int host_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* On the tcpip thread with the core lock held: netif calls are legal here. */
static void tcpip_ready(void *arg)
{
    int *ok = arg;
    *ok = netif_add(&tap_netif, &a_ip, &a_mask, &a_gw, NULL, tapif_init, tcpip_input) != NULL;
    if (*ok) {
        tap_netif.mtu = SSE_LWIP_HOST_MTU;
#if LWIP_IPV6
#if LWIP_ND6_ALLOW_RA_UPDATES
        tap_netif.mtu6 = SSE_LWIP_HOST_MTU;
#endif
        {   /* A global address, valid at once (no duplicate detection on a
             * link of two), besides the link-local one. */
            s8_t idx = -1;
            netif_create_ip6_linklocal_address(&tap_netif, 1);
            netif_ip6_addr_set_state(&tap_netif, 0, IP6_ADDR_PREFERRED);
            if (netif_add_ip6_address(&tap_netif, &a_ip6, &idx) == ERR_OK && idx >= 0) {
                ip6_addr_t sn;
                netif_ip6_addr_set_state(&tap_netif, idx, IP6_ADDR_PREFERRED);
                /* Neighbour solicitations for it go to its solicited-node
                 * group: join it (nothing else does for a PREFERRED address
                 * set directly). */
                ip6_addr_set_solicitednode(&sn, a_ip6.addr[3]);
                mld6_joingroup_netif(&tap_netif, &sn);
            }
        }
#endif
        netif_set_default(&tap_netif);
        netif_set_up(&tap_netif);
        netif_set_link_up(&tap_netif);
    }
    sys_sem_signal(&up_sem);
}

int tb_up(void)
{
    static int ok;
    if (is_up)
        return 0;
    /* Without it tapif makes its own device and runs ifconfig: refuse. */
    if (!getenv("PRECONFIGURED_TAPIF")) {
        fprintf(stderr, "lwip backend: PRECONFIGURED_TAPIF is not set; run under "
                        "tests/lwip/netns.sh\n");
        return -1;
    }
    if (!ip4addr_aton(env_or("SSE_LWIP_IP", "192.168.77.2"), &a_ip) ||
        !ip4addr_aton(env_or("SSE_LWIP_NETMASK", "255.255.255.0"), &a_mask) ||
        !ip4addr_aton(env_or("SSE_LWIP_GW", "192.168.77.1"), &a_gw)) {
        fprintf(stderr, "lwip backend: bad SSE_LWIP_IP/NETMASK/GW\n");
        return -1;
    }
    sse_port_lwip_set_random(host_random);
#if LWIP_IPV6
    if (!ip6addr_aton(env_or("SSE_LWIP_IP6", "fd00:77::2"), &a_ip6)) {
        fprintf(stderr, "lwip backend: bad SSE_LWIP_IP6\n");
        return -1;
    }
    ip6addr_ntoa_r(&a_ip6, client_addr6, sizeof client_addr6);
#endif
    if (sys_sem_new(&up_sem, 0) != ERR_OK)
        return -1;
    tcpip_init(tcpip_ready, &ok);
    sys_arch_sem_wait(&up_sem, 0); /* 0 = forever in lwIP */
    sys_sem_free(&up_sem);
    if (!ok) {
        fprintf(stderr, "lwip backend: netif_add failed\n");
        return -1;
    }
    ip4addr_ntoa_r(&a_ip, client_addr, sizeof client_addr);
    is_up = 1; /* tapif has no teardown: lwIP stays up until exit */
    return 0;
}

const char *tb_name(void) { return "lwip"; }
const char *tb_bind_addr(void) { return "0.0.0.0"; }
const char *tb_client_addr(void) { return client_addr; }
/* Linux's end of the tap link (the namespace's tap0). */
const char *tb_host_addr(void) { return env_or("SSE_LWIP_GW", "192.168.77.1"); }
const char *tb_client_addr6(void)
{
#if LWIP_IPV6
    return client_addr6;
#else
    return NULL;
#endif
}

/* Log capture through the port's log hook. A stream's thread may still log
 * (its close, say) while the test reads: the test reads the copy taken at
 * tb_log_stop(), as on POSIX, never the buffer threads write to. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384], log_copy[sizeof log_text];
static size_t log_len;

static void log_to_text(int level, const char *msg)
{
    (void)level;
    pthread_mutex_lock(&log_lock);
    log_len += (size_t)snprintf(log_text + log_len, sizeof log_text - log_len, "%s\n", msg);
    if (log_len >= sizeof log_text)
        log_len = sizeof log_text - 1;
    pthread_mutex_unlock(&log_lock);
}

void tb_log_start(void)
{
    pthread_mutex_lock(&log_lock);
    log_len = 0;
    log_text[0] = 0;
    pthread_mutex_unlock(&log_lock);
    sse_port_lwip_set_log(log_to_text);
}

void tb_log_stop(void)
{
    sse_port_lwip_set_log(NULL);
    pthread_mutex_lock(&log_lock);
    memcpy(log_copy, log_text, log_len + 1);
    pthread_mutex_unlock(&log_lock);
}

const char *tb_log_text(void)
{
    return log_copy;
}
