#!/usr/bin/env bash
# Lighthouse (mobile) on home, a guide, booking, upload and a timeline; targets: performance >= 95,
# accessibility 100, best practices 100. Run from the repo root: bench/lighthouse.sh [--runs N]
# Installs Lighthouse (bench/lighthouse/package.json, exact version) with the machine's npm and
# Debian's Chromium if missing; needs PostgreSQL on 127.0.0.1 (BENCH_PG to change it).
# Its own database and Redis db: BENCH_DB (default palm_bench_lighthouse), BENCH_REDIS (db 10).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-chromium.sh
if [ ! -x bench/lighthouse/node_modules/.bin/lighthouse ]; then
  (cd bench/lighthouse && npm ci --no-audit --no-fund --loglevel=error)
fi
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
exec .venv/bin/python bench/lighthouse.py "$@"
