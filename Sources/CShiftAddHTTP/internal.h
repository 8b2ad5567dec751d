#ifndef SHIFTADD_HTTP_INTERNAL_H
#define SHIFTADD_HTTP_INTERNAL_H

/* Types shared by the files of the front end. Everything here is touched only by the loop thread,
 * except where a comment says otherwise (the outbox, the atomic counters, the control flags). */

#include "shiftadd_http.h"
#include "buffer.h"
#include "http1_parser.h"

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>

typedef struct sah_conn sah_conn;
typedef struct sah_req sah_req;
typedef struct sah_msg sah_msg;

/* What an epoll registration points at: its first member tells which. */
enum { SAH_HANDLE_LISTENER, SAH_HANDLE_WAKE, SAH_HANDLE_CONN };
typedef struct sah_handle {
    int kind;
} sah_handle;

typedef struct sah_listener {
    sah_handle handle;
    int fd;
    int port;
    int tls;
    int paused; /* out of file descriptors: off epoll until the next sweep */
} sah_listener;

/* ---- requests (request.c) ------------------------------------------------------------------- */

typedef struct sah_field {
    size_t name, name_len, value, value_len; /* offsets into sah_req.text */
} sah_field;

enum { SAH_RESP_NONE, SAH_RESP_STREAMING, SAH_RESP_FINISHED };

/* One request from its first header to the end of its response. Owned by its connection. */
struct sah_req {
    uint64_t id;              /* 0 until handed to the handler */
    sah_conn *conn;
    int32_t stream_id;        /* HTTP/2 stream; 0 on HTTP/1.1 */
    sah_req *prev, *next;     /* the connection's HTTP/2 requests */
    sah_buf text;             /* method, target, field names and values, back to back */
    sah_field *fields;
    size_t field_count, field_cap;
    sah_field method, target; /* name = offset, name_len = length; values unused */
    size_t header_bytes;      /* as counted against max_header_bytes */
    sah_buf body;
    int error_status;         /* HTTP/2: a limit was hit while assembling; answer with this */
    const char *error_reason;
    int is_head;              /* HEAD: responses carry no body */
    int dispatched;           /* handed to on_request */
    int resp;                 /* SAH_RESP_* */
    int complete;             /* whole response queued (HTTP/1.1) or END_STREAM sent (HTTP/2) */
    int cancelled;
    sah_buf pending;          /* HTTP/2: body bytes the data provider has not taken yet */
    int deferred;             /* HTTP/2: the data provider is waiting for bytes */
};

sah_req *sah_req_new(sah_conn *conn);
void sah_req_free(sah_req *req);
/* Appends a header field (name lowercased) and counts it against the limit; -1 on memory failure. */
int sah_req_add_field(sah_req *req, const char *name, size_t name_len, const char *value, size_t value_len);
int sah_req_set_method(sah_req *req, const char *method, size_t len);
int sah_req_set_target(sah_req *req, const char *target, size_t len);
int sah_req_has_field(const sah_req *req, const char *name);
/* Gives the request an id and calls on_request; the body is freed afterwards (the handler copied it). */
void sah_req_dispatch(sah_req *req);
/* The response is complete: forget the id. */
void sah_req_complete(sah_req *req);
/* The client went away: on_cancel if the handler has the request and did not finish it. */
void sah_req_cancel(sah_req *req);

/* ---- id → request map (idmap.c) ------------------------------------------------------------- */

typedef struct sah_idmap {
    uint64_t *keys; /* 0 = empty slot */
    sah_req **values;
    size_t cap, count;
} sah_idmap;

int sah_idmap_put(sah_idmap *map, uint64_t id, sah_req *req);
sah_req *sah_idmap_get(const sah_idmap *map, uint64_t id);
void sah_idmap_remove(sah_idmap *map, uint64_t id);
void sah_idmap_free(sah_idmap *map);

/* ---- cross-thread queue of response submissions (outbox.c) ---------------------------------- */

enum { SAH_MSG_RESPOND, SAH_MSG_START, SAH_MSG_SEND, SAH_MSG_FINISH };

/* One submission; allocated by the submitting thread in one block, freed by the loop. */
struct sah_msg {
    sah_msg *next;
    int kind;
    uint64_t id;
    int status;
    sa_http_header *headers; /* filtered copies, inside the same block */
    size_t header_count;
    uint8_t *body;
    size_t body_len;
};

/* Any thread may push; the loop takes. The eventfd wakes the loop. */
typedef struct sah_outbox {
    pthread_mutex_t lock;
    sah_msg *head, *tail;
    int closed;
    int eventfd;
} sah_outbox;

