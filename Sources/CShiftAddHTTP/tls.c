#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3 suites are all modern. */
static const char *const tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/* Picks h2 over http/1.1 from the client's list; with neither, no ALPN (HTTP/1.1 is assumed). */
static int select_protocol(SSL *ssl, const unsigned char **out, unsigned char *out_len,
                           const unsigned char *in, unsigned int in_len, void *arg) {
    (void)ssl;
    (void)arg;
    static const char *const preferred[] = {"h2", "http/1.1"};
    for (size_t p = 0; p < 2; p++) {
        size_t want = strlen(preferred[p]);
        for (unsigned int i = 0; i < in_len; i += 1u + in[i]) {
            unsigned int len = in[i];
            if (i + 1 + len > in_len) break;
            if (len == want && memcmp(in + i + 1, preferred[p], want) == 0) {
                *out = in + i + 1;
                *out_len = (unsigned char)len;
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *context_error(SSL_CTX *ctx, const char *what, const char *path, char *error, size_t error_len) {
    char detail[256];
    ERR_error_string_n(ERR_get_error(), detail, sizeof detail);
    snprintf(error, error_len, "%s%s%s: %s", what, path ? " " : "", path ? path : "", detail);
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *sah_tls_context(const char *certificate_file, const char *key_file, char *error, size_t error_len) {
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return context_error(NULL, "cannot create the TLS context", NULL, error, error_len);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1)
        return context_error(ctx, "cannot set the TLS ciphers", NULL, error, error_len);
    if (SSL_CTX_use_certificate_chain_file(ctx, certificate_file) != 1)
        return context_error(ctx, "cannot load the certificate", certificate_file, error, error_len);
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
        return context_error(ctx, "cannot load the private key", key_file, error, error_len);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return context_error(ctx, "the private key does not match the certificate", NULL, error, error_len);
    SSL_CTX_set_alpn_select_cb(ctx, select_protocol, NULL);
    return ctx;
}

enum { READING, WRITING, HANDSHAKING };

/* Records what a failed SSL call waits for; returns -1 to retry later, 0 for the end of the stream or
 * -2 for a failure. A read waiting for readability (or a write for writability) needs no note: that
 * is what the loop waits for anyway. */
static long would_block(sah_conn *conn, int rc, int op) {
    switch (SSL_get_error(conn->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
        if (op != READING) conn->tls_wants_read = 1;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        if (op != WRITING) conn->tls_wants_write = 1;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        return errno == 0 ? 0 : -2; /* EOF without close_notify counts as the end of the stream */
    default:
        return -2;
    }
}

int sah_tls_handshake(sah_conn *conn) {
    ERR_clear_error();
    conn->tls_wants_read = conn->tls_wants_write = 0;
    errno = 0;
    int rc = SSL_do_handshake(conn->ssl);
    if (rc == 1) return 1;
    return would_block(conn, rc, HANDSHAKING) == -1 ? 0 : -1;
}

long sah_io_read(sah_conn *conn, void *buf, size_t len) {
    if (!conn->ssl) {
        ssize_t n = recv(conn->fd, buf, len, 0);
        if (n >= 0) return n;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
    }
    ERR_clear_error();
    conn->tls_wants_write = 0;
    errno = 0;
    int n = SSL_read(conn->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    return n > 0 ? n : would_block(conn, n, READING);
}

long sah_io_write(sah_conn *conn, const void *buf, size_t len) {
    if (!conn->ssl) {
        ssize_t n = send(conn->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) return n;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
    }
    ERR_clear_error();
    conn->tls_wants_read = 0;
    errno = 0;
    int n = SSL_write(conn->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    if (n > 0) return n;
    long rc = would_block(conn, n, WRITING);
    return rc == 0 ? -2 : rc;
}
