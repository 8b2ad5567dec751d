#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Time a closing connection keeps reading (and discarding) so the client sees the response before
 * the close instead of a reset. */
#define LINGER_MS 2000
/* Largest single write handed to the socket or to SSL_write. */
#define WRITE_CHUNK (1u << 20)
/* Bytes read per readiness event before other connections get a turn. */
#define READ_BUDGET (1u << 20)

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

sah_conn *sah_conn_new(sa_http_server *server, int fd, int tls, const char *peer) {
    sah_conn *conn = calloc(1, sizeof *conn);
    if (!conn) return NULL;
    conn->handle.kind = SAH_HANDLE_CONN;
    conn->server = server;
    conn->fd = fd;
    conn->proto = tls ? SAH_PROTO_TLS_HANDSHAKE : SAH_PROTO_DETECT;
    strncpy(conn->peer, peer, sizeof conn->peer - 1);
    conn->created_ms = conn->last_active_ms = conn->out_progress_ms = server->now_ms;
    if (tls && (!(conn->ssl = SSL_new(server->tls)) || SSL_set_fd(conn->ssl, fd) != 1)) {
        SSL_free(conn->ssl);
        free(conn);
        return NULL;
    }
    if (tls) SSL_set_accept_state(conn->ssl);
    conn->events = EPOLLIN | EPOLLRDHUP;
    struct epoll_event ev = {.events = conn->events, .data.ptr = conn};
    if (epoll_ctl(server->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        SSL_free(conn->ssl);
        free(conn);
        return NULL;
    }
    conn->next = server->conns;
    if (server->conns) server->conns->prev = conn;
    server->conns = conn;
    server->conn_count++;
    atomic_fetch_add(&server->counters.accepted_connections, 1);
    atomic_fetch_add(&server->counters.open_connections, 1);
    return conn;
}

size_t sah_conn_queued(const sah_conn *conn) {
    return conn->out.len + conn->h2.pending_bytes;
}

/* Input is not read while a response is owed and enough is buffered, while the client leaves its
 * output unread, or while the connection is closing. */
static int should_pause(const sah_conn *conn) {
    const sa_http_options *o = &conn->server->options;
    if (conn->lingering) return 0;
    if (conn->closing) return 1;
    if (conn->proto == SAH_PROTO_H1)
        return conn->out.len > o->max_output_bytes ||
               (conn->h1.state >= SAH_H1_WAIT && conn->in.len > o->max_header_bytes);
    if (conn->proto == SAH_PROTO_H2)
        return conn->out.len >= SAH_H2_OUT_HIGH_WATER || sah_conn_queued(conn) > o->max_output_bytes;
    return 0;
}

void sah_conn_update_events(sah_conn *conn) {
    if (conn->dead) return;
    uint32_t ev = EPOLLRDHUP;
    if (conn->proto == SAH_PROTO_TLS_HANDSHAKE) {
        ev |= conn->tls_wants_write ? EPOLLOUT : EPOLLIN;
    } else {
        conn->read_paused = should_pause(conn);
        if (!conn->read_paused || conn->tls_wants_read) ev |= EPOLLIN;
        if (conn->out.len > 0 || conn->tls_wants_write) ev |= EPOLLOUT;
    }
    if (ev == conn->events) return;
    struct epoll_event event = {.events = ev, .data.ptr = conn};
    if (epoll_ctl(conn->server->epoll_fd, EPOLL_CTL_MOD, conn->fd, &event) < 0) {
        sah_conn_close(conn);
        return;
    }
    conn->events = ev;
}

int sah_conn_queue(sah_conn *conn, const void *bytes, size_t len) {
    if (conn->dead) return -1;
    if (conn->out.len == 0) conn->out_progress_ms = conn->server->now_ms;
    if (sah_buf_append(&conn->out, bytes, len) < 0) {
        sah_conn_close(conn);
        return -1;
    }
    return 0;
}

static void start_linger(sah_conn *conn) {
    if (conn->ssl) SSL_shutdown(conn->ssl);
    shutdown(conn->fd, SHUT_WR);
    conn->lingering = 1;
    conn->linger_deadline_ms = conn->server->now_ms + LINGER_MS;
    sah_buf_free(&conn->in);
}

void sah_conn_flush(sah_conn *conn) {
    while (!conn->dead && conn->out.len > 0) {
        size_t len = conn->out.len < WRITE_CHUNK ? conn->out.len : WRITE_CHUNK;
        long n = sah_io_write(conn, sah_buf_bytes(&conn->out), len);
        if (n == -1) break;
        if (n < 0) {
            sah_conn_close(conn);
            return;
        }
        sah_buf_consume(&conn->out, (size_t)n);
        conn->last_active_ms = conn->out_progress_ms = conn->server->now_ms;
    }
    if (conn->dead) return;
    if (conn->out.len == 0 && conn->closing && !conn->lingering) start_linger(conn);
    sah_conn_update_events(conn);
}

void sah_conn_close_after_flush(sah_conn *conn) {
    conn->closing = 1;
    sah_conn_flush(conn);
}

static void process_input(sah_conn *conn);

/* Cleartext: the first bytes tell an h2c preface from an HTTP/1.1 request. */
static void detect_protocol(sah_conn *conn) {
    size_t n = conn->in.len < 24 ? conn->in.len : 24;
    if (memcmp(sah_buf_bytes(&conn->in), h2_preface, n) != 0) {
        conn->proto = SAH_PROTO_H1;
    } else if (conn->in.len >= 24) {
        conn->proto = SAH_PROTO_H2;
        if (sah_h2_start(conn) < 0) {
            sah_conn_close(conn);
            return;
        }
    } else {
        return;
    }
    process_input(conn);
}

static void process_input(sah_conn *conn) {
    switch (conn->proto) {
    case SAH_PROTO_DETECT: detect_protocol(conn); break;
    case SAH_PROTO_H1: sah_h1_on_input(conn); break;
    case SAH_PROTO_H2: sah_h2_on_input(conn); break;
    default: break;
    }
}

/* Bytes OpenSSL already decrypted: epoll cannot announce them, so they must be read now. */
static int tls_pending(const sah_conn *conn) {
    return conn->ssl && SSL_pending(conn->ssl) > 0;
}

static void read_input(sah_conn *conn) {
    uint8_t buf[16384]; /* a whole TLS record */
    size_t budget = READ_BUDGET;
    while (!conn->dead && !conn->read_paused && (budget > 0 || tls_pending(conn))) {
        long n = sah_io_read(conn, buf, sizeof buf);
        if (n == -1) break;
        if (n <= 0) {
            sah_conn_close(conn);
            return;
        }
        budget = (size_t)n < budget ? budget - (size_t)n : 0;
        conn->last_active_ms = conn->server->now_ms;
        if (conn->lingering) continue;
        if (sah_buf_append(&conn->in, buf, (size_t)n) < 0) {
            sah_conn_close(conn);
            return;
        }
        process_input(conn);
        sah_conn_update_events(conn);
    }
    sah_conn_update_events(conn);
}

static void handshake_step(sah_conn *conn) {
    int rc = sah_tls_handshake(conn);
    if (rc < 0) {
        sah_conn_close(conn);
        return;
    }
    if (rc == 0) {
        sah_conn_update_events(conn);
        return;
    }
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(conn->ssl, &alpn, &alpn_len);
    if (alpn_len == 2 && memcmp(alpn, "h2", 2) == 0) {
        conn->proto = SAH_PROTO_H2;
        if (sah_h2_start(conn) < 0) {
            sah_conn_close(conn);
            return;
        }
        sah_h2_flush(conn);
    } else {
        conn->proto = SAH_PROTO_H1;
    }
    conn->last_active_ms = conn->server->now_ms;
    if (!conn->dead) read_input(conn);
}

void sah_conn_on_event(sah_conn *conn, uint32_t events) {
    if (conn->dead) return;
    if (events & EPOLLERR) {
        sah_conn_close(conn);
        return;
    }
    if (conn->proto == SAH_PROTO_TLS_HANDSHAKE) {
        handshake_step(conn);
        return;
    }
    int readable = (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) != 0;
    int writable = (events & EPOLLOUT) != 0;
    if (readable) {
        if (!conn->read_paused) read_input(conn);
        else if (events & (EPOLLHUP | EPOLLRDHUP)) sah_conn_close(conn);
    }
    if (!conn->dead && (writable || (readable && conn->tls_wants_read))) {
        if (conn->proto == SAH_PROTO_H2) sah_h2_flush(conn);
        else sah_conn_flush(conn);
    }
    if (!conn->dead && writable && conn->tls_wants_write && !conn->read_paused) read_input(conn);
}

void sah_conn_read_pending(sah_conn *conn) {
    if (!conn->dead && !conn->read_paused && conn->proto != SAH_PROTO_TLS_HANDSHAKE && tls_pending(conn))
        read_input(conn);
}

void sah_conn_close(sah_conn *conn) {
    if (conn->dead) return;
    conn->dead = 1;
    sa_http_server *server = conn->server;
    epoll_ctl(server->epoll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
    close(conn->fd);
    conn->fd = -1;
    if (conn->proto == SAH_PROTO_H1) sah_h1_close(conn);
    else if (conn->proto == SAH_PROTO_H2) sah_h2_close(conn);
    if (conn->prev) conn->prev->next = conn->next;
    else server->conns = conn->next;
    if (conn->next) conn->next->prev = conn->prev;
    conn->prev = NULL;
    conn->next = server->dead;
    server->dead = conn;
    server->conn_count--;
    atomic_fetch_sub(&server->counters.open_connections, 1);
}

void sah_conn_free(sah_conn *conn) {
    sah_h2_free(conn);
    sah_req_free(conn->h1.req);
    SSL_free(conn->ssl);
    sah_buf_free(&conn->in);
    sah_buf_free(&conn->out);
    free(conn);
}

/* 1 when `now` is past `since` + `limit` (a limit of 0 never expires). */
static int expired(int64_t now, int64_t since, uint32_t limit) {
    return limit > 0 && now - since >= (int64_t)limit;
}

void sah_conn_check_timeouts(sah_conn *conn, int64_t now) {
    const sa_http_options *o = &conn->server->options;
    if (conn->lingering) {
        if (now >= conn->linger_deadline_ms) sah_conn_close(conn);
        return;
    }
    int timed_out = conn->out.len > 0 && expired(now, conn->out_progress_ms, o->idle_timeout_ms);
    switch (conn->proto) {
    case SAH_PROTO_DETECT:
    case SAH_PROTO_TLS_HANDSHAKE:
        timed_out |= expired(now, conn->created_ms, o->header_timeout_ms);
        break;
    case SAH_PROTO_H1:
        if (conn->h1.state == SAH_H1_HEAD && conn->h1.head_started_ms)
            timed_out |= expired(now, conn->h1.head_started_ms, o->header_timeout_ms);
        else if (conn->h1.state == SAH_H1_HEAD || conn->h1.state == SAH_H1_BODY)
            timed_out |= expired(now, conn->last_active_ms, o->idle_timeout_ms);
        break;
    case SAH_PROTO_H2:
        timed_out |= sah_h2_idle(conn) && expired(now, conn->last_active_ms, o->idle_timeout_ms);
        /* Response bytes held back by a flow-control window the client never opens. */
        timed_out |= conn->h2.pending_bytes > 0 && expired(now, conn->h2.pending_progress_ms, o->idle_timeout_ms);
        break;
    }
    if (timed_out) sah_conn_close(conn);
}

void sah_conn_drain(sah_conn *conn) {
    switch (conn->proto) {
    case SAH_PROTO_H1: sah_h1_drain(conn); break;
    case SAH_PROTO_H2: sah_h2_drain(conn); break;
    default: sah_conn_close(conn); break;
    }
}