int sah_outbox_init(sah_outbox *box);
void sah_outbox_destroy(sah_outbox *box);
sah_msg *sah_msg_new(int kind, uint64_t id, int status, const sa_http_header *headers, size_t header_count,
                     const uint8_t *body, size_t body_len);
/* Queues the message (taking ownership) and wakes the loop; -1 (message freed) once closed. */
int sah_outbox_push(sah_outbox *box, sah_msg *msg);
/* Takes every queued message, oldest first, and clears the wake-up. */
sah_msg *sah_outbox_take(sah_outbox *box);
/* Refuses further messages and frees the queued ones. */
void sah_outbox_close(sah_outbox *box);
/* Wakes the loop without a message (drain, stop). */
void sah_outbox_wake(sah_outbox *box);

/* ---- the server (server.c, loop.c) ----------------------------------------------------------- */

typedef struct sah_counters {
    _Atomic uint64_t open_connections, accepted_connections, refused_connections;
    _Atomic uint64_t protocol_errors, stream_resets, open_requests;
} sah_counters;

struct sa_http_server {
    sa_http_options options;  /* strings point at the copies below */
    char *host, *certificate_file, *key_file;
    sah_listener listeners[2];
    int listener_count;
    SSL_CTX *tls;
    int epoll_fd;
    sah_handle wake;          /* registration of outbox.eventfd */
    sah_outbox outbox;
    nghttp2_session_callbacks *h2_callbacks;
    nghttp2_option *h2_option;
    sa_http_callbacks callbacks;
    pthread_mutex_t lifecycle; /* start, stop, destroy */
    pthread_t thread;
    int started, joined;
    atomic_int drain_requested, stop_requested, free_on_exit;
    /* loop thread only */
    int draining;
    sah_conn *conns, *dead;
    int conn_count;
    sah_idmap ids;
    uint64_t next_id;
    int64_t now_ms, last_sweep_ms;
    sah_h1_head h1_head;      /* parser output, reused for every HTTP/1.1 head */
    sah_counters counters;
};

int64_t sah_now_ms(void);
void *sah_loop_main(void *server);
/* Frees everything the server owns (after the loop thread ended or never started). */
void sah_server_free(sa_http_server *server);

/* ---- listeners (listener.c) ------------------------------------------------------------------ */

int sah_listener_open(sah_listener *l, const char *host, int port, int tls, char *error, size_t error_len);
void sah_listener_accept(sa_http_server *server, sah_listener *l);
void sah_listener_close(sa_http_server *server, sah_listener *l);

/* ---- connections (conn.c) -------------------------------------------------------------------- */

enum { SAH_PROTO_DETECT, SAH_PROTO_TLS_HANDSHAKE, SAH_PROTO_H1, SAH_PROTO_H2 };
enum { SAH_H1_HEAD, SAH_H1_BODY, SAH_H1_WAIT, SAH_H1_DONE };

/* HTTP/1.1 state of a connection: one request at a time; pipelined ones wait in the input. */
typedef struct sah_h1 {
    int state;                /* SAH_H1_* */
    sah_req *req;
    size_t scanned;           /* head bytes already searched for the blank line */
    int64_t head_started_ms;  /* first byte of the head being read; 0 = none yet */
    int chunked;
    uint64_t body_left;       /* Content-Length bytes still to read */
    sah_chunked decoder;
    int keep_alive;
    int version_minor;
    int response_chunked;     /* streamed response uses chunked encoding (else close-delimited) */
} sah_h1;

/* HTTP/2 state of a connection. */
typedef struct sah_h2 {
    nghttp2_session *session;
    sah_req *reqs;            /* every stream with a request, dispatched or not */
    size_t pending_bytes;     /* sum of the requests' pending buffers */
    int64_t pending_progress_ms; /* pending bytes last taken by nghttp2, or became non-zero */
    size_t body_bytes;        /* sum of the request bodies still being received */
    uint32_t resets;          /* RST_STREAM frames in the current window */
    int64_t reset_window_start_ms;
    int goaway;               /* GOAWAY submitted (drain or error) */
} sah_h2;

