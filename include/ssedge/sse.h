/* SPDX-License-Identifier: MIT */
/**
 * @file sse.h
 * @brief ssedge public API: the server, publishing, replies and timers.
 *
 * There is one server per process (its slots are static). Typical use:
 *
 *     sse_server_cfg_t cfg;
 *     sse_server_cfg_init(&cfg);           // Kconfig defaults
 *     cfg.port = 8080; cfg.routes = routes; cfg.num_routes = 1;
 *     sse_server_start(&cfg);
 *     sse_publish(SSE_CHANNEL_ALL, "message", "hello", 5, NULL);  // any thread
 *     sse_server_stop();
 *
 * Threads: sse_publish(), sse_send_to(), sse_timer_*() and sse_server_stats()
 * may be called from any thread, timer callbacks and route callbacks
 * included. sse_server_start()/stop() must not be called from ssedge's own
 * threads (callbacks), and not concurrently with each other.
 */
#ifndef SSE_H
#define SSE_H

#include <stddef.h>
#include <stdint.h>
#include "ssedge/sse_version.h"
#include "ssedge/sse_err.h"
#include "ssedge/sse_http.h"
#include "ssedge/sse_event.h"
#include "ssedge/sse_uplink.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Identifies one connection for its lifetime; never reused soon after it
 *  closes (a generation count is part of it), so a stale id just fails. */
typedef uint32_t sse_conn_id_t;
#define SSE_CONN_NONE ((sse_conn_id_t)0) /**< no connection */

/** sse_publish() channel: the event goes to every stream. */
#define SSE_CHANNEL_ALL (-1)
/** sse_route_t channel: its streams subscribe to no channel and receive
 *  only events published to every stream (SSE_CHANNEL_ALL there). Routes
 *  written with SSE_CHANNEL_ALL, which had this meaning, still work. */
#define SSE_CHANNEL_NONE (-1)

/** A connection inside a request handler; valid only during that call. */
typedef struct sse_conn sse_conn_t;

/** The parsed request handed to callbacks (strings are not NUL-terminated).
 *  Any header, kept in the fields or not, is found with sse_http_header(). */
typedef sse_http_req_t sse_request_t;

/** An event-stream path. */
typedef struct sse_route {
    /** Exact path ("/events"), or "*": any path whose Accept header names
     *  text/event-stream explicitly (a wildcard Accept does not count). An
     *  exact path streams unless Accept rules text/event-stream out (406). */
    const char *path;
    /** Channel 0..CONFIG_SSE_MAX_CHANNELS-1 its streams subscribe to, or
     *  SSE_CHANNEL_NONE: only events published to every stream. Set it
     *  even then: a route left at 0 subscribes to channel 0. A request
     *  may add channels by name with "?ch=name1,name2" (see
     *  sse_server_cfg_t.channel_names): browsers allow only six HTTP/1.1
     *  connections per origin, so one stream carries several channels. */
    int channel;
    /** Called on the connection's thread once the stream headers and the
     *  replay are sent; may add connection timers. May be NULL. */
    void (*on_open)(sse_conn_id_t conn, const sse_request_t *req, void *user);
    /** Called on the connection's thread as the stream closes, after its
     *  timers are removed. May be NULL. */
    void (*on_close)(sse_conn_id_t conn, void *user);
    void *user;
    /** Called on the connection's thread before the stream opens. Return 0
     *  to stream, or an HTTP status to refuse with: 204 tells a browser's
     *  EventSource to stop reconnecting for good; 401/403 for access
     *  control. May be NULL (always stream). */
    int (*on_request)(const sse_request_t *req, void *user);
    /** Bearer token the route requires, or NULL: open to anyone. A client
     *  presents it as "Authorization: Bearer TOKEN" or, since a browser's
     *  EventSource cannot set headers, as "?token=TOKEN" (percent-escapes
     *  decoded). Compared in constant time; at least
     *  CONFIG_SSE_AUTH_MIN_TOKEN_LEN characters. Otherwise the answer is
     *  401 with WWW-Authenticate (final for an EventSource) before any
     *  event or on_request call. Use HTTPS: the token crosses the wire. */
    const char *token;
} sse_route_t;

/**
 * Handler for every request that is not a stream. Runs on the connection's
 * thread; answer with sse_reply().
 * @return SSE_OK once it has replied. If it returns without a reply,
 *         ssedge answers for it: 404 when it returned anything but SSE_OK
 *         (no such path); 500 with a log line when it returned SSE_OK, or
 *         when its sse_reply() failed for a head that did not fit (a bug
 *         in the handler). Once a reply went out, the return value is not
 *         looked at.
 */
