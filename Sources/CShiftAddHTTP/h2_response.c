#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* HTTP/2 responses. Body bytes wait in the request's pending buffer; nghttp2 pulls them through the
 * data provider as the client's flow-control window allows. An empty buffer defers the stream until
 * more bytes (or the end) arrive and nghttp2_session_resume_data wakes it. */

static ssize_t read_pending(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *user_data) {
    (void)session;
    (void)stream_id;
    sah_conn *conn = user_data;
    sah_req *req = source->ptr;
    size_t n = req->pending.len < length ? req->pending.len : length;
    if (n) memcpy(buf, sah_buf_bytes(&req->pending), n);
    sah_buf_consume(&req->pending, n);
    conn->h2.pending_bytes -= n;
    if (n) conn->h2.pending_progress_ms = conn->server->now_ms;
    if (req->pending.len == 0) {
        if (req->resp == SAH_RESP_FINISHED) {
            *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        } else if (n == 0) {
            req->deferred = 1;
            return NGHTTP2_ERR_DEFERRED;
        }
    }
    return (ssize_t)n;
}

static nghttp2_nv header(const char *name, size_t name_len, const char *value, size_t value_len) {
    return (nghttp2_nv){(uint8_t *)name, (uint8_t *)value, name_len, value_len, NGHTTP2_NV_FLAG_NONE};
}

/* Submits the response head; `length` < 0 means none is known (streams). nghttp2 copies the fields. */
static int submit(sah_conn *conn, sah_req *req, int status, const sa_http_header *headers, size_t count,
                  long length, int with_body) {
    nghttp2_nv *nva = malloc((count + 2) * sizeof *nva);
    size_t names_len = 0;
    for (size_t i = 0; i < count; i++) names_len += headers[i].name_len;
    char *names = malloc(names_len + 1);
    int rc = -1;
    if (nva && names) {
        char status_text[8], length_text[24];
        size_t n = 0, at = 0;
        snprintf(status_text, sizeof status_text, "%d", status);
        nva[n++] = header(":status", 7, status_text, strlen(status_text));
        for (size_t i = 0; i < count; i++) {
            for (size_t k = 0; k < headers[i].name_len; k++) {
                char c = headers[i].name[k];
                names[at + k] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
            }
            nva[n++] = header(names + at, headers[i].name_len, headers[i].value, headers[i].value_len);
            at += headers[i].name_len;
        }
        if (length >= 0 && status != 204 && status != 304) {
            snprintf(length_text, sizeof length_text, "%ld", length);
            nva[n++] = header("content-length", 14, length_text, strlen(length_text));
        }
        nghttp2_data_provider provider = {.source.ptr = req, .read_callback = read_pending};
        rc = nghttp2_submit_response(conn->h2.session, req->stream_id, nva, n, with_body ? &provider : NULL);
    }
    free(nva);
    free(names);
    return rc;
}

static int append_pending(sah_conn *conn, sah_req *req, const uint8_t *bytes, size_t len) {
    if (sah_buf_append(&req->pending, bytes, len) < 0) return -1;
    if (conn->h2.pending_bytes == 0) conn->h2.pending_progress_ms = conn->server->now_ms;
    conn->h2.pending_bytes += len;
    return 0;
}

static void resume(sah_conn *conn, sah_req *req) {
    if (!req->deferred) return;
    req->deferred = 0;
    nghttp2_session_resume_data(conn->h2.session, req->stream_id);
}

/* Gives up on a response: the stream is reset and its close cancels the request. */
static void reset_stream(sah_conn *conn, sah_req *req) {
    req->resp = SAH_RESP_FINISHED;
    conn->h2.pending_bytes -= req->pending.len;
    sah_buf_free(&req->pending);
    nghttp2_submit_rst_stream(conn->h2.session, NGHTTP2_FLAG_NONE, req->stream_id, NGHTTP2_INTERNAL_ERROR);
}

/* A client that leaves more than the cap unread loses the stream that would go past it. */
static int over_cap(sah_conn *conn, sah_req *req, size_t adding) {
    size_t queued = sah_conn_queued(conn);
    if (queued == 0 || queued + adding <= conn->server->options.max_output_bytes) return 0;
    reset_stream(conn, req);
    return 1;
}

static void respond_whole(sah_conn *conn, sah_req *req, const sah_msg *msg) {
    if (req->resp != SAH_RESP_NONE || over_cap(conn, req, msg->body_len)) return;
    req->resp = SAH_RESP_FINISHED;
    int with_body = !req->is_head && msg->body_len > 0 && msg->status != 204 && msg->status != 304;
    if ((with_body && append_pending(conn, req, msg->body, msg->body_len) < 0) ||
        submit(conn, req, msg->status, msg->headers, msg->header_count, (long)msg->body_len, with_body) != 0)
        reset_stream(conn, req);
}

void sah_h2_apply(sah_conn *conn, sah_req *req, const sah_msg *msg) {
    switch (msg->kind) {
    case SAH_MSG_RESPOND:
        respond_whole(conn, req, msg);
        break;
    case SAH_MSG_START:
        if (req->resp != SAH_RESP_NONE) break;
        req->resp = SAH_RESP_STREAMING;
        if (submit(conn, req, msg->status, msg->headers, msg->header_count, -1, !req->is_head) != 0)
            reset_stream(conn, req);
        break;
    case SAH_MSG_SEND:
        if (req->resp != SAH_RESP_STREAMING || req->is_head || over_cap(conn, req, msg->body_len)) break;
        if (append_pending(conn, req, msg->body, msg->body_len) < 0) reset_stream(conn, req);
        else resume(conn, req);
        break;
    case SAH_MSG_FINISH:
        if (req->resp != SAH_RESP_STREAMING) break;
        req->resp = SAH_RESP_FINISHED;
        resume(conn, req);
        break;
    }
    sah_h2_flush(conn);
}

void sah_h2_respond_error(sah_conn *conn, sah_req *req) {
    if (req->resp != SAH_RESP_NONE) return;
    atomic_fetch_add(&conn->server->counters.protocol_errors, 1);
    req->resp = SAH_RESP_FINISHED;
    char body[512];
    size_t len = sah_error_json(body, sizeof body, req->error_reason);
    char id[SAH_REQUEST_ID_SIZE];
    sah_new_request_id(id);
    const sa_http_header headers[2] = {{"content-type", 12, "application/json", 16}, {"x-request-id", 12, id, 32}};
    if (append_pending(conn, req, (const uint8_t *)body, len) < 0 ||
        submit(conn, req, req->error_status, headers, 2, (long)len, 1) != 0)
        reset_stream(conn, req);
}

void sah_h2_flush(sah_conn *conn) {
    /* Closing: the session has ended, or failed with an error after which it must not be used. */
    if (conn->closing) {
        sah_conn_flush(conn);
        return;
    }
    nghttp2_session *session = conn->h2.session;
    while (!conn->dead) {
        if (conn->out.len >= SAH_H2_OUT_HIGH_WATER) {
            sah_conn_flush(conn);
            if (conn->dead || conn->out.len >= SAH_H2_OUT_HIGH_WATER) break;
        }
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(session, &data);
        if (n < 0) {
            sah_conn_close(conn);
            return;
        }
        if (n == 0) break;
        if (sah_conn_queue(conn, data, (size_t)n) < 0) return;
    }
    if (conn->dead) return;
    if (!nghttp2_session_want_read(session) && !nghttp2_session_want_write(session)) {
        /* The session is over (GOAWAY sent or received): streams still open will get no answer. */
        sah_h2_close(conn);
        sah_conn_close_after_flush(conn);
        return;
    }
    sah_conn_flush(conn);
}
