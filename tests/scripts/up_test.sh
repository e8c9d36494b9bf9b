#!/usr/bin/env bash
# scripts/up end to end: starts a node, stores and reads back the sample,
# keeps serving until stopped, and comes back on the same drives. The script
# traps INT (Ctrl-C) and TERM alike; a background job of a non-interactive
# shell starts with INT ignored, so the test sends TERM.
# Usage: up_test.sh REPO_DIR TESSERA_BINARY
set -euo pipefail
repo=$1
export TESSERA_BIN=$2 TESSERA_UP_SKIP_BUILD=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TESSERA_VAR="$work/var"
export TESSERA_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

run_once() {
  local log=$1
  "$repo/scripts/up" >"$log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do
    grep -q "Press Ctrl-C" "$log" && break
    kill -0 "$pid" 2>/dev/null || { echo "scripts/up exited early:"; cat "$log"; exit 1; }
    sleep 0.1
  done
  grep -q "read back sample/sample.bin: identical" "$log" || { echo "no sample round trip:"; cat "$log"; exit 1; }
  grep -q "2+2 stripe" "$log" || { echo "stat output missing:"; cat "$log"; exit 1; }
  "$TESSERA_BIN" ls sample --node "http://127.0.0.1:$TESSERA_PORT" | grep -q "hello.txt"
  kill -TERM "$pid"
  wait "$pid" || true
  grep -q "node stopped" "$log" || { echo "no clean stop:"; cat "$log"; exit 1; }
  if "$TESSERA_BIN" ls sample --node "http://127.0.0.1:$TESSERA_PORT" >/dev/null 2>&1; then
    echo "the node still serves after being stopped"; exit 1
  fi
}

run_once "$work/first.log"
formatted=$(grep -c "formatted new drive" "$TESSERA_VAR/node1/node.log")
[[ $formatted -eq 4 ]] || { echo "expected 4 new drives, saw $formatted"; exit 1; }
run_once "$work/second.log"
formatted=$(grep -c "formatted new drive" "$TESSERA_VAR/node1/node.log")
[[ $formatted -eq 4 ]] || { echo "a restart formatted drives again"; exit 1; }
echo "scripts/up: sample stored and read back, stopped, restarted on the same drives"
