#!/usr/bin/env bash
# Installs Debian's Chromium for test/browser.test.ts if it is missing (idempotent; run as root).
# The test drives /usr/bin/chromium through playwright-core; it skips locally without it and fails under CI=true.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
echo "chromium: $(/usr/bin/chromium --version)"