typedef int (*sse_handler_fn)(sse_conn_t *c, const sse_request_t *req,
                              void *user);

/**
 * TLS settings (needs a build with CONFIG_SSE_TLS). Give each item either as
 * a buffer (firmware keeps them in flash) or as a file path (POSIX). PEM
 * buffers must end with a NUL byte counted in the length, as mbedTLS
 * requires; DER buffers are taken as they are. The buffers are parsed at
 * sse_server_start() and not needed afterwards.
 */
typedef struct sse_tls_cfg {
    const unsigned char *cert;     /**< server certificate (chain), PEM or DER */
    size_t               cert_len;
    const unsigned char *key;      /**< its private key, PEM or DER */
    size_t               key_len;
    const unsigned char *ca;       /**< set: clients must present a certificate */
    size_t               ca_len;   /**<      signed by this CA (mutual TLS) */
    const char          *cert_file;/**< or: paths, read at start */
    const char          *key_file;
    const char          *ca_file;
    const char          *key_password;        /**< encrypted key; NULL = none */
    uint32_t             handshake_timeout_ms;/**< 0 = CONFIG_SSE_TLS_HANDSHAKE_TIMEOUT_MS */
} sse_tls_cfg_t;

/** Server settings. Fill with sse_server_cfg_init(), then change fields. */
typedef struct sse_server_cfg {
    const char        *bind_addr;      /**< numeric address; "0.0.0.0", "::" */
    uint16_t           port;           /**< 0 = any free port (see sse_server_port) */
    const sse_route_t *routes;         /**< stream routes, copied at start */
    unsigned           num_routes;     /**< <= CONFIG_SSE_MAX_ROUTES */
    sse_handler_fn     handler;        /**< non-stream requests; NULL = 404 */
    void              *handler_user;
    unsigned           max_connections;   /**< 1..CONFIG_SSE_MAX_CONNECTIONS */
    uint32_t           retry_ms;          /**< retry hint on open; 0 = none */
    uint32_t           heartbeat_ms;      /**< idle comment period; 0 = off */
    uint32_t           idle_check_ms;     /**< idle peer-close check period */
    uint32_t           send_timeout_ms;   /**< no send progress -> peer dead */
    uint32_t           header_timeout_ms; /**< whole request head -> else 408 */
    uint32_t           overload_retry_ms; /**< back-off given when full */
    uint32_t           coalesce_ms;       /**< at most one write per stream per this; 0 = none */
    /** Names of channels 0..n-1, for "?ch=" subscriptions; NULL = none.
     *  Names are matched exactly; an unknown name gets 400. */
    const char *const *channel_names;
    unsigned           num_channel_names; /**< <= CONFIG_SSE_MAX_CHANNELS */
    /** Origins allowed to read streams and replies cross-origin, e.g.
     *  "https://dash.example"; "*" allows any. NULL/0 = none (default):
     *  no CORS headers, and preflights get 403. */
    const char *const *cors_origins;
    unsigned           num_cors_origins;
    int                cors_credentials;  /**< 1: allow cookies/credentials */
    /** NULL: plain HTTP. Else every connection is TLS (https). When all
     *  slots are busy a TLS connection is closed without an answer (a
     *  handshake would cost the listener too much); a browser's
     *  EventSource treats that as a network error and retries. */
    const sse_tls_cfg_t *tls;
    /** NULL (default): no publishing over HTTP. Else "POST /publish" with
     *  this bearer token ("Authorization: Bearer TOKEN" or ?token=, at
     *  least CONFIG_SSE_AUTH_MIN_TOKEN_LEN characters; kept by pointer,
     *  so it must outlive the server) publishes its body as one event,
     *  like sse_publish(): "?event=NAME" names it (default "message"),
     *  "?ch=NAME" sends it to one channel of channel_names (default: every
     *  stream). The body needs a Content-Length of at most
     *  CONFIG_SSE_PUBLISH_BODY_MAX bytes (a build where that is 0 refuses
     *  this field at start), a Content-Type of text/plain,
     *  application/octet-stream or none, and must be UTF-8. Answers:
     *  201 with the event's id as the body; 401 without a token, 403 with
     *  a wrong one; 405 for another method; 411 without a length
     *  (chunked included); 413 over the limit (or an event too large for
     *  CONFIG_SSE_MAX_EVENT_BYTES); 415 for another Content-Type; 400 for
     *  a body or name the framer refuses or an unknown channel; 408 when
     *  head and body together take longer than header_timeout_ms; 400
     *  when the client ends its side before the whole body. A CORS
     *  preflight from an allowed origin allows POST with Authorization.
     *  Every other path still refuses request bodies (413). */
    const char        *publish_token;
} sse_server_cfg_t;

