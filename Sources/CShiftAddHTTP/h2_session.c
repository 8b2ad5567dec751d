#include "internal.h"

#include <string.h>

/* HTTP/2 sessions: request assembly (headers and body under the same limits as HTTP/1.1), the
 * rapid-reset defence, and the link between nghttp2 streams and requests. Responses are in
 * h2_response.c. */

/* CONTINUATION frames accepted after one HEADERS frame (the header-flood defence). */
#define MAX_CONTINUATIONS 8

static sah_req *stream_req(nghttp2_session *session, int32_t stream_id) {
    return nghttp2_session_get_stream_user_data(session, stream_id);
}

static int is_request_headers(const nghttp2_frame *frame) {
    return frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    if (!is_request_headers(frame)) return 0;
    sah_conn *conn = user_data;
    sah_req *req = sah_req_new(conn);
    if (!req) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    req->stream_id = frame->hd.stream_id;
    req->next = conn->h2.reqs;
    if (conn->h2.reqs) conn->h2.reqs->prev = req;
    conn->h2.reqs = req;
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, req);
    return 0;
}

static void release_body(sah_conn *conn, sah_req *req) {
    conn->h2.body_bytes -= req->body.len;
    sah_buf_free(&req->body);
}

static void set_error(sah_conn *conn, sah_req *req, int status, const char *reason) {
    if (req->error_status) return;
    req->error_status = status;
    req->error_reason = reason;
    release_body(conn, req);
}

static int pseudo_is(const uint8_t *name, size_t len, const char *wanted) {
    return len == strlen(wanted) && memcmp(name, wanted, len) == 0;
}

static int store_header(sah_req *req, const uint8_t *name, size_t name_len, const uint8_t *value, size_t value_len) {
    const char *n = (const char *)name, *v = (const char *)value;
    if (name_len > 0 && name[0] == ':') {
        if (pseudo_is(name, name_len, ":method")) return sah_req_set_method(req, v, value_len);
        if (pseudo_is(name, name_len, ":path")) return sah_req_set_target(req, v, value_len);
        if (pseudo_is(name, name_len, ":authority")) return sah_req_add_field(req, "host", 4, v, value_len);
        return 0;
    }
    /* :authority already gave the host (pseudo-headers come first). */
    if (pseudo_is(name, name_len, "host") && sah_req_has_field(req, "host")) return 0;
    return sah_req_add_field(req, n, name_len, v, value_len);
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t name_len,
                     const uint8_t *value, size_t value_len, uint8_t flags, void *user_data) {
    (void)flags;
    sah_conn *conn = user_data;
    if (!is_request_headers(frame)) return 0; /* trailers are ignored */
    sah_req *req = stream_req(session, frame->hd.stream_id);
    if (!req || req->error_status) return 0;
    /* Counted as HPACK counts them (RFC 9113 §6.5.2), against the same limit as HTTP/1.1 heads. */
    req->header_bytes += name_len + value_len + 32;
    if (req->header_bytes > conn->server->options.max_header_bytes) {
        set_error(conn, req, 431, "request header fields too large");
        return 0;
    }
    return store_header(req, name, name_len, value, value_len) < 0 ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : 0;
}

/* Bodies being received on one connection, all streams together, stay under twice the body limit:
 * past it the stream that would exceed it is refused (the client may retry it), so concurrent
 * uploads cannot multiply the per-request limit by the stream limit. */
static int over_body_budget(sah_conn *conn, sah_req *req, size_t len) {
    if (conn->h2.body_bytes + len <= 2 * conn->server->options.max_body_bytes) return 0;
    set_error(conn, req, 503, "too many request bodies in flight on this connection");
    req->resp = SAH_RESP_FINISHED;
    nghttp2_submit_rst_stream(conn->h2.session, NGHTTP2_FLAG_NONE, req->stream_id, NGHTTP2_REFUSED_STREAM);
    return 1;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *user_data) {
    (void)flags;
    sah_conn *conn = user_data;
    sah_req *req = stream_req(session, stream_id);
    if (!req || req->error_status || req->dispatched) return 0;
    if (req->body.len + len > conn->server->options.max_body_bytes) {
        set_error(conn, req, 413, "request body too large");
        sah_h2_respond_error(conn, req);
        return 0;
    }
    if (over_body_budget(conn, req, len)) return 0;
    if (sah_buf_append(&req->body, data, len) < 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    conn->h2.body_bytes += len;
    return 0;
}

/* RST_STREAM frames per window past the limit end the connection: streams opened and reset at
 * once cost the server work without the concurrency limit ever applying (CVE-2023-44487). */
static void count_reset(sah_conn *conn) {
    sa_http_server *server = conn->server;
    atomic_fetch_add(&server->counters.stream_resets, 1);
    if (server->now_ms - conn->h2.reset_window_start_ms >= (int64_t)server->options.stream_reset_window_ms) {
        conn->h2.reset_window_start_ms = server->now_ms;
        conn->h2.resets = 0;
    }
    if (++conn->h2.resets > server->options.max_stream_resets && !conn->h2.goaway) {
        conn->h2.goaway = 1;
        nghttp2_session_terminate_session(conn->h2.session, NGHTTP2_ENHANCE_YOUR_CALM);
    }
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    sah_conn *conn = user_data;
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
        count_reset(conn);
        return 0;
    }
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    sah_req *req = stream_req(session, frame->hd.stream_id);
    if (!req || req->dispatched || req->resp != SAH_RESP_NONE) return 0;
    if (req->error_status) {
        sah_h2_respond_error(conn, req);
    } else if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        size_t body_len = req->body.len;
        sah_req_dispatch(req); /* frees the body */
        conn->h2.body_bytes -= body_len;
        if (conn->dead) return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    sah_conn *conn = user_data;
    if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR)
        atomic_fetch_add(&conn->server->counters.protocol_errors, 1);
    if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
        (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        sah_req *req = stream_req(session, frame->hd.stream_id);
        if (req) sah_req_complete(req);
    }
    return 0;
}

