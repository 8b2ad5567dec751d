#ifndef SHIFTADD_HTTP_FUZZ_ENTRY_H
#define SHIFTADD_HTTP_FUZZ_ENTRY_H

/* Test-only entry for the fuzz targets in Tests/Fuzz: one cleartext connection of a server that has
 * no listener and no loop thread, driven on the caller's thread. Not part of the public API. */

#include <stddef.h>
#include <stdint.h>

/* Sends `data` as a client's bytes on a new connection (protocol detection, then HTTP/1.1 or h2c),
 * in pieces of varying size, reading whatever the server writes back. Each request handed to the
 * handler is answered whole, streamed over two rounds, answered with a body over the output cap, or
 * left open for the close to cancel. The client's end of stream then ends the connection. Aborts if
 * a request id outlives its connection or is cancelled twice. Returns the number of requests handed
 * to the handler. Not thread-safe. */
int sah_fuzz_connection(const uint8_t *data, size_t len);

#endif