struct sah_conn {
    sah_handle handle;
    sa_http_server *server;
    sah_conn *prev, *next;    /* server->conns, or server->dead once closed */
    int fd;
    SSL *ssl;                 /* NULL on the cleartext port */
    int proto;                /* SAH_PROTO_* */
    char peer[64];
    sah_buf in;               /* received, not yet parsed */
    sah_buf out;              /* encoded, not yet written */
    uint32_t events;          /* registered epoll mask */
    int read_paused;          /* input is over its bound or the output is over the cap */
    int tls_wants_write;      /* the last SSL_read or handshake step needs the socket writable */
    int tls_wants_read;       /* the last SSL_write or handshake step needs the socket readable */
    int closing;              /* close once `out` is written */
    int lingering;            /* write side shut; discarding input until EOF or the deadline */
    int dead;
    int64_t created_ms;
    int64_t last_active_ms;   /* last byte read or written */
    int64_t out_progress_ms;  /* output last shrank, or became non-empty */
    int64_t linger_deadline_ms;
    sah_h1 h1;
    sah_h2 h2;
};

sah_conn *sah_conn_new(sa_http_server *server, int fd, int tls, const char *peer);
void sah_conn_on_event(sah_conn *conn, uint32_t events);
/* Appends bytes to the output; -1 when memory runs out (the connection is then closed). */
int sah_conn_queue(sah_conn *conn, const void *bytes, size_t len);
/* Writes what the socket takes and updates the epoll interest; the connection may close. */
void sah_conn_flush(sah_conn *conn);
/* Close after the queued output is written (with a short linger for the client to read it). */
void sah_conn_close_after_flush(sah_conn *conn);
/* Closes now: requests in flight are cancelled; memory is freed at the end of the loop iteration. */
void sah_conn_close(sah_conn *conn);
void sah_conn_free(sah_conn *conn);
void sah_conn_update_events(sah_conn *conn);
/* Response bytes queued for the client: written-out buffer plus HTTP/2 pending data. */
size_t sah_conn_queued(const sah_conn *conn);
void sah_conn_check_timeouts(sah_conn *conn, int64_t now);
/* Reads input OpenSSL decrypted earlier while reading was paused (epoll cannot announce it). */
void sah_conn_read_pending(sah_conn *conn);
void sah_conn_drain(sah_conn *conn);

/* ---- TLS (tls.c) ----------------------------------------------------------------------------- */

SSL_CTX *sah_tls_context(const char *certificate_file, const char *key_file, char *error, size_t error_len);
/* 1 done (ALPN chosen), 0 in progress, -1 failed. */
int sah_tls_handshake(sah_conn *conn);
/* Non-blocking I/O on either kind of connection: > 0 bytes, 0 end of stream, -1 would block, -2 error. */
long sah_io_read(sah_conn *conn, void *buf, size_t len);
long sah_io_write(sah_conn *conn, const void *buf, size_t len);

/* ---- HTTP/1.1 (http1_conn.c) ----------------------------------------------------------------- */

void sah_h1_on_input(sah_conn *conn);
void sah_h1_apply(sah_conn *conn, sah_req *req, const sah_msg *msg);
void sah_h1_drain(sah_conn *conn);
void sah_h1_close(sah_conn *conn);

/* ---- HTTP/2 (h2_session.c) ------------------------------------------------------------------- */

/* Output kept in `out` before nghttp2 is asked for more frames; the rest waits in nghttp2 and in
 * the requests' pending buffers. */
#define SAH_H2_OUT_HIGH_WATER (256u * 1024)

int sah_h2_callbacks(sa_http_server *server);
int sah_h2_start(sah_conn *conn);
void sah_h2_on_input(sah_conn *conn);
void sah_h2_apply(sah_conn *conn, sah_req *req, const sah_msg *msg);
/* Answers a request that hit a limit (req->error_status) with a JSON error; no handler involved. */
void sah_h2_respond_error(sah_conn *conn, sah_req *req);
/* Moves frames from nghttp2 to the output and writes; closes the connection when nghttp2 is done. */
void sah_h2_flush(sah_conn *conn);
void sah_h2_drain(sah_conn *conn);
void sah_h2_close(sah_conn *conn);
void sah_h2_free(sah_conn *conn);
int sah_h2_idle(const sah_conn *conn);

/* ---- responses (responses.c) ----------------------------------------------------------------- */

const char *sah_reason_phrase(int status);
/* The OpenAI-shaped JSON error body for `message`, NUL-terminated in buf; returns its length. */
size_t sah_error_json(char *buf, size_t cap, const char *message);
/* A fresh random request id for answers the front end gives itself (32 hex digits + NUL), so
   every response carries x-request-id even when Swift never saw the request. */
#define SAH_REQUEST_ID_SIZE 33
void sah_new_request_id(char out[SAH_REQUEST_ID_SIZE]);
/* 1 if a response header field supplied by the handler may be sent (valid and not connection-level). */
int sah_header_allowed(const char *name, size_t name_len, const char *value, size_t value_len);

#endif
