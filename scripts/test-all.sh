#!/usr/bin/env bash
# `make test`: every test on SQLite with inline jobs; with TEST_DATABASE_URL or REDIS_URL set, also
# on PostgreSQL + Redis. The two passes share nothing (each has its own database, temp folders and
# spare ports), so they run side by side: on this 2-core machine that takes the longer pass's time
# instead of the sum of both. Extra arguments go to both pytest runs.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ -z "${TEST_DATABASE_URL:-}${REDIS_URL:-}" ]; then
    exec "$PY" -m pytest -q "$@"
fi
sqlite_log=$(mktemp -t palm-sqlite-pass.XXXXXX)
trap 'rm -f "$sqlite_log"' EXIT
env -u TEST_DATABASE_URL -u REDIS_URL "$PY" -m pytest -q "$@" >"$sqlite_log" 2>&1 &
sqlite_pid=$!
trap 'kill "$sqlite_pid" 2>/dev/null; rm -f "$sqlite_log"' EXIT
echo "== on PostgreSQL (${TEST_DATABASE_URL:-unset}) and Redis (${REDIS_URL:-unset}), beside the SQLite pass =="
"$PY" -m pytest -q "$@"
services=$?
wait "$sqlite_pid"
sqlite=$?
echo "== on SQLite with inline jobs (run beside the other pass) =="
cat "$sqlite_log"
echo "== SQLite pass: exit $sqlite; PostgreSQL + Redis pass: exit $services =="
[ "$sqlite" -eq 0 ] && [ "$services" -eq 0 ]