static void unlink_req(sah_conn *conn, sah_req *req) {
    if (req->prev) req->prev->next = req->next;
    else conn->h2.reqs = req->next;
    if (req->next) req->next->prev = req->prev;
    conn->h2.pending_bytes -= req->pending.len;
    release_body(conn, req);
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data) {
    (void)error_code;
    sah_conn *conn = user_data;
    sah_req *req = stream_req(session, stream_id);
    if (!req) return 0;
    sah_req_cancel(req);
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    unlink_req(conn, req);
    sah_req_free(req);
    return 0;
}

int sah_h2_callbacks(sa_http_server *server) {
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) return -1;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_option *opt;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        return -1;
    }
    nghttp2_option_set_no_closed_streams(opt, 1);
    nghttp2_option_set_max_continuations(opt, MAX_CONTINUATIONS);
    server->h2_callbacks = cb;
    server->h2_option = opt;
    return 0;
}

int sah_h2_start(sah_conn *conn) {
    sa_http_server *server = conn->server;
    if (nghttp2_session_server_new2(&conn->h2.session, server->h2_callbacks, conn, server->h2_option) != 0)
        return -1;
    conn->h2.reset_window_start_ms = server->now_ms;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, server->options.max_concurrent_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)server->options.max_header_bytes},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    return nghttp2_submit_settings(conn->h2.session, NGHTTP2_FLAG_NONE, settings, 3) == 0 ? 0 : -1;
}

/* GOAWAY frame: 9-byte header (length 8, type 7, no flags, stream 0), last stream id, error code. */
static void send_fatal_goaway(sah_conn *conn, int error) {
    uint32_t code = (error == NGHTTP2_ERR_FLOODED || error == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS)
                        ? NGHTTP2_ENHANCE_YOUR_CALM
                        : NGHTTP2_PROTOCOL_ERROR;
    uint32_t last = (uint32_t)nghttp2_session_get_last_proc_stream_id(conn->h2.session) & 0x7fffffffu;
    uint8_t frame[17] = {0, 0, 8, NGHTTP2_GOAWAY, 0, 0, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        frame[9 + i] = (uint8_t)(last >> (24 - 8 * i));
        frame[13 + i] = (uint8_t)(code >> (24 - 8 * i));
    }
    conn->h2.goaway = 1;
    sah_h2_close(conn);
    if (sah_conn_queue(conn, frame, sizeof frame) < 0) return;
    sah_conn_close_after_flush(conn);
}

void sah_h2_on_input(sah_conn *conn) {
    ssize_t used = nghttp2_session_mem_recv(conn->h2.session, sah_buf_bytes(&conn->in), conn->in.len);
    if (used < 0) {
        /* A fatal error (a flood, too many CONTINUATION frames, ...): nghttp2 queues no GOAWAY for
         * these, so one is written by hand before the connection closes. */
        atomic_fetch_add(&conn->server->counters.protocol_errors, 1);
        send_fatal_goaway(conn, (int)used);
        return;
    }
    sah_buf_consume(&conn->in, (size_t)used);
    sah_h2_flush(conn);
}

void sah_h2_drain(sah_conn *conn) {
    if (!conn->h2.goaway) {
        conn->h2.goaway = 1;
        nghttp2_submit_goaway(conn->h2.session, NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(conn->h2.session), NGHTTP2_NO_ERROR, NULL, 0);
    }
    sah_h2_flush(conn);
}

void sah_h2_close(sah_conn *conn) {
    for (sah_req *req = conn->h2.reqs; req; req = req->next) sah_req_cancel(req);
}

void sah_h2_free(sah_conn *conn) {
    nghttp2_session_del(conn->h2.session);
    conn->h2.session = NULL;
    while (conn->h2.reqs) {
        sah_req *req = conn->h2.reqs;
        conn->h2.reqs = req->next;
        sah_req_free(req);
    }
}

/* Idle: no request is waiting for the handler. Streams still receiving their request do not count,
 * so a client cannot hold a connection open by never finishing its uploads. */
int sah_h2_idle(const sah_conn *conn) {
    for (const sah_req *req = conn->h2.reqs; req; req = req->next)
        if (req->dispatched && !req->complete && !req->cancelled) return 0;
    return 1;
}
