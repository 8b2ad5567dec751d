#include "internal.h"

#include <stdio.h>
#include <string.h>

/* HTTP/1.1 connections: one request at a time. Pipelined requests stay in the input buffer until
 * the response before them is complete, so they are answered in order and nothing about them is
 * allocated early. */

enum { FRAME_LENGTH, FRAME_CHUNKED, FRAME_CLOSE };

static void send_error(sah_conn *conn, int status, const char *reason) {
    atomic_fetch_add(&conn->server->counters.protocol_errors, 1);
    sah_req_free(conn->h1.req);
    conn->h1.req = NULL;
    conn->h1.state = SAH_H1_DONE;
    char body[512], head[320], id[SAH_REQUEST_ID_SIZE];
    size_t body_len = sah_error_json(body, sizeof body, reason);
    sah_new_request_id(id);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %zu\r\n"
                     "x-request-id: %s\r\nconnection: close\r\n\r\n", status, sah_reason_phrase(status), body_len, id);
    if (sah_conn_queue(conn, head, (size_t)n) < 0 || sah_conn_queue(conn, body, body_len) < 0) return;
    sah_conn_close_after_flush(conn);
}

static void dispatch(sah_conn *conn) {
    conn->h1.state = SAH_H1_WAIT;
    conn->h1.head_started_ms = 0;
    sah_req_dispatch(conn->h1.req);
}

static int copy_head(sah_req *req, const sah_h1_head *head) {
    if (sah_req_set_method(req, head->method, head->method_len) < 0) return -1;
    if (sah_req_set_target(req, head->target, head->target_len) < 0) return -1;
    for (size_t i = 0; i < head->field_count; i++) {
        const sah_h1_field *f = &head->fields[i];
        if (sah_req_add_field(req, f->name, f->name_len, f->value, f->value_len) < 0) return -1;
    }
    return 0;
}

/* Parses a complete head and sets up the body; -1 when the connection is answered with an error. */
static int begin_request(sah_conn *conn, const uint8_t *bytes, size_t len) {
    const char *reason = NULL;
    sah_h1_head *head = &conn->server->h1_head;
    int status = sah_h1_parse_head(bytes, len, head, &reason);
    if (status) {
        send_error(conn, status, reason);
        return -1;
    }
    sah_h1 *h1 = &conn->h1;
    if (head->has_content_length && head->content_length > conn->server->options.max_body_bytes) {
        send_error(conn, 413, "request body too large");
        return -1;
    }
    h1->req = sah_req_new(conn);
    if (!h1->req || copy_head(h1->req, head) < 0) {
        sah_conn_close(conn);
        return -1;
    }
    h1->version_minor = head->version_minor;
    h1->keep_alive = head->keep_alive && !conn->server->draining;
    h1->chunked = head->chunked;
    h1->body_left = head->content_length;
    h1->decoder = (sah_chunked){0};
    h1->state = h1->chunked || h1->body_left ? SAH_H1_BODY : SAH_H1_WAIT;
    if (h1->state == SAH_H1_BODY && head->expect_continue && head->version_minor == 1) {
        static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (sah_conn_queue(conn, go_on, sizeof go_on - 1) < 0) return -1;
        sah_conn_flush(conn);
    }
    return 0;
}

static int append_body(sah_conn *conn, const uint8_t *data, size_t len) {
    sah_req *req = conn->h1.req;
    if (req->body.len + len > conn->server->options.max_body_bytes) {
        send_error(conn, 413, "request body too large");
        return -1;
    }
    if (sah_buf_append(&req->body, data, len) < 0) {
        sah_conn_close(conn);
        return -1;
    }
    return 0;
}

