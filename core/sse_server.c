/* SPDX-License-Identifier: MIT */
/* Starting and stopping the server, its settings and its stats. */
#include <string.h>
#include "sse_log.h"
#include "sse_atomic.h"
#include "sse_timer.h"
#include "sse_srv.h"
#include "sse_uplink_int.h"
#include "sse_ingest.h"

void sse_server_cfg_init(sse_server_cfg_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->bind_addr = "0.0.0.0";
    cfg->port = 8080;
    cfg->max_connections = CONFIG_SSE_MAX_CONNECTIONS;
    cfg->retry_ms = CONFIG_SSE_RETRY_MS;
    cfg->heartbeat_ms = CONFIG_SSE_HEARTBEAT_MS;
    cfg->idle_check_ms = CONFIG_SSE_IDLE_CHECK_MS;
    cfg->send_timeout_ms = CONFIG_SSE_SEND_TIMEOUT_MS;
    cfg->header_timeout_ms = CONFIG_SSE_HEADER_TIMEOUT_MS;
    cfg->overload_retry_ms = CONFIG_SSE_OVERLOAD_RETRY_MS;
    cfg->coalesce_ms = CONFIG_SSE_COALESCE_MS;
}

/* SSE_ERR_ARG with one log line saying which setting and what it takes. */
#define BAD_CFG(...) do { SSE_LOG(SSE_LOG_ERR, "cannot start: " __VA_ARGS__); \
                          return SSE_ERR_ARG; } while (0)

static int check_cfg(const sse_server_cfg_t *cfg)
{
    unsigned i;
    if (!cfg)
        BAD_CFG("no configuration (cfg is NULL)");
    if (cfg->num_routes > CONFIG_SSE_MAX_ROUTES || (cfg->num_routes && !cfg->routes))
        BAD_CFG("%u routes given, at most CONFIG_SSE_MAX_ROUTES (%d), routes != NULL",
                cfg->num_routes, CONFIG_SSE_MAX_ROUTES);
    if (cfg->max_connections == 0 || cfg->max_connections > CONFIG_SSE_MAX_CONNECTIONS)
        BAD_CFG("max_connections %u: 1..CONFIG_SSE_MAX_CONNECTIONS (%d)", cfg->max_connections,
                CONFIG_SSE_MAX_CONNECTIONS);
    if (cfg->idle_check_ms == 0 || cfg->send_timeout_ms == 0 || cfg->header_timeout_ms == 0)
        BAD_CFG("idle_check_ms, send_timeout_ms and header_timeout_ms must not be 0");
    if (cfg->num_channel_names > CONFIG_SSE_MAX_CHANNELS ||
        (cfg->num_channel_names && !cfg->channel_names))
        BAD_CFG("%u channel names, at most CONFIG_SSE_MAX_CHANNELS (%d)",
                cfg->num_channel_names, CONFIG_SSE_MAX_CHANNELS);
    if (cfg->num_cors_origins > CONFIG_SSE_MAX_CORS_ORIGINS ||
        (cfg->num_cors_origins && !cfg->cors_origins))
        BAD_CFG("%u CORS origins, at most CONFIG_SSE_MAX_CORS_ORIGINS (%d)",
                cfg->num_cors_origins, CONFIG_SSE_MAX_CORS_ORIGINS);
    for (i = 0; i < cfg->num_channel_names; i++)
        if (!cfg->channel_names[i] || !cfg->channel_names[i][0])
            BAD_CFG("channel name %u is empty", i);
    for (i = 0; i < cfg->num_cors_origins; i++)
        if (!cfg->cors_origins[i])
            BAD_CFG("CORS origin %u is NULL", i);
    for (i = 0; i < cfg->num_routes; i++) {
        const sse_route_t *r = &cfg->routes[i];
        if (!r->path || (r->path[0] != '/' && strcmp(r->path, "*") != 0))
            BAD_CFG("route %u: path must start with '/' or be \"*\"", i);
        if (r->channel < SSE_CHANNEL_NONE || r->channel >= CONFIG_SSE_MAX_CHANNELS)
            BAD_CFG("route %s: channel %d, 0..%d or SSE_CHANNEL_NONE", r->path, r->channel,
                    CONFIG_SSE_MAX_CHANNELS - 1);
        if (r->token && strlen(r->token) < CONFIG_SSE_AUTH_MIN_TOKEN_LEN)
            BAD_CFG("route %s: token of %u characters, at least "
                    "CONFIG_SSE_AUTH_MIN_TOKEN_LEN (%d)", r->path, (unsigned)strlen(r->token),
                    CONFIG_SSE_AUTH_MIN_TOKEN_LEN);
    }
#if !defined(CONFIG_SSE_TLS)
    if (cfg->tls)
        BAD_CFG("cfg.tls is set, but this build has no TLS (CONFIG_SSE_TLS)");
#endif
    return sse_ingest_check(cfg);
}

