#ifndef SHIFTADD_HTTP1_PARSER_H
#define SHIFTADD_HTTP1_PARSER_H

/* Strict HTTP/1.1 request parsing with no I/O and no allocation, so it can be fuzzed alone.
 * Everything request smuggling relies on is refused: bare LF, obsolete line folding, whitespace
 * before a colon, Content-Length with Transfer-Encoding, duplicate or non-numeric Content-Length,
 * any Transfer-Encoding other than exactly "chunked", a missing or repeated Host on HTTP/1.1. */

#include <stddef.h>
#include <stdint.h>

/* More fields than this → 431. */
#define SAH_H1_MAX_FIELDS 256

typedef struct sah_h1_field {
    const char *name; /* as sent (the caller lowercases when copying) */
    size_t name_len;
    const char *value; /* without surrounding whitespace */
    size_t value_len;
} sah_h1_field;

/* A parsed head; its pointers point into the buffer given to sah_h1_parse_head. */
typedef struct sah_h1_head {
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    int version_minor;       /* 0 (HTTP/1.0) or 1 (HTTP/1.1) */
    sah_h1_field fields[SAH_H1_MAX_FIELDS];
    size_t field_count;
    int has_content_length;
    uint64_t content_length;
    int chunked;             /* Transfer-Encoding: chunked */
    int keep_alive;          /* from the version and the Connection field */
    int expect_continue;     /* Expect: 100-continue */
} sah_h1_head;

/* Looks for the blank line ending a head in buf[0, len), resuming the scan at *scanned (start at 0;
 * updated so each byte is examined once). Returns the length of the head including the blank line,
 * 0 when more bytes are needed, or -1 for a bare LF or CR. */
long sah_h1_find_head_end(const uint8_t *buf, size_t len, size_t *scanned);

/* Parses a complete head (as delimited by sah_h1_find_head_end). Returns 0, or the status to answer
 * with (400, 417, 431, 505) and a static message in *reason. */
int sah_h1_parse_head(const uint8_t *buf, size_t len, sah_h1_head *head, const char **reason);

/* Decoder state of a chunked body; zero-initialise before the first call. */
typedef struct sah_chunked {
    int state;
    uint64_t remaining;   /* bytes left in the current chunk */
    int digits;           /* hex digits of the current size */
    size_t line_bytes;    /* bytes of the current size or trailer line */
    size_t trailer_bytes; /* all trailer bytes so far */
} sah_chunked;

/* Decodes from in[0, len). Returns the number of bytes consumed (0 = more bytes needed) or -1 for a
 * malformed body. At most one span of body data is returned per call in *data / *data_len (pointing
 * into `in`); call again with the rest. sah_chunked_done tells when the final CRLF was consumed;
 * nothing after it is consumed. */
long sah_chunked_decode(sah_chunked *decoder, const uint8_t *in, size_t len,
                        const uint8_t **data, size_t *data_len);
int sah_chunked_done(const sah_chunked *decoder);

/* 1 if c may appear in a token (field names, methods). */
int sah_is_tchar(unsigned char c);

#endif
