#define _GNU_SOURCE /* accept4 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKLOG 1024

static int bound_port(int fd) {
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0) return -1;
    if (addr.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    return ntohs(((struct sockaddr_in *)&addr)->sin_port);
}

static int bind_one(const struct addrinfo *ai) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, BACKLOG) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int sah_listener_open(sah_listener *l, const char *host, int port, int tls, char *error, size_t error_len) {
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *list = NULL;
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        snprintf(error, error_len, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = bind_one(ai);
        if (fd < 0) saved = errno;
    }
    freeaddrinfo(list);
    if (fd < 0) {
        snprintf(error, error_len, "cannot listen on %s:%d: %s", host, port, strerror(saved));
        return -1;
    }
    *l = (sah_listener){.handle = {SAH_HANDLE_LISTENER}, .fd = fd, .port = bound_port(fd), .tls = tls};
    return 0;
}

static void format_peer(const struct sockaddr_storage *addr, char *out, size_t cap) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)addr;
        inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
        snprintf(out, cap, "[%s]:%d", text, ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)addr;
        inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
        snprintf(out, cap, "%s:%d", text, ntohs(a->sin_port));
    }
}

/* Past the connection limit: HTTP/1.1 clients on the cleartext port read a 503; then close. */
static void refuse(sa_http_server *server, sah_listener *l, int fd) {
    atomic_fetch_add(&server->counters.refused_connections, 1);
    if (!l->tls) {
        char body[256], head[320], id[SAH_REQUEST_ID_SIZE];
        size_t body_len = sah_error_json(body, sizeof body, "too many connections");
        sah_new_request_id(id);
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
                         "content-length: %zu\r\nx-request-id: %s\r\nconnection: close\r\n\r\n", body_len, id);
        struct iovec parts[2] = {{head, (size_t)n}, {body, body_len}};
        struct msghdr msg = {.msg_iov = parts, .msg_iovlen = 2};
        (void)!sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        shutdown(fd, SHUT_WR);
    }
    close(fd);
}

static void pause_accepting(sa_http_server *server, sah_listener *l) {
    epoll_ctl(server->epoll_fd, EPOLL_CTL_DEL, l->fd, NULL);
    l->paused = 1;
}

void sah_listener_accept(sa_http_server *server, sah_listener *l) {
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof addr;
        int fd = accept4(l->fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(server, l);
            return;
        }
        if (server->conn_count >= server->options.max_connections) {
            refuse(server, l, fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        char peer[64];
        format_peer(&addr, peer, sizeof peer);
        if (!sah_conn_new(server, fd, l->tls, peer)) close(fd);
    }
}

void sah_listener_close(sa_http_server *server, sah_listener *l) {
    if (l->fd < 0) return;
    if (!l->paused) epoll_ctl(server->epoll_fd, EPOLL_CTL_DEL, l->fd, NULL);
    close(l->fd);
    l->fd = -1;
}