int sse_server_start(const sse_server_cfg_t *cfg)
{
    int r;
    if ((r = check_cfg(cfg)) != SSE_OK)
        return r;
    if ((r = sse_srv_init()) != SSE_OK || (r = sse_port_init()) != SSE_OK)
        return r;
    sse_port_mutex_lock(&S.lock);
    if (S.running) {
        sse_port_mutex_unlock(&S.lock);
        return SSE_ERR_BUSY;
    }
    S.cfg = *cfg;
    /* memcpy from NULL is undefined even for 0 bytes. */
    if (cfg->num_routes)
        memcpy(S.routes, cfg->routes, cfg->num_routes * sizeof *cfg->routes);
    if (cfg->num_channel_names)
        memcpy(S.chan_names, cfg->channel_names, cfg->num_channel_names * sizeof(char *));
    if (cfg->num_cors_origins)
        memcpy(S.cors, cfg->cors_origins, cfg->num_cors_origins * sizeof(char *));
    sse_store_rel(&S.stopping, 0);
    S.quiet_streak = 0;
    S.running = 1;
    sse_port_mutex_unlock(&S.lock);
    sse_connbuf_reset_peak();

    if (cfg->tls && (r = sse_tls_init(cfg->tls)) != SSE_OK) {
        SSE_LOG(SSE_LOG_ERR, "TLS set-up failed: %s", sse_strerror(r));
        goto fail;
    }
    /* The caller's TLS settings were parsed; only "is TLS" is kept. */
    S.tls = cfg->tls != NULL;
    S.cfg.tls = NULL;
    r = sse_port_listen(&S.listener, cfg->bind_addr, cfg->port, CONFIG_SSE_LISTEN_BACKLOG);
    if (r != SSE_OK)
        goto fail; /* the port logged the address and the reason */
    S.port = sse_port_sock_local_port(&S.listener);
    if ((r = sse_timer_service_start()) != SSE_OK)
        goto fail_close;
    if ((r = sse_fanout_start(&S.ring, cfg->heartbeat_ms, cfg->idle_check_ms,
                              cfg->coalesce_ms, S.tls)) != SSE_OK) {
        sse_timer_service_stop();
        goto fail_close;
    }
    S.listener_alive = 1;
    r = sse_port_thread_create(sse_listener_thread, NULL, CONFIG_SSE_THREAD_STACK_SIZE,
                               "sse_listen");
    if (r != SSE_OK) {
        S.listener_alive = 0;
        sse_fanout_stop();
        sse_timer_service_stop();
        goto fail_close;
    }
    SSE_LOG(SSE_LOG_INFO, "listening on %s port %u, %u slots",
            cfg->bind_addr ? cfg->bind_addr : "*", (unsigned)S.port, cfg->max_connections);
    return SSE_OK;
fail_close:
    sse_port_close(&S.listener);
fail:
    if (cfg->tls)
        sse_tls_deinit();
    sse_port_mutex_lock(&S.lock);
    S.running = 0;
    sse_port_mutex_unlock(&S.lock);
    return r;
}

int sse_server_stop(void)
{
    if (!sse_srv_ready())
        return SSE_ERR_ARG;
    sse_port_mutex_lock(&S.lock);
    if (!S.running || sse_load_rlx(&S.stopping)) {
        sse_port_mutex_unlock(&S.lock);
        return SSE_ERR_ARG;
    }
    sse_store_rel(&S.stopping, 1);
    sse_port_mutex_unlock(&S.lock);
    sse_connbuf_wake(); /* threads waiting for a buffer see the stop */
    /* Parked streams come back to their threads, which see the stop. */
    sse_fanout_stop();
    sse_port_mutex_lock(&S.lock);
    while (S.active > 0 || S.listener_alive)
        sse_port_cond_wait(&S.idle, &S.lock, CONFIG_SSE_ACCEPT_POLL_MS);
    sse_port_mutex_unlock(&S.lock);
    sse_timer_service_stop();
    if (S.tls)
        sse_tls_deinit();
    sse_port_mutex_lock(&S.lock);
    S.running = 0;
    S.port = 0;
    sse_port_mutex_unlock(&S.lock);
    SSE_LOG(SSE_LOG_INFO, "stopped");
    return SSE_OK;
}

uint16_t sse_server_port(void)
{
    uint16_t p;
    if (!sse_srv_ready())
        return 0;
    sse_port_mutex_lock(&S.lock);
    p = S.running ? S.port : 0;
    sse_port_mutex_unlock(&S.lock);
    return p;
}

int sse_server_stats(sse_stats_t *st)
{
    if (!st)
        return SSE_ERR_ARG;
    memset(st, 0, sizeof *st);
    if (!sse_srv_ready())
        return SSE_OK;
    sse_port_mutex_lock(&S.lock);
    st->accepted = sse_load_rlx(&S.n.accepted);
    st->overloaded = sse_load_rlx(&S.n.overloaded);
    st->fell_behind = sse_load_rlx(&S.n.fell_behind);
    st->conn_bufs_lent = sse_connbuf_lent();
    st->conn_bufs_peak = sse_connbuf_peak();
    st->send_failures = sse_load_rlx(&S.n.send_failures);
    st->slow_sends = sse_load_rlx(&S.n.slow_sends);
    st->writer_rests = sse_fanout_rests();
    st->bad_requests = sse_load_rlx(&S.n.bad_requests);
    st->tls_failures = sse_load_rlx(&S.n.tls_failures);
    st->auth_failures = sse_load_rlx(&S.n.auth_failures);
    st->active = S.active;
    st->streams = S.streams;
    st->last_id = S.ring.head_id - 1;
    st->oldest_id = S.ring.tail_id;
    sse_port_mutex_unlock(&S.lock);
    sse_uplink_fill(st);
    return SSE_OK;
}
