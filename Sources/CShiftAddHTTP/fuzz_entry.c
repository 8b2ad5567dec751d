#include "fuzz_entry.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Small limits so that short inputs reach every limit path. */
#define FUZZ_MAX_HEADER_BYTES 1024
#define FUZZ_MAX_BODY_BYTES 2048
#define FUZZ_MAX_OUTPUT_BYTES 4096

#define CHECK(cond)               \
    do {                          \
        if (!(cond)) abort();     \
    } while (0)

enum { PLAN_WHOLE, PLAN_STREAM, PLAN_OVER_CAP, PLAN_NEVER, PLAN_COUNT };

typedef struct fuzz_request {
    uint64_t id;
    int step;      /* responses submitted so far */
    int done;      /* no more submissions planned */
    int cancelled;
} fuzz_request;

typedef struct fuzz_state {
    fuzz_request *requests;
    size_t count, cap;
    uint64_t digest; /* every byte lent to the handler, folded in so none of it goes unread */
} fuzz_state;

static fuzz_state state;

static void fold(const void *bytes, size_t len) {
    const uint8_t *p = bytes;
    for (size_t i = 0; i < len; i++) state.digest = (state.digest ^ p[i]) * 1099511628211u;
}

static fuzz_request *find(uint64_t id) {
    for (size_t i = 0; i < state.count; i++)
        if (state.requests[i].id == id) return &state.requests[i];
    return NULL;
}

static void on_request(void *context, const sa_http_request *r) {
    (void)context;
    CHECK(r->id != 0 && !find(r->id));
    fold(r->method, r->method_len);
    fold(r->target, r->target_len);
    for (size_t i = 0; i < r->header_count; i++) {
        fold(r->headers[i].name, r->headers[i].name_len);
        fold(r->headers[i].value, r->headers[i].value_len);
    }
    if (r->body_len) fold(r->body, r->body_len);
    fold(r->peer, strlen(r->peer));
    if (state.count == state.cap) {
        size_t cap = state.cap ? state.cap * 2 : 16;
        fuzz_request *grown = realloc(state.requests, cap * sizeof *grown);
        CHECK(grown);
        state.requests = grown;
        state.cap = cap;
    }
    state.requests[state.count++] = (fuzz_request){.id = r->id};
}

static void on_cancel(void *context, uint64_t id) {
    (void)context;
    fuzz_request *r = find(id);
    CHECK(r && !r->cancelled);
    r->cancelled = 1;
}

static sa_http_server *fuzz_server(void) {
    static sa_http_server *server;
    if (server) return server;
    server = calloc(1, sizeof *server);
    CHECK(server);
    sa_http_options_init(&server->options);
    server->options.max_header_bytes = FUZZ_MAX_HEADER_BYTES;
    server->options.max_body_bytes = FUZZ_MAX_BODY_BYTES;
    server->options.max_output_bytes = FUZZ_MAX_OUTPUT_BYTES;
    server->options.max_concurrent_streams = 4;
    server->options.max_stream_resets = 8;
    server->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    server->outbox.eventfd = -1;
    CHECK(server->epoll_fd >= 0 && sah_h2_callbacks(server) == 0);
    server->callbacks = (sa_http_callbacks){.on_request = on_request, .on_cancel = on_cancel};
    server->now_ms = 1;
    return server;
}

/* Applies one submission the way the loop applies the outbox: dropped if the request is gone. */
static void apply(sa_http_server *server, sah_msg *msg) {
    CHECK(msg);
    sah_req *req = sah_idmap_get(&server->ids, msg->id);
    if (req && !req->conn->dead) {
        if (req->conn->proto == SAH_PROTO_H2) sah_h2_apply(req->conn, req, msg);
        else sah_h1_apply(req->conn, req, msg);
    }
    free(msg);
}

