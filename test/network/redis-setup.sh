#!/usr/bin/env bash
# Idempotent Redis for the shared session store tests: installs Debian's redis-server if missing and
# starts one on 127.0.0.1:6379 (loopback only, no persistence) unless one already answers there.
# Run as root (CI and the dev machines are root). Usage: bash test/network/redis-setup.sh
set -euo pipefail

if ! command -v redis-server >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes \
    --logfile /tmp/blueskysdk-redis.log --dir /tmp
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
echo "Redis ready: redis://127.0.0.1:6379"
