#ifndef SHIFTADD_HTTP_H
#define SHIFTADD_HTTP_H

/* HTTP front end: HTTP/1.1 and h2c (prior knowledge) on a cleartext port, h2 and http/1.1 by ALPN
 * on an optional TLS port, all served by one epoll loop thread.
 *
 * Threads. sa_http_server_start starts the loop thread. The request and cancel callbacks run on
 * that thread and must not block. The response functions (sa_http_respond, sa_http_stream_*) may
 * be called from any thread, the callbacks included: they copy their arguments into a queue that
 * the loop drains after an eventfd wake-up. Submissions for a request that is finished, cancelled
 * or unknown are dropped by the loop.
 *
 * Requests are named by an opaque 64-bit id (never 0, never reused by one server); no pointer into
 * the front end is ever handed out apart from the server handle itself.
 *
 * Ownership. The caller owns everything it passes in; the front end copies what it keeps. Memory
 * the front end passes to a callback (the request and everything it points to) is borrowed: valid
 * only until the callback returns. The server handle is owned by its creator and freed with
 * sa_http_server_destroy. */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sa_http_server sa_http_server;

/* One header field; the strings are not NUL-terminated. */
typedef struct sa_http_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} sa_http_header;

enum { SA_HTTP_VERSION_1 = 1, SA_HTTP_VERSION_2 = 2 };

/* A complete request: head and whole body. Borrowed for the duration of the callback. */
typedef struct sa_http_request {
    uint64_t id;
    const char *method;             /* e.g. "POST" */
    size_t method_len;
    const char *target;             /* path and query as sent (":path" on HTTP/2) */
    size_t target_len;
    const sa_http_header *headers;  /* names lowercased; on HTTP/2 ":authority" appears as "host" */
    size_t header_count;
    const uint8_t *body;            /* NULL when empty */
    size_t body_len;
    int version;                    /* SA_HTTP_VERSION_1 (1.0 or 1.1) or SA_HTTP_VERSION_2 */
    int secure;                     /* 1 when the request arrived over TLS */
    const char *peer;               /* "address:port", NUL-terminated */
} sa_http_request;

/* Called on the loop thread for each complete request. */
typedef void (*sa_http_request_fn)(void *context, const sa_http_request *request);
/* Called on the loop thread when the client went away (connection closed, RST_STREAM, output cap
 * exceeded, server stopped) before the response to `id` was complete. Never called after the
 * response is complete; at most once per id. */
typedef void (*sa_http_cancel_fn)(void *context, uint64_t id);

typedef struct sa_http_callbacks {
    sa_http_request_fn on_request;
    sa_http_cancel_fn on_cancel;
    void *context; /* passed back unchanged; must stay valid until sa_http_server_stop returns */
} sa_http_callbacks;

/* Limits and addresses; fill with sa_http_options_init, then override. Strings are copied. */
typedef struct sa_http_options {
    const char *host;              /* numeric address or name to bind, e.g. "127.0.0.1" */
    int port;                      /* cleartext port; 0 = any free port */
    int tls_port;                  /* -1 = no TLS listener; 0 = any free port */
    const char *certificate_file;  /* PEM certificate chain; required with tls_port >= 0 */
    const char *key_file;          /* PEM private key; required with tls_port >= 0 */
    size_t max_header_bytes;       /* request line + header fields; over it → 431 */
    size_t max_body_bytes;         /* request body; over it → 413. HTTP/2: bodies still arriving on one
                                      connection may total twice this; the stream past it is refused */
    uint32_t max_concurrent_streams; /* HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS */
    int max_connections;           /* open connections; past it new ones are refused */
    uint32_t header_timeout_ms;    /* time allowed to receive a request head (and the TLS handshake); 0 = none */
    uint32_t idle_timeout_ms;      /* time a connection without a request in flight may stay silent; 0 = none */
    size_t max_output_bytes;       /* per connection: queued response bytes the client has not read */
    uint32_t max_stream_resets;    /* HTTP/2 RST_STREAM frames from a client per window ... */
    uint32_t stream_reset_window_ms; /* ... before GOAWAY ENHANCE_YOUR_CALM */
} sa_http_options;

/* Counters, read atomically one by one. */
typedef struct sa_http_stats {
    uint64_t open_connections;
    uint64_t accepted_connections;
    uint64_t refused_connections;  /* over max_connections */
    uint64_t protocol_errors;      /* requests the front end refused itself (400, 413, 431, ...) and
                                      HTTP/2 connections ended by an error */
    uint64_t stream_resets;        /* RST_STREAM received from clients */
    uint64_t open_requests;        /* handed to on_request, not yet complete or cancelled */
} sa_http_stats;

void sa_http_options_init(sa_http_options *options);

/* Binds the listeners (and loads the certificate). Returns 0 and the server in *out, or -1 with a
 * NUL-terminated message in `error` (at most error_len bytes, may be NULL). Ignores SIGPIPE for
 * the process (sockets also use MSG_NOSIGNAL, but OpenSSL writes with write(2)). */
int sa_http_server_create(const sa_http_options *options, sa_http_server **out, char *error, size_t error_len);

/* Bound ports (useful with port 0); tls port is -1 without TLS. */
int sa_http_server_port(const sa_http_server *server);
int sa_http_server_tls_port(const sa_http_server *server);

/* Starts the loop thread once; later calls return 0 and do nothing. -1 if the thread could not start
 * or the server was stopped. `callbacks` is copied. */
int sa_http_server_start(sa_http_server *server, const sa_http_callbacks *callbacks);

/* Stop accepting: listeners close, HTTP/2 connections get GOAWAY, idle HTTP/1.1 connections close,
 * requests in flight continue and their connections close when they finish. Any thread. */
void sa_http_server_drain(sa_http_server *server);

/* Closes every connection (requests in flight get on_cancel) and joins the loop thread. Any thread
 * except the loop thread (there it only asks the loop to stop and returns -1). Idempotent. */
int sa_http_server_stop(sa_http_server *server);

/* Frees the server; stops it first if needed. Called on the loop thread, the memory is freed when
 * the loop exits. Response calls racing with or following destroy are the caller's bug. */
void sa_http_server_destroy(sa_http_server *server);

void sa_http_server_stats(const sa_http_server *server, sa_http_stats *out);

/* Response submissions, any thread. Each returns 0 when queued, -1 when the server is stopped or
 * an argument is invalid (status outside 200...599, NULL with a non-zero length). Header fields
 * whose name or value is not valid HTTP (CR, LF, NUL, non-token names) and connection-level
 * fields (connection, content-length, transfer-encoding, keep-alive, upgrade, proxy-connection)
 * are dropped: the front end frames the body itself. */

/* A whole response; the front end adds content-length. */
int sa_http_respond(sa_http_server *server, uint64_t id, int status,
                    const sa_http_header *headers, size_t header_count,
                    const uint8_t *body, size_t body_len);

/* The head of a streamed response (HTTP/1.1: chunked encoding; HTTP/2: DATA frames as bytes come). */
int sa_http_stream_start(sa_http_server *server, uint64_t id, int status,
                         const sa_http_header *headers, size_t header_count);

/* Bytes of a streamed response, sent as soon as the client's window allows. */
int sa_http_stream_send(sa_http_server *server, uint64_t id, const uint8_t *bytes, size_t len);

/* Ends a streamed response. */
int sa_http_stream_finish(sa_http_server *server, uint64_t id);

#ifdef __cplusplus
}
#endif

#endif