static void answer(sa_http_server *server) {
    static const uint8_t body[FUZZ_MAX_OUTPUT_BYTES + 512] = {'{', '}'};
    const sa_http_header headers[] = {
        {"content-type", 12, "application/json", 16},
        {"x-request-id", 12, "fuzz", 4},
        {"bad name", 8, "dropped", 7},
        {"x-split", 7, "a\r\nb", 4},
    };
    const size_t header_count = sizeof headers / sizeof headers[0];
    for (size_t i = 0; i < state.count; i++) {
        fuzz_request *r = &state.requests[i];
        if (r->done || r->cancelled) continue;
        switch (r->id % PLAN_COUNT) {
        case PLAN_WHOLE:
            apply(server, sah_msg_new(SAH_MSG_RESPOND, r->id, 200, headers, header_count, body, 64));
            r->done = 1;
            break;
        case PLAN_STREAM:
            if (r->step == 0) {
                apply(server, sah_msg_new(SAH_MSG_START, r->id, 200, headers, header_count, NULL, 0));
                apply(server, sah_msg_new(SAH_MSG_SEND, r->id, 0, NULL, 0, body, 16));
            } else {
                apply(server, sah_msg_new(SAH_MSG_SEND, r->id, 0, NULL, 0, body + 16, 48));
                apply(server, sah_msg_new(SAH_MSG_FINISH, r->id, 0, NULL, 0, NULL, 0));
                r->done = 1;
            }
            break;
        case PLAN_OVER_CAP:
            apply(server, sah_msg_new(SAH_MSG_START, r->id, 200, NULL, 0, NULL, 0));
            apply(server, sah_msg_new(SAH_MSG_SEND, r->id, 0, NULL, 0, body, sizeof body));
            apply(server, sah_msg_new(SAH_MSG_SEND, r->id, 0, NULL, 0, body, sizeof body));
            apply(server, sah_msg_new(SAH_MSG_FINISH, r->id, 0, NULL, 0, NULL, 0));
            r->done = 1;
            break;
        default:
            r->done = 1; /* never answered: the close must cancel it */
            break;
        }
        r->step++;
    }
}

/* Reads and discards what the server wrote, as a client that keeps up would. */
static void drain_peer(int fd) {
    uint8_t buf[16384];
    while (recv(fd, buf, sizeof buf, 0) > 0) {
    }
}

/* Piece sizes: small ones split the preface, request lines and frame headers; large ones batch. */
static size_t piece_size(unsigned round, size_t left) {
    static const size_t sizes[] = {1, 2, 7, 64, 3, 300, 24, 4096};
    size_t n = sizes[round % (sizeof sizes / sizeof sizes[0])];
    return n < left ? n : left;
}

static void free_dead(sa_http_server *server) {
    while (server->dead) {
        sah_conn *conn = server->dead;
        server->dead = conn->next;
        sah_conn_free(conn);
    }
}

int sah_fuzz_connection(const uint8_t *data, size_t len) {
    sa_http_server *server = fuzz_server();
    int fds[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    /* A small socket buffer makes output back up, so backpressure and the output cap are reached. */
    int buffer = 4096;
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    sah_conn *conn = sah_conn_new(server, fds[0], 0, "192.0.2.1:5000");
    CHECK(conn);
    state.count = 0;
    size_t pos = 0;
    unsigned round = 0, stalled = 0;
    while (pos < len && !conn->dead && stalled < 2) {
        ssize_t sent = send(fds[1], data + pos, piece_size(round++, len - pos), MSG_NOSIGNAL);
        if (sent < 0) sent = 0;
        pos += (size_t)sent;
        stalled = sent == 0 ? stalled + 1 : 0;
        server->now_ms += 10;
        sah_conn_on_event(conn, EPOLLIN);
        drain_peer(fds[1]);
        sah_conn_on_event(conn, EPOLLOUT);
        answer(server);
        drain_peer(fds[1]);
    }
    /* Later rounds finish the streams that are still open. */
    for (int i = 0; i < 2 && !conn->dead; i++) {
        answer(server);
        drain_peer(fds[1]);
        sah_conn_on_event(conn, EPOLLOUT);
    }
    switch (len % 3) {
    case 0: /* the client leaves */
        shutdown(fds[1], SHUT_WR);
        sah_conn_on_event(conn, EPOLLIN | EPOLLRDHUP);
        break;
    case 1: /* the server drains, then its timers run out */
        sah_conn_drain(conn);
        drain_peer(fds[1]);
        sah_conn_check_timeouts(conn, server->now_ms + 120000);
        break;
    default: /* the server stops */
        break;
    }
    sah_conn_close(conn);
    free_dead(server);
    close(fds[1]);
    /* Every request was completed or cancelled: none may still be reachable by id. */
    for (size_t i = 0; i < state.count; i++) CHECK(sah_idmap_get(&server->ids, state.requests[i].id) == NULL);
    CHECK(atomic_load(&server->counters.open_requests) == 0);
    CHECK(atomic_load(&server->counters.open_connections) == 0);
    return (int)state.count;
}
