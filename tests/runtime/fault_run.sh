#!/usr/bin/env bash
# The fault cases of issue 7 against real `agilenn serve` / `agilenn device` processes on
# loopback: a garbage client, a silent client and a client that disconnects mid-packet run next
# to 8 devices, then the server is killed (SIGKILL) mid-run and restarted on the same port.
# Usage: tests/runtime/fault_run.sh BUILD_DIR MODEL_DIR [PORT] [OUT]
set -euo pipefail
BUILD=${1:?build dir}; MODEL=${2:?model dir}; PORT=${3:-47311}; OUT=${4:-/tmp/agilenn-faults}
mkdir -p "$OUT"
start_server() {
  "$BUILD/agilenn" serve --model "$MODEL" --port "$PORT" --threads 1 --idle-timeout-ms 3000 \
    --read-timeout-ms 1000 >>"$OUT/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 120); do
    if python3 -c "import socket;socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null; then return; fi
    sleep 0.25
  done
  echo "server did not start" >&2; exit 1
}
: >"$OUT/serve.log"
start_server
# Misbehaving clients, in the background for the whole first phase (10 s of garbage and
# mid-packet disconnects while the devices run).
python3 - "$PORT" >"$OUT/bad_clients.log" 2>&1 <<'PY' &
import socket, struct, sys, time, os
port = int(sys.argv[1])
silent = socket.create_connection(("127.0.0.1", port))          # says nothing
results = []
t_end = time.time() + 10
i = 0
while time.time() < t_end:
    i += 1
    g = socket.create_connection(("127.0.0.1", port))         # garbage
    g.sendall(os.urandom(200))
    g.settimeout(3)
    try: data = g.recv(64)
    except Exception: data = b""
    results.append(data[5] if len(data) >= 6 else -1)
    g.close()
    h = socket.create_connection(("127.0.0.1", port))         # disconnects mid-packet
    hdr = b"AGRQ" + bytes([1, 0, 0, 0]) + struct.pack("<III", 7, i % 1000, 500)
    h.sendall(hdr + b"x" * 100)
    h.close()
    time.sleep(0.02)
print("garbage clients:", len(results), "statuses:", {s: results.count(s) for s in set(results)})
time.sleep(2)
silent.settimeout(5)
try: print("silent client closed by server:", silent.recv(1) == b"")
except Exception as e: print("silent client:", e)
PY
BAD=$!
"$BUILD/agilenn" device --server 127.0.0.1:$PORT --model "$MODEL" --clients 8 --requests 12000 \
  --limit 2000 --deadline-ms 200 --threads 1 --out "$OUT/phase1" | tail -4
wait $BAD; cat "$OUT/bad_clients.log"
# Phase 2: kill -9 the server mid-run, restart it 2 s later on the same port.
"$BUILD/agilenn" device --server 127.0.0.1:$PORT --model "$MODEL" --clients 8 --requests 40000 --limit 2000 --interval-ms 5 \
  --deadline-ms 50 --threads 1 --out "$OUT/phase2" >"$OUT/phase2.log" 2>&1 &
DEV=$!
sleep 12
kill -KILL "$SERVER"; wait "$SERVER" 2>/dev/null || true
echo "server killed at $(date +%T)"
sleep 2
start_server
echo "server restarted at $(date +%T)"
wait $DEV; tail -4 "$OUT/phase2.log"
kill -TERM "$SERVER"; wait "$SERVER" || true
tail -1 "$OUT/serve.log"
