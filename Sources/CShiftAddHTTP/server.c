#include "internal.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

void sa_http_options_init(sa_http_options *o) {
    *o = (sa_http_options){
        .host = "127.0.0.1",
        .port = 8080,
        .tls_port = -1,
        .max_header_bytes = 16 * 1024,
        .max_body_bytes = 4 * 1024 * 1024,
        .max_concurrent_streams = 128,
        .max_connections = 1024,
        .header_timeout_ms = 10000,
        .idle_timeout_ms = 60000,
        .max_output_bytes = 8 * 1024 * 1024,
        .max_stream_resets = 200,
        .stream_reset_window_ms = 10000,
    };
}

/* A write to a socket the peer closed must fail with EPIPE, not kill the process. */
static void ignore_sigpipe(void) {
    struct sigaction current;
    if (sigaction(SIGPIPE, NULL, &current) == 0 && current.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
}

static char *copy_string(const char *s) {
    return s ? strdup(s) : NULL;
}

static int check_options(const sa_http_options *o, char *error, size_t error_len) {
    const char *problem = NULL;
    if (!o->host) problem = "a host is required";
    else if (o->port < 0 || o->port > 65535 || o->tls_port < -1 || o->tls_port > 65535) problem = "port out of range";
    else if (o->tls_port >= 0 && (!o->certificate_file || !o->key_file))
        problem = "TLS needs a certificate file and a key file";
    else if (o->max_header_bytes < 256) problem = "max header bytes must be at least 256";
    else if (o->max_connections < 1) problem = "max connections must be at least 1";
    else if (o->max_concurrent_streams < 1) problem = "max concurrent streams must be at least 1";
    if (problem) snprintf(error, error_len, "%s", problem);
    return problem ? -1 : 0;
}

static int add_listener(sa_http_server *server, int port, int tls, char *error, size_t error_len) {
    sah_listener *l = &server->listeners[server->listener_count];
    if (sah_listener_open(l, server->host, port, tls, error, error_len) < 0) return -1;
    server->listener_count++;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
    if (epoll_ctl(server->epoll_fd, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
        snprintf(error, error_len, "cannot watch the listener");
        return -1;
    }
    return 0;
}

static int setup(sa_http_server *server, char *error, size_t error_len) {
    server->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (server->epoll_fd < 0 || sah_outbox_init(&server->outbox) < 0 || sah_h2_callbacks(server) < 0) {
        snprintf(error, error_len, "cannot set up the event loop");
        return -1;
    }
    server->wake.kind = SAH_HANDLE_WAKE;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &server->wake};
    if (epoll_ctl(server->epoll_fd, EPOLL_CTL_ADD, server->outbox.eventfd, &ev) < 0) {
        snprintf(error, error_len, "cannot watch the wake-up descriptor");
        return -1;
    }
    if (add_listener(server, server->options.port, 0, error, error_len) < 0) return -1;
    if (server->options.tls_port < 0) return 0;
    server->tls = sah_tls_context(server->certificate_file, server->key_file, error, error_len);
    if (!server->tls) return -1;
    return add_listener(server, server->options.tls_port, 1, error, error_len);
}

int sa_http_server_create(const sa_http_options *options, sa_http_server **out, char *error, size_t error_len) {
    char scratch[8];
    if (!error || error_len == 0) {
        error = scratch;
        error_len = sizeof scratch;
    }
    *out = NULL;
    if (check_options(options, error, error_len) < 0) return -1;
    ignore_sigpipe();
    sa_http_server *server = calloc(1, sizeof *server);
    if (!server || pthread_mutex_init(&server->lifecycle, NULL) != 0) {
        free(server);
        snprintf(error, error_len, "out of memory");
        return -1;
    }
    server->epoll_fd = -1;
    server->outbox.eventfd = -1;
    server->options = *options;
    server->host = copy_string(options->host);
    server->certificate_file = copy_string(options->certificate_file);
    server->key_file = copy_string(options->key_file);
    server->options.host = server->host;
    server->options.certificate_file = server->certificate_file;
    server->options.key_file = server->key_file;
    if (setup(server, error, error_len) < 0) {
        sah_server_free(server);
        return -1;
    }
    *out = server;
    return 0;
}

int sa_http_server_port(const sa_http_server *server) {
    return server->listeners[0].port;
}

int sa_http_server_tls_port(const sa_http_server *server) {
    return server->listener_count > 1 ? server->listeners[1].port : -1;
}

int sa_http_server_start(sa_http_server *server, const sa_http_callbacks *callbacks) {
    pthread_mutex_lock(&server->lifecycle);
    int rc = 0;
    if (server->joined) {
        rc = -1;
    } else if (!server->started) {
        server->callbacks = *callbacks;
        if (pthread_create(&server->thread, NULL, sah_loop_main, server) == 0) server->started = 1;
        else rc = -1;
    }
    pthread_mutex_unlock(&server->lifecycle);
    return rc;
}

void sa_http_server_drain(sa_http_server *server) {
    atomic_store(&server->drain_requested, 1);
    sah_outbox_wake(&server->outbox);
}

int sa_http_server_stop(sa_http_server *server) {
    pthread_mutex_lock(&server->lifecycle);
    int rc = 0;
    if (!server->joined) {
        atomic_store(&server->stop_requested, 1);
        if (!server->started) {
            sah_outbox_close(&server->outbox);
            server->joined = 1;
        } else if (pthread_equal(pthread_self(), server->thread)) {
            rc = -1; /* the loop stops when the current callback returns; it cannot join itself */
        } else {
            sah_outbox_wake(&server->outbox);
            pthread_join(server->thread, NULL);
            server->joined = 1;
        }
    }
    pthread_mutex_unlock(&server->lifecycle);
    return rc;
}

void sa_http_server_destroy(sa_http_server *server) {
    if (!server) return;
    pthread_mutex_lock(&server->lifecycle);
    int on_loop = server->started && !server->joined && pthread_equal(pthread_self(), server->thread);
    if (on_loop) {
        atomic_store(&server->stop_requested, 1);
        atomic_store(&server->free_on_exit, 1);
        pthread_detach(server->thread);
        server->joined = 1;
    }
    pthread_mutex_unlock(&server->lifecycle);
    if (on_loop) return;
    sa_http_server_stop(server);
    sah_server_free(server);
}

void sah_server_free(sa_http_server *server) {
    for (int i = 0; i < server->listener_count; i++)
        if (server->listeners[i].fd >= 0) close(server->listeners[i].fd);
    if (server->epoll_fd >= 0) close(server->epoll_fd);
    sah_outbox_destroy(&server->outbox);
    SSL_CTX_free(server->tls);
    if (server->h2_callbacks) nghttp2_session_callbacks_del(server->h2_callbacks);
    if (server->h2_option) nghttp2_option_del(server->h2_option);
    sah_idmap_free(&server->ids);
    pthread_mutex_destroy(&server->lifecycle);
    free(server->host);
    free(server->certificate_file);
    free(server->key_file);
    free(server);
}

void sa_http_server_stats(const sa_http_server *server, sa_http_stats *out) {
    sah_counters *c = (sah_counters *)&server->counters;
    out->open_connections = atomic_load(&c->open_connections);
    out->accepted_connections = atomic_load(&c->accepted_connections);
    out->refused_connections = atomic_load(&c->refused_connections);
    out->protocol_errors = atomic_load(&c->protocol_errors);
    out->stream_resets = atomic_load(&c->stream_resets);
    out->open_requests = atomic_load(&c->open_requests);
}

/* Copies a submission into the outbox; the loop applies it (or drops it if the request is gone). */
static int submit(sa_http_server *server, int kind, uint64_t id, int status, const sa_http_header *headers,
                  size_t header_count, const uint8_t *body, size_t body_len) {
    if (!server || id == 0 || (!headers && header_count) || (!body && body_len)) return -1;
    if ((kind == SAH_MSG_RESPOND || kind == SAH_MSG_START) && (status < 200 || status > 599)) return -1;
    sah_msg *msg = sah_msg_new(kind, id, status, headers, header_count, body, body_len);
    return msg ? sah_outbox_push(&server->outbox, msg) : -1;
}

int sa_http_respond(sa_http_server *server, uint64_t id, int status, const sa_http_header *headers,
                    size_t header_count, const uint8_t *body, size_t body_len) {
    return submit(server, SAH_MSG_RESPOND, id, status, headers, header_count, body, body_len);
}

int sa_http_stream_start(sa_http_server *server, uint64_t id, int status, const sa_http_header *headers,
                         size_t header_count) {
    return submit(server, SAH_MSG_START, id, status, headers, header_count, NULL, 0);
}

int sa_http_stream_send(sa_http_server *server, uint64_t id, const uint8_t *bytes, size_t len) {
    return submit(server, SAH_MSG_SEND, id, 0, NULL, 0, bytes, len);
}

int sa_http_stream_finish(sa_http_server *server, uint64_t id) {
    return submit(server, SAH_MSG_FINISH, id, 0, NULL, 0, NULL, 0);
}
