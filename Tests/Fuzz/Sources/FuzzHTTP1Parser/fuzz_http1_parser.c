/* HTTP/1.1 head parser and chunked decoder on arbitrary bytes, with the properties the connection
 * code relies on checked after every call. */

#include "../../../../Sources/CShiftAddHTTP/http1_parser.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(cond) \
    do {            \
        if (!(cond)) abort(); \
    } while (0)

static int within(const uint8_t *buf, size_t len, const char *p, size_t n) {
    return (const uint8_t *)p >= buf && n <= len && (const uint8_t *)p - buf <= (long)(len - n);
}

/* The end of the head found in one scan and in byte-by-byte resumed scans must agree. */
static long find_head_end(const uint8_t *data, size_t size) {
    size_t scanned = 0;
    long whole = sah_h1_find_head_end(data, size, &scanned);
    CHECK(whole <= (long)size);
    size_t resumed_scan = 0;
    long resumed = 0;
    for (size_t n = 1; n <= size; n++) {
        resumed = sah_h1_find_head_end(data, n, &resumed_scan);
        CHECK(resumed_scan <= n);
        if (resumed != 0) break;
    }
    CHECK(resumed == whole);
    return whole;
}

static void check_head(const uint8_t *data, size_t len, const sah_h1_head *h) {
    CHECK(within(data, len, h->method, h->method_len) && h->method_len > 0);
    CHECK(within(data, len, h->target, h->target_len) && h->target_len > 0);
    CHECK(h->version_minor == 0 || h->version_minor == 1);
    CHECK(h->field_count <= SAH_H1_MAX_FIELDS);
    CHECK(!(h->has_content_length && h->chunked));
    for (size_t i = 0; i < h->field_count; i++) {
        const sah_h1_field *f = &h->fields[i];
        CHECK(within(data, len, f->name, f->name_len) && f->name_len > 0);
        CHECK(within(data, len, f->value, f->value_len));
        for (size_t j = 0; j < f->name_len; j++) CHECK(sah_is_tchar((unsigned char)f->name[j]));
        for (size_t j = 0; j < f->value_len; j++) {
            unsigned char c = (unsigned char)f->value[j];
            CHECK(c != '\r' && c != '\n' && c != 0);
        }
        if (f->value_len) CHECK(f->value[0] != ' ' && f->value[f->value_len - 1] != ' ');
    }
}

/* Decodes `body` handing the decoder at most `step` bytes at a time; returns -1 on error, else 1 when
 * the final chunk was seen and 0 when more bytes were needed. The decoded bytes go to `out`. */
static int decode(const uint8_t *body, size_t len, size_t step, uint8_t *out, size_t *out_len) {
    sah_chunked d = {0};
    size_t pos = 0, avail = 0;
    *out_len = 0;
    while (!sah_chunked_done(&d)) {
        if (avail < len) avail = avail + step < len ? avail + step : len;
        const uint8_t *chunk;
        size_t chunk_len = 0;
        long used = sah_chunked_decode(&d, body + pos, avail - pos, &chunk, &chunk_len);
        if (used < 0) return -1;
        CHECK((size_t)used <= avail - pos);
        if (chunk_len) {
            CHECK(chunk >= body + pos && chunk + chunk_len <= body + pos + (size_t)used);
            memcpy(out + *out_len, chunk, chunk_len);
            *out_len += chunk_len;
        }
        pos += (size_t)used;
        if (used == 0 && avail == len) return 0;
    }
    return 1;
}

static void check_chunked(const uint8_t *body, size_t len) {
    uint8_t *whole = malloc(len + 1), *bytewise = malloc(len + 1);
    CHECK(whole && bytewise);
    size_t whole_len, bytewise_len;
    int a = decode(body, len, len ? len : 1, whole, &whole_len);
    int b = decode(body, len, 1, bytewise, &bytewise_len);
    CHECK(a == b);
    if (a >= 0) CHECK(whole_len == bytewise_len && memcmp(whole, bytewise, whole_len) == 0);
    CHECK(whole_len <= len);
    free(whole);
    free(bytewise);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static sah_h1_head head;
    long end = find_head_end(data, size);
    if (end > 0) {
        const char *reason = NULL;
        int status = sah_h1_parse_head(data, (size_t)end, &head, &reason);
        CHECK(status == 0 || ((status == 400 || status == 417 || status == 431 || status == 505) && reason));
        if (status == 0) check_head(data, (size_t)end, &head);
        /* The bytes after the head as a chunked body, whatever the head said. */
        check_chunked(data + end, size - (size_t)end);
    } else {
        check_chunked(data, size);
    }
    return 0;
}
