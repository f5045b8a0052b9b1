/* SPDX-License-Identifier: MIT */
/* The server's internals shared by its files: the connection slot, the one
 * server's state (S), and what each file offers the others. Files and what
 * they own: sse_srv.c state and slot ids; sse_answer.c error answers,
 * refusals, CORS and sse_reply; sse_route.c which route a request is for;
 * sse_auth.c bearer tokens; sse_stream.c a stream's head, replay and its
 * own sends (sse_fanout.c the rest); sse_conn.c one connection's thread;
 * sse_listen.c the listener and overload answers; sse_publish.c
 * publishing, sse_conn_close and connection timers; sse_server.c start,
 * stop and stats. Each uses only files listed before it (and fan-out,
 * connection buffers, ring, timers, TLS below them): no circle. */
#ifndef SSE_SRV_H
#define SSE_SRV_H

#include "sse_opt.h"
#include "sse_port.h"
#include "sse_ring.h"
#include "sse_fanout.h"
#include "sse_connbuf.h"
#include "sse_tls.h"
#include "ssedge/sse.h"

enum sse_conn_state { C_FREE = 0, C_HTTP, C_STREAM, C_CLOSING };

struct sse_conn {
    enum sse_conn_state state; /* changed under S.lock */
    uint16_t         gen;      /* bumped per use: ids of old uses fail */
    int              replied;  /* a handler's answer went (at least partly) out */
    int              reply_failed; /* a handler's sse_reply() did not fit */
    int              head_only;/* HEAD: no body */
    int              keep_alive; /* sse_reply() leaves the connection open: a POST
                                  * /publish on HTTP/1.1 that another may follow */
    sse_str_t        origin;   /* allowed CORS origin of this request, or none */
    sse_port_sock_t  sock;     /* this slot's thread's, or the writer's while parked */
    sse_tls_conn_t   tls;      /* its TLS session when cfg.tls is set */
    /* Its request and send buffers, lent by the pool (sse_connbuf.c)
     * while the thread works; NULL while its stream is parked. */
    sse_connbuf_t   *buf;
};

struct sse_srv {
    sse_port_mutex_t lock;     /* ring, slot states, flags */
    sse_port_cond_t  idle;     /* a slot or the listener finished */
    int              inited;   /* atomic: see sse_srv_init() */
    int              running;  /* between start and the end of stop */
    int              stopping; /* atomic: read without the lock by streams */
    int              listener_alive;
    int              tls;      /* connections speak TLS */
    unsigned         active;
    unsigned         streams;
    uint16_t         port;
    sse_server_cfg_t cfg;
    sse_route_t      routes[CONFIG_SSE_MAX_ROUTES];
    const char      *chan_names[CONFIG_SSE_MAX_CHANNELS];
    const char      *cors[CONFIG_SSE_MAX_CORS_ORIGINS + 1]; /* +1: 0 allowed */
    sse_port_sock_t  listener;
    struct {                   /* atomics, bumped without the lock */
        unsigned long accepted, overloaded, fell_behind, send_failures, slow_sends,
                      bad_requests, tls_failures, auth_failures;
    } n;
    char             scratch[CONFIG_SSE_REQ_BUF_SIZE]; /* listener's, when full */
    int              quiet_streak;     /* listener's: see overload() */
    sse_ring_t       ring;
    struct sse_conn  conns[CONFIG_SSE_MAX_CONNECTIONS];
};

/* There is one server per process. */
extern struct sse_srv sse_srv;
#define S sse_srv

/* "client 192.0.2.7:51234" for log lines about a connection. */
#define WHO(sock, buf) sse_port_sock_peer((sock), (buf), sizeof (buf))

/* ---- sse_srv.c ---- */
int sse_srv_init(void);   /* locks and ring, once, by the first start or publish */
int sse_srv_ready(void);  /* the locks exist */
int sse_srv_stopping(void);
sse_conn_id_t sse_srv_conn_id(const struct sse_conn *c);
struct sse_conn *sse_srv_conn(sse_conn_id_t id); /* a live id's slot; S.lock held */
/* Lend slot @p c a request and a send buffer (c->buf), waiting up to
 * @p timeout_ms for a pair or a stop. @return 1, or 0 (c->buf NULL). */
int sse_conn_borrow(struct sse_conn *c, uint32_t timeout_ms);
/* Give c->buf back (none held: nothing); c->buf becomes NULL. */
void sse_conn_give_back(struct sse_conn *c);

/* ---- sse_answer.c ---- */
extern const sse_str_t sse_no_origin;
void sse_drain_close(sse_port_sock_t *s, sse_tls_conn_t *t, char *buf, size_t cap);
sse_str_t sse_cors_origin(const sse_http_req_t *rq);
int  sse_cors_headers(char *buf, size_t cap, sse_str_t origin);
void sse_answer_close(sse_port_sock_t *s, sse_tls_conn_t *t, char *buf, size_t cap,
                      int status, sse_str_t origin, const char *extra,
                      uint32_t timeout_ms, int head);
void sse_preflight(struct sse_conn *c, const sse_http_req_t *rq, int publish);
void sse_refuse(struct sse_conn *c, int status);

/* ---- sse_route.c ---- */
int sse_method_is(sse_str_t m, const char *name);
int sse_route_channels(sse_str_t query, uint32_t *mask);
const sse_route_t *sse_route_match(const sse_http_req_t *rq, int *status);

/* ---- sse_auth.c ---- */
int sse_auth_check(struct sse_conn *c, const sse_route_t *route, const sse_request_t *rq);

/* ---- sse_stream.c ---- */
/* No Content-Length: the stream ends when the connection does. no-cache
 * and X-Accel-Buffering keep proxies (nginx) from holding events back. */
#define SSE_STREAM_HEAD "HTTP/1.1 200 OK\r\n" \
                        "Content-Type: text/event-stream\r\n" \
                        "Cache-Control: no-cache, no-store\r\n" \
                        "X-Accel-Buffering: no\r\n"
int  sse_stream_open(struct sse_conn *c);
void sse_stream_run(struct sse_conn *c, sse_fan_t *f, const sse_route_t *route,
                    const sse_http_req_t *rq);

/* ---- sse_conn.c ---- */
int  sse_read_request(sse_port_sock_t *s, sse_tls_conn_t *t, char *buf, size_t cap,
                      size_t have, sse_http_req_t *rq, uint32_t start, uint32_t timeout_ms,
                      int *status, size_t *got);
void sse_conn_release(struct sse_conn *c);
void sse_conn_thread(void *arg);

/* ---- sse_listen.c ---- */
void sse_listener_thread(void *unused);

#endif /* SSE_SRV_H */
