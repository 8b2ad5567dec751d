#include "internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

const char *sah_reason_phrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
    }
}

/* The messages are the front end's own constant strings: no JSON escaping is needed beyond quotes. */
size_t sah_error_json(char *buf, size_t cap, const char *message) {
    int n = snprintf(buf, cap,
                     "{\"error\":{\"message\":\"%s\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}",
                     message);
    if (n < 0) return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

void sah_new_request_id(char out[SAH_REQUEST_ID_SIZE]) {
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[16] = {0};
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        /* The id only correlates logs: a clock-derived value will do when the RNG cannot answer. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(bytes, &ts, sizeof ts < sizeof bytes ? sizeof ts : sizeof bytes);
    }
    for (size_t i = 0; i < sizeof bytes; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[32] = 0;
}

static int is_connection_level(const char *name, size_t len) {
    static const char *const names[] = {"connection", "content-length", "transfer-encoding",
                                        "keep-alive", "upgrade", "proxy-connection", "te"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0) return 1;
    return 0;
}

int sah_header_allowed(const char *name, size_t name_len, const char *value, size_t value_len) {
    if (name_len == 0 || (!name && name_len) || (!value && value_len)) return 0;
    for (size_t i = 0; i < name_len; i++)
        if (!sah_is_tchar((unsigned char)name[i])) return 0;
    for (size_t i = 0; i < value_len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == '\r' || c == '\n' || c == 0) return 0;
    }
    return !is_connection_level(name, name_len);
}