/** Fill @p cfg with the Kconfig defaults, bind "0.0.0.0", port 8080. */
void sse_server_cfg_init(sse_server_cfg_t *cfg);

/**
 * Start listening and serving (listener, timer service, fan-out writer,
 * connection threads).
 * @return SSE_OK; SSE_ERR_BUSY if already running; SSE_ERR_ARG for a bad
 *         cfg (too many routes, channel out of range, max_connections 0 or
 *         above CONFIG_SSE_MAX_CONNECTIONS, cfg.tls without CONFIG_SSE_TLS,
 *         a publish_token too short or with CONFIG_SSE_PUBLISH_BODY_MAX 0);
 *         SSE_ERR_INVALID if the TLS certificate, key or CA does not parse
 *         or the key does not match the certificate (logged);
 *         SSE_ERR_IO if the port cannot be bound or a TLS file cannot be
 *         read; SSE_ERR_NOMEM if a thread cannot be created. Every failure
 *         also logs one line with its cause (the setting and its limit,
 *         the address and the stack's reason, the file), since a code
 *         alone does not tell a port in use from a missing file.
 */
int sse_server_start(const sse_server_cfg_t *cfg);

/**
 * Stop: wake every thread, wait until all have finished (each closes its
 * own socket), remove every timer. Returns within about
 * CONFIG_SSE_ACCEPT_POLL_MS plus the longest blocked send. Events stay in
 * the ring and ids keep counting across a restart, so clients resume.
 * @return SSE_OK, or SSE_ERR_ARG if not running.
 */
int sse_server_stop(void);

/** @return the bound TCP port while running, else 0. */
uint16_t sse_server_port(void);

/**
 * Publish an event to every stream (@p channel = SSE_CHANNEL_ALL) or to the
 * streams subscribed to @p channel. The event gets the next id and is
 * encoded once into the ring; streams get it from there (parked ones from
 * the fan-out writer, or from this call itself with non-blocking sends when
 * they are few: CONFIG_SSE_FANOUT_INLINE_STREAMS). This never waits for a
 * client. Works whether or not the server runs (events wait in the ring for
 * replay).
 * @param event event type (NULL = "message"); no CR/LF
 * @param data  payload, UTF-8; line breaks become several data lines
 * @param id    if not NULL, receives the id given to the event
 * @return SSE_OK; SSE_ERR_INVALID (CR/LF in event, bad UTF-8);
 *         SSE_ERR_TOO_LARGE (encoded event > CONFIG_SSE_MAX_EVENT_BYTES);
 *         SSE_ERR_ARG (channel out of range); SSE_ERR_NOMEM (the first
 *         call ever could not create ssedge's locks).
 */
int sse_publish(int channel, const char *event, const char *data, size_t len,
                uint64_t *id);

/**
 * Like sse_publish() but for one connection only (it takes an id from the
 * same sequence; other streams skip it, replay never repeats it elsewhere).
 * @return as sse_publish(), plus SSE_ERR_CLOSED if @p conn is gone.
 */
int sse_send_to(sse_conn_id_t conn, const char *event, const char *data,
                size_t len, uint64_t *id);

/**
 * Answer a non-stream request (from a handler), once. Adds Content-Type,
 * Content-Length (not for 204 and 304, which carry no body) and
 * "Connection: close"; the body is left out for HEAD.
 * @param status 200..599
 * @param extra_headers NULL, or complete "Name: value\r\n" lines
 * @return SSE_OK; SSE_ERR_ARG if already answered, a status outside
 *         200..599, or a body with 204/304; SSE_ERR_TOO_LARGE if the head
 *         does not fit CONFIG_SSE_SEND_BUF_SIZE (nothing was sent: the
 *         handler may answer again, else the client gets 500); a send
 *         error (SSE_ERR_TIMEOUT, SSE_ERR_CLOSED, SSE_ERR_IO: the request
 *         counts as answered).
 */
int sse_reply(sse_conn_t *c, int status, const char *content_type,
              const char *extra_headers, const void *body, size_t len);

/**
 * Close one stream from any thread (the browser reconnects after its retry
 * delay, with Last-Event-ID). Its thread notices at once (or, if it is in
 * a send to a slow reader, when that send ends) and cleans up.
 * @return SSE_OK, or SSE_ERR_CLOSED if @p conn is not a live stream.
 */
int sse_conn_close(sse_conn_id_t conn);

/** Index of channel @p name in cfg.channel_names of the running server.
 *  @return 0..n-1, or SSE_ERR_ARG if unknown or not running. */
