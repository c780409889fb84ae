#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database and photo store; see README
# "Backups and restore".
#
#   scripts/restore.sh --check /var/backups/palm/20261123T020000Z   verify only, change nothing
#   scripts/restore.sh /var/backups/palm/20261123T020000Z           verify, then restore
#
# The target is the environment's DATABASE_URL and PHOTO_STORAGE / UPLOAD_DIR / S3_* (load the
# new machine's /etc/palm/palm.env first). A database that already has tables is refused, so a
# restore can never mix two histories or overwrite the live one.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3

die() { echo "restore: $*" >&2; exit 1; }

check_only=0
if [ "${1:-}" = "--check" ]; then check_only=1; shift; fi
src="${1:-}"
[ -n "$src" ] && [ -d "$src" ] || die "usage: restore.sh [--check] BACKUP_FOLDER"
for f in db.dump photos.tar SHA256SUMS INFO; do
  [ -f "$src/$f" ] || die "$src/$f is missing"
done

# 1. The backup is whole: checksums, a readable dump, and as many photos as were copied.
(cd "$src" && sha256sum --quiet --check SHA256SUMS) || die "checksums do not match"
tables="$(pg_restore --list "$src/db.dump" | grep -c ' TABLE DATA ' || true)"
photos="$(tar -tf "$src/photos.tar" | grep -c . || true)"
expected="$(sed -n 's/^photos //p' "$src/INFO")"
[ "$photos" = "$expected" ] || die "photos.tar holds $photos photos, INFO says $expected"
echo "restore: $src is whole ($tables tables with data, $photos photos)"
[ "$check_only" = 1 ] && exit 0

# 2. Into an empty PostgreSQL database, in one transaction: all of it or nothing.
url="${DATABASE_URL:?DATABASE_URL must be set}"
url="${url/+psycopg/}"
case "$url" in
  postgres://*|postgresql://*) ;;
  *) die "DATABASE_URL must point at PostgreSQL" ;;
esac
existing="$(psql "$url" -XtAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
[ "$existing" = 0 ] || die "the target database already has $existing tables; use an empty one"
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$url" \
  "$src/db.dump"

# 3. The photos, under the keys the rows hold.
restored="$("$PYTHON" "$ROOT/scripts/photo_store.py" import "$src/photos.tar")"
echo "restore: database restored; $restored photos put back"
echo "restore: next, 'flask db upgrade heads' (nothing to do on a current backup); then sign in" \
  "as staff and open a recent application's photos"
