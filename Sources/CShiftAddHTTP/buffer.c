#include "buffer.h"

#include <stdlib.h>
#include <string.h>

/* Makes room for `extra` bytes, moving the unconsumed bytes to the front first when that suffices. */
static int reserve(sah_buf *b, size_t extra) {
    if (b->start + b->len + extra <= b->cap) return 0;
    if (b->len + extra <= b->cap && b->start >= b->cap / 2) {
        memmove(b->data, b->data + b->start, b->len);
        b->start = 0;
        return 0;
    }
    size_t need = b->len + extra;
    if (need < extra) return -1;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) return -1;
        cap *= 2;
    }
    uint8_t *data = malloc(cap);
    if (!data) return -1;
    if (b->len) memcpy(data, b->data + b->start, b->len);
    free(b->data);
    b->data = data;
    b->start = 0;
    b->cap = cap;
    return 0;
}

int sah_buf_append(sah_buf *b, const void *bytes, size_t len) {
    if (len == 0) return 0;
    if (reserve(b, len) < 0) return -1;
    memcpy(b->data + b->start + b->len, bytes, len);
    b->len += len;
    return 0;
}

int sah_buf_append_str(sah_buf *b, const char *text) {
    return sah_buf_append(b, text, strlen(text));
}

/* Capacity kept by an emptied buffer; larger ones are released so idle connections stay small. */
#define KEEP_CAPACITY (64 * 1024)

void sah_buf_consume(sah_buf *b, size_t len) {
    if (len >= b->len) {
        if (b->cap > KEEP_CAPACITY) sah_buf_free(b);
        b->start = 0;
        b->len = 0;
        return;
    }
    b->start += len;
    b->len -= len;
}

void sah_buf_free(sah_buf *b) {
    free(b->data);
    *b = (sah_buf){0};
}
