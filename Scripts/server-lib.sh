# Sourced by the scripts that start `shiftadd serve` on loopback to measure or test it.

# A TCP port free on 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_healthy PORT PID LOG [SECONDS]: waits (default 1,200 s: a first start converts the model)
# until /health answers 200. A server that exits first has its log printed, and this fails.
wait_healthy() {
    local port=$1 pid=$2 log=$3 seconds=${4:-1200}
    for _ in $(seq 1 "$seconds"); do
        curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$log"; return 1; }
        sleep 1
    done
}
