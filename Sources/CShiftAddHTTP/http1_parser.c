#include "http1_parser.h"

#include <string.h>
#include <strings.h>

int sah_is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field-value bytes: visible ASCII, space, tab and obs-text; never CR, LF, NUL or other controls. */
static int is_value_char(unsigned char c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

long sah_h1_find_head_end(const uint8_t *buf, size_t len, size_t *scanned) {
    for (size_t i = *scanned; i < len; i++) {
        if (buf[i] == '\r') {
            if (i + 1 == len) {
                *scanned = i;
                return 0;
            }
            if (buf[i + 1] != '\n') return -1;
        } else if (buf[i] == '\n') {
            if (i == 0 || buf[i - 1] != '\r') return -1;
            if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') return (long)(i + 1);
        }
    }
    *scanned = len;
    return 0;
}

static int fail(const char **reason, const char *message, int status) {
    *reason = message;
    return status;
}

/* Splits off one CRLF-terminated line starting at *pos; NULL when there is none. */
static const char *next_line(const char *buf, size_t len, size_t *pos, size_t *line_len) {
    const char *start = buf + *pos;
    const char *cr = memchr(start, '\r', len - *pos);
    if (!cr || cr + 1 == buf + len || cr[1] != '\n') return NULL;
    *line_len = (size_t)(cr - start);
    *pos += *line_len + 2;
    return start;
}

static int parse_request_line(const char *line, size_t len, sah_h1_head *h, const char **reason) {
    const char *sp1 = memchr(line, ' ', len);
    if (!sp1 || sp1 == line) return fail(reason, "malformed request line", 400);
    const char *sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
    if (!sp2 || sp2 == sp1 + 1) return fail(reason, "malformed request line", 400);
    h->method = line;
    h->method_len = (size_t)(sp1 - line);
    for (size_t i = 0; i < h->method_len; i++)
        if (!sah_is_tchar((unsigned char)line[i])) return fail(reason, "invalid method", 400);
    h->target = sp1 + 1;
    h->target_len = (size_t)(sp2 - h->target);
    for (size_t i = 0; i < h->target_len; i++) {
        unsigned char c = (unsigned char)h->target[i];
        if (c <= 0x20 || c >= 0x7f) return fail(reason, "invalid request target", 400);
    }
    int origin = h->target[0] == '/';
    int asterisk = h->target_len == 1 && h->target[0] == '*';
    int absolute = (h->target_len > 7 && strncasecmp(h->target, "http://", 7) == 0) ||
                   (h->target_len > 8 && strncasecmp(h->target, "https://", 8) == 0);
    if (!origin && !asterisk && !absolute) return fail(reason, "invalid request target", 400);
    const char *version = sp2 + 1;
    size_t version_len = len - (size_t)(version - line);
    if (version_len != 8 || memcmp(version, "HTTP/", 5) != 0 || version[6] != '.' ||
        version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9')
        return fail(reason, "malformed HTTP version", 400);
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
        return fail(reason, "HTTP version not supported", 505);
    h->version_minor = version[7] - '0';
    h->keep_alive = h->version_minor == 1;
    return 0;
}

static int name_is(const sah_h1_field *f, const char *name) {
    return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

static int value_is(const sah_h1_field *f, const char *value) {
    return f->value_len == strlen(value) && strncasecmp(f->value, value, f->value_len) == 0;
}

static int parse_field(const char *line, size_t len, sah_h1_field *f, const char **reason) {
    if (line[0] == ' ' || line[0] == '\t') return fail(reason, "obsolete line folding is not accepted", 400);
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line) return fail(reason, "malformed header field", 400);
    f->name = line;
    f->name_len = (size_t)(colon - line);
    for (size_t i = 0; i < f->name_len; i++)
        if (!sah_is_tchar((unsigned char)line[i])) return fail(reason, "invalid header field name", 400);
    const char *v = colon + 1, *end = line + len;
    for (const char *p = v; p < end; p++)
        if (!is_value_char((unsigned char)*p)) return fail(reason, "invalid header field value", 400);
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
    f->value = v;
    f->value_len = (size_t)(end - v);
    return 0;
}

static int parse_content_length(const sah_h1_field *f, sah_h1_head *h, const char **reason) {
    if (h->has_content_length) return fail(reason, "duplicate Content-Length", 400);
    if (f->value_len == 0 || f->value_len > 18) return fail(reason, "invalid Content-Length", 400);
    uint64_t n = 0;
    for (size_t i = 0; i < f->value_len; i++) {
        char c = f->value[i];
        if (c < '0' || c > '9') return fail(reason, "invalid Content-Length", 400);
        n = n * 10 + (uint64_t)(c - '0');
    }
    h->has_content_length = 1;
    h->content_length = n;
    return 0;
}

/* Connection: a comma-separated list of options; only close and keep-alive matter here. */
static void parse_connection(const sah_h1_field *f, sah_h1_head *h) {
    size_t i = 0;
    while (i < f->value_len) {
        while (i < f->value_len && (f->value[i] == ' ' || f->value[i] == '\t' || f->value[i] == ',')) i++;
        size_t start = i;
        while (i < f->value_len && f->value[i] != ',' && f->value[i] != ' ' && f->value[i] != '\t') i++;
        sah_h1_field token = {.value = f->value + start, .value_len = i - start};
        if (value_is(&token, "close")) h->keep_alive = 0;
        else if (value_is(&token, "keep-alive") && h->version_minor == 0) h->keep_alive = 1;
    }
}

static int apply_field(const sah_h1_field *f, sah_h1_head *h, int *hosts, int *codings, const char **reason) {
    if (name_is(f, "content-length")) return parse_content_length(f, h, reason);
    if (name_is(f, "transfer-encoding")) {
        if (++*codings > 1) return fail(reason, "duplicate Transfer-Encoding", 400);
        if (!value_is(f, "chunked")) return fail(reason, "unsupported Transfer-Encoding (only chunked)", 400);
        h->chunked = 1;
    } else if (name_is(f, "host")) {
        if (++*hosts > 1) return fail(reason, "duplicate Host", 400);
    } else if (name_is(f, "connection")) {
        parse_connection(f, h);
    } else if (name_is(f, "expect")) {
        if (!value_is(f, "100-continue")) return fail(reason, "unsupported Expect", 417);
        h->expect_continue = 1;
    }
    return 0;
}

static int check_framing(const sah_h1_head *h, int hosts, const char **reason) {
    if (h->chunked && h->has_content_length)
        return fail(reason, "Content-Length together with Transfer-Encoding", 400);
    if (h->chunked && h->version_minor == 0) return fail(reason, "Transfer-Encoding on HTTP/1.0", 400);
    if (h->version_minor == 1 && hosts != 1) return fail(reason, "missing Host", 400);
    return 0;
}

int sah_h1_parse_head(const uint8_t *buf, size_t len, sah_h1_head *h, const char **reason) {
    h->field_count = 0;
    h->has_content_length = h->chunked = h->expect_continue = 0;
    h->content_length = 0;
    const char *text = (const char *)buf;
    size_t pos = 0, line_len;
    const char *line = next_line(text, len, &pos, &line_len);
    if (!line) return fail(reason, "malformed request line", 400);
    int status = parse_request_line(line, line_len, h, reason);
    if (status) return status;
    int hosts = 0, codings = 0;
    for (;;) {
        line = next_line(text, len, &pos, &line_len);
        if (!line) return fail(reason, "malformed header section", 400);
        if (line_len == 0) break;
        if (h->field_count == SAH_H1_MAX_FIELDS) return fail(reason, "too many header fields", 431);
        sah_h1_field *f = &h->fields[h->field_count];
        if ((status = parse_field(line, line_len, f, reason))) return status;
        if ((status = apply_field(f, h, &hosts, &codings, reason))) return status;
        h->field_count++;
    }
    return check_framing(h, hosts, reason);
}