/* Moves body bytes from the input; returns 1 when the body is complete, 0 for more, -1 on error. */
static int read_body(sah_conn *conn) {
    sah_h1 *h1 = &conn->h1;
    if (!h1->chunked) {
        size_t n = conn->in.len < h1->body_left ? conn->in.len : (size_t)h1->body_left;
        if (append_body(conn, sah_buf_bytes(&conn->in), n) < 0) return -1;
        sah_buf_consume(&conn->in, n);
        h1->body_left -= n;
        return h1->body_left == 0;
    }
    while (!sah_chunked_done(&h1->decoder)) {
        const uint8_t *data;
        size_t data_len;
        long used = sah_chunked_decode(&h1->decoder, sah_buf_bytes(&conn->in), conn->in.len, &data, &data_len);
        if (used < 0) {
            send_error(conn, 400, "malformed chunked body");
            return -1;
        }
        if (data_len && append_body(conn, data, data_len) < 0) return -1;
        sah_buf_consume(&conn->in, (size_t)used);
        if (used == 0) return 0;
    }
    return 1;
}

/* Reads a head from the input; returns 1 when one was parsed, 0 for more bytes, -1 on error. */
static int read_head(sah_conn *conn) {
    sah_h1 *h1 = &conn->h1;
    const sa_http_options *o = &conn->server->options;
    /* Empty lines before a request line are ignored (RFC 9112 §2.2). */
    while (h1->scanned == 0 && conn->in.len >= 2 && memcmp(sah_buf_bytes(&conn->in), "\r\n", 2) == 0)
        sah_buf_consume(&conn->in, 2);
    if (conn->in.len == 0) {
        h1->head_started_ms = 0;
        return 0;
    }
    if (!h1->head_started_ms) h1->head_started_ms = conn->server->now_ms;
    size_t limit = conn->in.len < o->max_header_bytes ? conn->in.len : o->max_header_bytes;
    long end = sah_h1_find_head_end(sah_buf_bytes(&conn->in), limit, &h1->scanned);
    if (end < 0) {
        send_error(conn, 400, "malformed line ending (bare CR or LF)");
        return -1;
    }
    if (end == 0) {
        if (conn->in.len < o->max_header_bytes) return 0;
        send_error(conn, 431, "request header fields too large");
        return -1;
    }
    h1->scanned = 0;
    if (begin_request(conn, sah_buf_bytes(&conn->in), (size_t)end) < 0) return -1;
    sah_buf_consume(&conn->in, (size_t)end);
    return 1;
}

void sah_h1_on_input(sah_conn *conn) {
    sah_h1 *h1 = &conn->h1;
    while (!conn->dead && !conn->closing) {
        if (h1->state == SAH_H1_HEAD) {
            if (read_head(conn) <= 0) return;
        } else if (h1->state == SAH_H1_BODY) {
            if (read_body(conn) <= 0) return;
            h1->state = SAH_H1_WAIT;
        } else {
            return;
        }
        if (h1->state == SAH_H1_WAIT) dispatch(conn);
    }
}

/* ---- responses ---------------------------------------------------------------------------- */

static int has_body(int status) {
    return status != 204 && status != 304;
}

static int write_head(sah_conn *conn, const sah_msg *msg, int framing, size_t length) {
    char line[128];
    sah_buf head = {0};
    int ok = 1;
    snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", msg->status, sah_reason_phrase(msg->status));
    ok &= sah_buf_append_str(&head, line) == 0;
    for (size_t i = 0; i < msg->header_count; i++) {
        const sa_http_header *h = &msg->headers[i];
        ok &= sah_buf_append(&head, h->name, h->name_len) == 0;
        ok &= sah_buf_append(&head, ": ", 2) == 0;
        ok &= sah_buf_append(&head, h->value, h->value_len) == 0;
        ok &= sah_buf_append(&head, "\r\n", 2) == 0;
    }
    if (framing == FRAME_LENGTH && has_body(msg->status)) {
        snprintf(line, sizeof line, "content-length: %zu\r\n", length);
        ok &= sah_buf_append_str(&head, line) == 0;
    } else if (framing == FRAME_CHUNKED) {
        ok &= sah_buf_append_str(&head, "transfer-encoding: chunked\r\n") == 0;
    }
    if (!conn->h1.keep_alive) ok &= sah_buf_append_str(&head, "connection: close\r\n") == 0;
    ok &= sah_buf_append(&head, "\r\n", 2) == 0;
    int rc = ok ? sah_conn_queue(conn, sah_buf_bytes(&head), head.len) : -1;
    sah_buf_free(&head);
    if (!ok) sah_conn_close(conn);
    return rc;
}

