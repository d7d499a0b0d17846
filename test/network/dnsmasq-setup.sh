#!/usr/bin/env bash
# Debian's dnsmasq binary (dnsmasq-base: no system service on port 53) for the identity tests, which
# start their own on a 127.0.0.1 port with the TXT records they need. Run as root.
# Usage: bash test/network/dnsmasq-setup.sh
set -euo pipefail
if ! command -v dnsmasq >/dev/null && [ ! -x /usr/sbin/dnsmasq ]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y dnsmasq-base
fi
echo "dnsmasq ready: $(/usr/sbin/dnsmasq --version | head -1)"
