#include "internal.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

/* The loop thread: epoll readiness, response submissions from the outbox, timers, drain, stop. */

#define MAX_EVENTS 64
/* Timers are checked this often; timeouts are therefore this coarse. */
#define SWEEP_MS 250

int64_t sah_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Applies queued submissions in order; those for requests that are gone are dropped. */
static void apply_messages(sa_http_server *server) {
    sah_msg *msg = sah_outbox_take(&server->outbox);
    while (msg) {
        sah_msg *next = msg->next;
        sah_req *req = sah_idmap_get(&server->ids, msg->id);
        if (req && !req->conn->dead) {
            if (req->conn->proto == SAH_PROTO_H2) sah_h2_apply(req->conn, req, msg);
            else sah_h1_apply(req->conn, req, msg);
        }
        free(msg);
        msg = next;
    }
}

static void free_dead(sa_http_server *server) {
    while (server->dead) {
        sah_conn *conn = server->dead;
        server->dead = conn->next;
        sah_conn_free(conn);
    }
}

static void resume_listeners(sa_http_server *server) {
    for (int i = 0; i < server->listener_count; i++) {
        sah_listener *l = &server->listeners[i];
        if (!l->paused || l->fd < 0) continue;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
        if (epoll_ctl(server->epoll_fd, EPOLL_CTL_ADD, l->fd, &ev) == 0) l->paused = 0;
    }
}

static void sweep(sa_http_server *server) {
    server->last_sweep_ms = server->now_ms;
    for (sah_conn *conn = server->conns, *next; conn; conn = next) {
        next = conn->next;
        sah_conn_check_timeouts(conn, server->now_ms);
        sah_conn_read_pending(conn);
    }
    if (!server->draining) resume_listeners(server);
}

static void begin_drain(sa_http_server *server) {
    server->draining = 1;
    for (int i = 0; i < server->listener_count; i++) sah_listener_close(server, &server->listeners[i]);
    for (sah_conn *conn = server->conns, *next; conn; conn = next) {
        next = conn->next;
        sah_conn_drain(conn);
    }
}

static void dispatch_event(sa_http_server *server, const struct epoll_event *event) {
    sah_handle *handle = event->data.ptr;
    switch (handle->kind) {
    case SAH_HANDLE_LISTENER:
        if (!server->draining) sah_listener_accept(server, (sah_listener *)handle);
        break;
    case SAH_HANDLE_WAKE:
        apply_messages(server);
        break;
    default:
        sah_conn_on_event((sah_conn *)handle, event->events);
        break;
    }
}

/* Stop: every connection closes (cancelling what is in flight); later submissions are refused. */
static void shut_down(sa_http_server *server) {
    for (int i = 0; i < server->listener_count; i++) sah_listener_close(server, &server->listeners[i]);
    while (server->conns) sah_conn_close(server->conns);
    free_dead(server);
    sah_outbox_close(&server->outbox);
}

void *sah_loop_main(void *arg) {
    sa_http_server *server = arg;
    struct epoll_event events[MAX_EVENTS];
    server->now_ms = server->last_sweep_ms = sah_now_ms();
    while (!atomic_load(&server->stop_requested)) {
        int n = epoll_wait(server->epoll_fd, events, MAX_EVENTS, SWEEP_MS);
        server->now_ms = sah_now_ms();
        for (int i = 0; i < n; i++) dispatch_event(server, &events[i]);
        /* Connections closed above are freed only now: later events of the batch may name them. */
        free_dead(server);
        if (atomic_load(&server->drain_requested) && !server->draining) begin_drain(server);
        if (server->now_ms - server->last_sweep_ms >= SWEEP_MS) sweep(server);
        free_dead(server);
    }
    shut_down(server);
    if (atomic_load(&server->free_on_exit)) sah_server_free(server);
    return NULL;
}