static void complete_response(sah_conn *conn) {
    sah_h1 *h1 = &conn->h1;
    sah_req_complete(h1->req);
    sah_req_free(h1->req);
    h1->req = NULL;
    if (!h1->keep_alive || conn->server->draining) {
        h1->state = SAH_H1_DONE;
        sah_conn_close_after_flush(conn);
        return;
    }
    h1->state = SAH_H1_HEAD;
    h1->scanned = 0;
    h1->head_started_ms = 0;
    sah_conn_flush(conn);
    if (!conn->dead) sah_h1_on_input(conn);
}

/* A client that leaves more than the cap unread loses its connection (and its request). */
static int over_cap(sah_conn *conn, size_t adding) {
    if (conn->out.len == 0 || conn->out.len + adding <= conn->server->options.max_output_bytes) return 0;
    sah_conn_close(conn);
    return 1;
}

static void send_chunk(sah_conn *conn, const uint8_t *bytes, size_t len) {
    if (conn->h1.req->is_head || over_cap(conn, len + 32)) return;
    if (conn->h1.response_chunked) {
        char size[32];
        int n = snprintf(size, sizeof size, "%zx\r\n", len);
        if (sah_conn_queue(conn, size, (size_t)n) < 0) return;
        if (sah_conn_queue(conn, bytes, len) < 0 || sah_conn_queue(conn, "\r\n", 2) < 0) return;
    } else if (sah_conn_queue(conn, bytes, len) < 0) {
        return;
    }
    sah_conn_flush(conn);
}

void sah_h1_apply(sah_conn *conn, sah_req *req, const sah_msg *msg) {
    switch (msg->kind) {
    case SAH_MSG_RESPOND:
        if (req->resp != SAH_RESP_NONE || over_cap(conn, msg->body_len)) return;
        req->resp = SAH_RESP_FINISHED;
        if (write_head(conn, msg, FRAME_LENGTH, msg->body_len) < 0) return;
        if (!req->is_head && has_body(msg->status) && sah_conn_queue(conn, msg->body, msg->body_len) < 0) return;
        complete_response(conn);
        return;
    case SAH_MSG_START:
        if (req->resp != SAH_RESP_NONE) return;
        req->resp = SAH_RESP_STREAMING;
        /* HTTP/1.0 has no chunked encoding: the end of the body is the end of the connection. */
        conn->h1.response_chunked = conn->h1.version_minor == 1;
        if (!conn->h1.response_chunked) conn->h1.keep_alive = 0;
        if (write_head(conn, msg, conn->h1.response_chunked ? FRAME_CHUNKED : FRAME_CLOSE, 0) == 0)
            sah_conn_flush(conn);
        return;
    case SAH_MSG_SEND:
        if (req->resp == SAH_RESP_STREAMING && msg->body_len) send_chunk(conn, msg->body, msg->body_len);
        return;
    case SAH_MSG_FINISH:
        if (req->resp != SAH_RESP_STREAMING) return;
        req->resp = SAH_RESP_FINISHED;
        if (conn->h1.response_chunked && !req->is_head && sah_conn_queue(conn, "0\r\n\r\n", 5) < 0) return;
        complete_response(conn);
        return;
    }
}

void sah_h1_drain(sah_conn *conn) {
    if (conn->h1.state == SAH_H1_HEAD) {
        conn->h1.state = SAH_H1_DONE;
        sah_conn_close_after_flush(conn);
    } else {
        conn->h1.keep_alive = 0;
    }
}

void sah_h1_close(sah_conn *conn) {
    if (conn->h1.req) sah_req_cancel(conn->h1.req);
}
