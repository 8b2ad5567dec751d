/* Bytes a client sends after the HTTP/2 connection preface: frames through the server's nghttp2
 * session callbacks, request assembly and limits, with every request answered or cancelled. */

#include "../../../../Sources/CShiftAddHTTP/fuzz_entry.h"

#include <stdlib.h>
#include <string.h>

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t n = sizeof preface - 1;
    uint8_t *stream = malloc(n + size);
    if (!stream) abort();
    memcpy(stream, preface, n);
    if (size) memcpy(stream + n, data, size);
    sah_fuzz_connection(stream, n + size);
    free(stream);
    return 0;
}
