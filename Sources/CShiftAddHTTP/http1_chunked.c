#include "http1_parser.h"

/* Longest chunk-size line (size and extensions) and trailer section accepted. */
#define MAX_LINE_BYTES 4096
#define MAX_TRAILER_BYTES 16384
/* 15 hex digits keep sizes below 2^60: no overflow and far above any body limit. */
#define MAX_SIZE_DIGITS 15

enum {
    SIZE,         /* hex digits of the chunk size */
    EXTENSION,    /* ";name=value" after the size, ignored */
    SIZE_LF,      /* LF closing the size line */
    DATA,         /* chunk bytes */
    DATA_CR,      /* CR after the chunk bytes */
    DATA_LF,
    TRAILER_START,/* start of a trailer line or of the final CRLF */
    TRAILER,      /* a trailer field, ignored */
    TRAILER_LF,
    FINAL_LF,
    DONE
};

static int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Ends the size line: a zero size starts the trailer section. */
static void size_line_done(sah_chunked *d) {
    d->state = d->remaining == 0 ? TRAILER_START : DATA;
    d->line_bytes = 0;
}

/* One byte outside chunk data; returns 0 or -1. */
static int step(sah_chunked *d, unsigned char c) {
    if (++d->line_bytes > MAX_LINE_BYTES) return -1;
    switch (d->state) {
    case SIZE: {
        int v = hex_value(c);
        if (v >= 0) {
            if (++d->digits > MAX_SIZE_DIGITS) return -1;
            d->remaining = d->remaining * 16 + (uint64_t)v;
            return 0;
        }
        if (d->digits == 0) return -1;
        if (c == ';') d->state = EXTENSION;
        else if (c == '\r') d->state = SIZE_LF;
        else return -1;
        return 0;
    }
    case EXTENSION:
        if (c == '\r') d->state = SIZE_LF;
        else if (c != '\t' && (c < 0x20 || c == 0x7f)) return -1;
        return 0;
    case SIZE_LF:
        if (c != '\n') return -1;
        size_line_done(d);
        return 0;
    case DATA_CR:
        if (c != '\r') return -1;
        d->state = DATA_LF;
        return 0;
    case DATA_LF:
        if (c != '\n') return -1;
        d->state = SIZE;
        d->digits = 0;
        d->line_bytes = 0;
        return 0;
    case TRAILER_START:
        if (c == '\r') d->state = FINAL_LF;
        else if (c == ' ' || c == '\t' || c == '\n' || c == ':') return -1;
        else d->state = TRAILER;
        return 0;
    case TRAILER:
        if (++d->trailer_bytes > MAX_TRAILER_BYTES) return -1;
        if (c == '\r') d->state = TRAILER_LF;
        else if (c != '\t' && (c < 0x20 || c == 0x7f)) return -1;
        return 0;
    case TRAILER_LF:
        if (c != '\n') return -1;
        d->state = TRAILER_START;
        d->line_bytes = 0;
        return 0;
    case FINAL_LF:
        if (c != '\n') return -1;
        d->state = DONE;
        return 0;
    default:
        return -1;
    }
}

long sah_chunked_decode(sah_chunked *d, const uint8_t *in, size_t len, const uint8_t **data, size_t *data_len) {
    *data = NULL;
    *data_len = 0;
    size_t i = 0;
    while (i < len && d->state != DONE) {
        if (d->state == DATA) {
            size_t n = len - i < d->remaining ? len - i : (size_t)d->remaining;
            *data = in + i;
            *data_len = n;
            d->remaining -= n;
            if (d->remaining == 0) {
                d->state = DATA_CR;
                d->line_bytes = 0;
            }
            return (long)(i + n);
        }
        if (step(d, in[i]) < 0) return -1;
        i++;
    }
    return (long)i;
}

int sah_chunked_done(const sah_chunked *d) {
    return d->state == DONE;
}
