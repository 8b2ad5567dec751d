#!/bin/bash
# Container health: GET /health on the server's own port must answer 200. Uses bash's /dev/tcp so
# the image needs no HTTP client.
set -eu
exec 3<>"/dev/tcp/127.0.0.1/${SHIFTADD_PORT:-8080}"
printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
read -r -t 3 version status _ <&3
[ "$status" = 200 ]