int sse_channel(const char *name);

/** Counters for monitoring and tests. active, streams and the ids are one
 *  consistent snapshot; each counter is read atomically on its own (they
 *  are bumped without a lock) and counts in a machine word: on a 32-bit
 *  target (Cortex-M, a 32-bit Pi) it wraps after 2^32, as monitoring
 *  systems expect of counters. */
typedef struct sse_stats {
    unsigned active;          /**< connections holding a slot now */
    unsigned streams;         /**< of which streaming */
    unsigned conn_bufs_lent;  /**< request + send buffer pairs lent now: threads
                                   at work (a parked stream holds none) */
    unsigned conn_bufs_peak;  /**< the most lent at once since the server
                                   started: how many CONFIG_SSE_CONN_BUFS this
                                   load needed */
    uint64_t accepted;        /**< connections given a slot (counters run on
                                   across stop and start) */
    uint64_t overloaded;      /**< connections refused because full */
    uint64_t fell_behind;     /**< streams closed: cursor fell off the ring */
    uint64_t send_failures;   /**< streams closed: send failed or timed out */
    uint64_t slow_sends;      /**< sends a socket could not take at once: the
                                   stream's own thread finished them (a slow
                                   reader or a burst; see CONFIG_SSE_SEND_TIMEOUT_MS) */
    uint64_t writer_rests;    /**< pauses of the fan-out writer, which had more events
                                   than one write each could carry: they gathered
                                   meanwhile (see CONFIG_SSE_FANOUT_REST_PERCENT) */
    uint64_t bad_requests;    /**< 4xx/5xx answers from the parser */
    uint64_t tls_failures;    /**< TLS handshakes that failed or timed out */
    uint64_t auth_failures;   /**< stream requests refused 401 (token), and
                                   POST /publish refused 401 or 403 */
    uint64_t last_id;         /**< id of the newest event (0 = none yet) */
    uint64_t oldest_id;       /**< id of the oldest event still in the ring */
    /* The uplink to a hub (sse_uplink.h); all 0 while it never ran. */
    int      uplink_state;    /**< 0 off, 1 trying to reach the hub, 2 connected */
    uint64_t uplink_acked_id; /**< newest event id the hub acknowledged (2xx) */
    uint64_t uplink_sent;     /**< events the hub acknowledged */
    uint64_t uplink_retries;  /**< connects and requests that failed and were tried again */
    uint64_t uplink_lost;     /**< events that never went out: overwritten in the ring
                                   first, or refused for good by the hub (400, 413) */
    uint64_t uplink_duplicates; /**< events sent again after their answer was lost:
                                     the hub may hold them twice */
} sse_stats_t;

/**
 * Does @p req carry bearer token @p token ("Authorization: Bearer TOKEN" or
 * the query parameter "token")? For request handlers that protect plain
 * paths the way sse_route_t.token protects streams. Runs in time that
 * depends on the lengths only, never on where the first difference is.
 * @return 1 if it does; 0 if not (or token is NULL).
 */
int sse_token_ok(const sse_request_t *req, const char *token);

/** Fill @p st. @return SSE_OK or SSE_ERR_ARG (NULL). */
int sse_server_stats(sse_stats_t *st);

/* ---- timers ------------------------------------------------------------ */

typedef void (*sse_timer_fn)(void *arg);
typedef void (*sse_conn_timer_fn)(sse_conn_id_t conn, void *arg);

/**
 * Call @p fn(arg) every @p period_ms on the timer thread, first after one
 * period. Callbacks of all timers run one at a time on that thread: keep
 * them short (sse_publish() is fine).
 * @return a timer id (> 0); SSE_ERR_NOMEM if all CONFIG_SSE_MAX_TIMERS slots
 *         are used; SSE_ERR_ARG for period 0 or fn NULL.
 */
int sse_timer_add(uint32_t period_ms, sse_timer_fn fn, void *arg);

/**
 * A timer tied to a stream: removed when that connection closes, before
 * on_close runs. @return as sse_timer_add(), plus SSE_ERR_CLOSED if the
 * connection is gone.
 */
int sse_conn_timer_add(sse_conn_id_t conn, uint32_t period_ms,
                       sse_conn_timer_fn fn, void *arg);

/**
 * Remove a timer. It will not be called again once this returns, except
 * that a call already running on the timer thread finishes.
 * @return SSE_OK, or SSE_ERR_ARG if @p id is not a live timer.
 */
int sse_timer_del(int id);

#ifdef __cplusplus
}
#endif

#endif /* SSE_H */
