#ifndef SHIFTADD_HTTP_BUFFER_H
#define SHIFTADD_HTTP_BUFFER_H

#include <stddef.h>
#include <stdint.h>

/* A growable byte queue: bytes are appended at the end and consumed from the front. */
typedef struct sah_buf {
    uint8_t *data;
    size_t start; /* first unconsumed byte */
    size_t len;   /* unconsumed bytes */
    size_t cap;
} sah_buf;

static inline uint8_t *sah_buf_bytes(const sah_buf *b) { return b->data + b->start; }

/* Returns 0, or -1 when memory runs out (the buffer is unchanged). */
int sah_buf_append(sah_buf *b, const void *bytes, size_t len);
int sah_buf_append_str(sah_buf *b, const char *text);
void sah_buf_consume(sah_buf *b, size_t len);
/* Releases the memory. */
void sah_buf_free(sah_buf *b);

#endif
