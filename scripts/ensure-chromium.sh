#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (never a downloaded browser) with a CJK font.
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "Chromium or the CJK font is missing: run 'sudo apt-get install -y chromium fonts-wqy-microhei'" >&2
  exit 1
fi
echo "Installing Debian's Chromium and a CJK font for the browser tests..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
