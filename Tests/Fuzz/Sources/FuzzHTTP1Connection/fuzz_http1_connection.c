/* Bytes from a client on one cleartext connection: HTTP/1.1 request assembly, pipelining, bodies,
 * errors and response framing, with every request answered or cancelled. */

#include "../../../../Sources/CShiftAddHTTP/fuzz_entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sah_fuzz_connection(data, size);
    return 0;
}
