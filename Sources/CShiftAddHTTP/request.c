#include "internal.h"

#include <stdlib.h>
#include <string.h>

sah_req *sah_req_new(sah_conn *conn) {
    sah_req *req = calloc(1, sizeof *req);
    if (req) req->conn = conn;
    return req;
}

void sah_req_free(sah_req *req) {
    if (!req) return;
    sah_buf_free(&req->text);
    sah_buf_free(&req->body);
    sah_buf_free(&req->pending);
    free(req->fields);
    free(req);
}

/* Appends bytes to the text buffer, returning their offset (or -1). */
static long append_text(sah_req *req, const char *bytes, size_t len, int lowercase) {
    size_t at = req->text.len;
    if (sah_buf_append(&req->text, bytes, len) < 0) return -1;
    if (lowercase) {
        uint8_t *p = sah_buf_bytes(&req->text) + at;
        for (size_t i = 0; i < len; i++)
            if (p[i] >= 'A' && p[i] <= 'Z') p[i] = (uint8_t)(p[i] + ('a' - 'A'));
    }
    return (long)at;
}

int sah_req_add_field(sah_req *req, const char *name, size_t name_len, const char *value, size_t value_len) {
    if (req->field_count == req->field_cap) {
        size_t cap = req->field_cap ? req->field_cap * 2 : 16;
        sah_field *fields = realloc(req->fields, cap * sizeof *fields);
        if (!fields) return -1;
        req->fields = fields;
        req->field_cap = cap;
    }
    long n = append_text(req, name, name_len, 1);
    long v = n < 0 ? -1 : append_text(req, value, value_len, 0);
    if (v < 0) return -1;
    req->fields[req->field_count++] = (sah_field){(size_t)n, name_len, (size_t)v, value_len};
    return 0;
}

int sah_req_set_method(sah_req *req, const char *method, size_t len) {
    long at = append_text(req, method, len, 0);
    if (at < 0) return -1;
    req->method = (sah_field){.name = (size_t)at, .name_len = len};
    req->is_head = len == 4 && memcmp(method, "HEAD", 4) == 0;
    return 0;
}

int sah_req_set_target(sah_req *req, const char *target, size_t len) {
    long at = append_text(req, target, len, 0);
    if (at < 0) return -1;
    req->target = (sah_field){.name = (size_t)at, .name_len = len};
    return 0;
}

int sah_req_has_field(const sah_req *req, const char *name) {
    size_t len = strlen(name);
    const uint8_t *text = sah_buf_bytes(&req->text);
    for (size_t i = 0; i < req->field_count; i++)
        if (req->fields[i].name_len == len && memcmp(text + req->fields[i].name, name, len) == 0) return 1;
    return 0;
}

void sah_req_dispatch(sah_req *req) {
    sa_http_server *server = req->conn->server;
    sa_http_header *headers = calloc(req->field_count ? req->field_count : 1, sizeof *headers);
    if (!headers || sah_idmap_put(&server->ids, server->next_id + 1, req) < 0) {
        free(headers);
        sah_buf_free(&req->body);
        sah_conn_close(req->conn);
        return;
    }
    req->id = ++server->next_id;
    req->dispatched = 1;
    atomic_fetch_add(&server->counters.open_requests, 1);
    const char *text = (const char *)sah_buf_bytes(&req->text);
    for (size_t i = 0; i < req->field_count; i++) {
        const sah_field *f = &req->fields[i];
        headers[i] = (sa_http_header){text + f->name, f->name_len, text + f->value, f->value_len};
    }
    sa_http_request request = {
        .id = req->id,
        .method = text + req->method.name, .method_len = req->method.name_len,
        .target = text + req->target.name, .target_len = req->target.name_len,
        .headers = headers, .header_count = req->field_count,
        .body = req->body.len ? sah_buf_bytes(&req->body) : NULL, .body_len = req->body.len,
        .version = req->stream_id ? SA_HTTP_VERSION_2 : SA_HTTP_VERSION_1,
        .secure = req->conn->ssl != NULL,
        .peer = req->conn->peer,
    };
    if (server->callbacks.on_request) server->callbacks.on_request(server->callbacks.context, &request);
    free(headers);
    /* The handler copied the body; the response may take long, so the memory goes now. */
    sah_buf_free(&req->body);
}

/* The handler no longer reaches this request: forget its id and count it closed. */
static void retire(sah_req *req) {
    sa_http_server *server = req->conn->server;
    sah_idmap_remove(&server->ids, req->id);
    atomic_fetch_sub(&server->counters.open_requests, 1);
}

void sah_req_complete(sah_req *req) {
    if (req->complete) return;
    req->complete = 1;
    if (req->dispatched && !req->cancelled) retire(req);
}

void sah_req_cancel(sah_req *req) {
    if (!req->dispatched || req->complete || req->cancelled) return;
    req->cancelled = 1;
    retire(req);
    sa_http_server *server = req->conn->server;
    if (server->callbacks.on_cancel) server->callbacks.on_cancel(server->callbacks.context, req->id);
}
