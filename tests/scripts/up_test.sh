#!/usr/bin/env bash
# scripts/up end to end: starts a 3-node cluster, stores and reads back the
# sample, keeps serving until stopped (which runs `tessera down`), and comes
# back on the same drives and ports. The script traps INT (Ctrl-C) and TERM
# alike; a background job of a non-interactive shell starts with INT ignored,
# so the test sends TERM.
# Usage: up_test.sh REPO_DIR TESSERA_BINARY
set -euo pipefail
repo=$1
export TESSERA_BIN=$2 TESSERA_UP_SKIP_BUILD=1
work=$(mktemp -d)
export TESSERA_VAR="$work/var"
trap '"$TESSERA_BIN" down --dir "$TESSERA_VAR" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# node1..node3 on PORT..PORT+2, etcd on the six ports above: a base with nine
# free ports in a row, below the kernel's ephemeral range (32768 and up), where
# the outgoing connections and port-0 binds of tests running beside this one
# cannot take one of them between this check and the cluster's start.
export TESSERA_PORT=$(python3 - <<'PY'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 32000)
    socks = []
    try:
        for p in range(base, base + 9):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
)
url="http://127.0.0.1:$TESSERA_PORT"

run_once() {
  local log=$1
  "$repo/scripts/up" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 1200); do
    grep -q "Press Ctrl-C" "$log" && break
    kill -0 "$pid" 2>/dev/null || { echo "scripts/up exited early:"; cat "$log"; exit 1; }
    sleep 0.1
  done
  grep -q "read back sample/sample.bin: identical" "$log" || { echo "no sample round trip:"; cat "$log"; exit 1; }
  grep -q " stripe\| mirror" "$log" || { echo "stat output missing:"; cat "$log"; exit 1; }
  grep -q "export TESSERA_CLUSTER=$TESSERA_VAR/cluster.json" "$log" || { echo "no usage:"; cat "$log"; exit 1; }
  "$TESSERA_BIN" ls sample --cluster "$TESSERA_VAR/cluster.json" | grep -q "hello.txt"
  "$TESSERA_BIN" ls sample --node "$url" | grep -q "hello.txt"
  kill -TERM "$pid"
  wait "$pid" || true
  grep -q "cluster stopped" "$log" || { echo "no clean stop:"; cat "$log"; exit 1; }
  if "$TESSERA_BIN" ls sample --node "$url" >/dev/null 2>&1; then
    echo "node1 still serves after being stopped"; exit 1
  fi
  [[ ! -e "$TESSERA_VAR/supervisord.pid" ]] || ! kill -0 "$(cat "$TESSERA_VAR/supervisord.pid")" 2>/dev/null \
    || { echo "supervisord still runs after being stopped"; exit 1; }
}

formatted() { cat "$TESSERA_VAR"/logs/node*.log | grep -c "formatted new drive" || true; }

run_once "$work/first.log"
[[ $(formatted) -eq 12 ]] || { echo "expected 12 new drives, saw $(formatted)"; exit 1; }
run_once "$work/second.log"
[[ $(formatted) -eq 12 ]] || { echo "a restart formatted drives again"; exit 1; }
grep -q "restarting cluster" "$work/second.log" || { echo "second run did not restart:"; cat "$work/second.log"; exit 1; }
echo "scripts/up: 3-node cluster stored and read back the sample, stopped, restarted on the same drives"
