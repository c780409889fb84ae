#!/usr/bin/env bash
# Back up PostgreSQL and the photo store into one dated folder; see README "Backups and restore".
#
#   scripts/backup.sh            reads DATABASE_URL, PHOTO_STORAGE, UPLOAD_DIR / S3_* from the
#                                environment (the systemd unit loads /etc/palm/palm.env)
#
# BACKUP_DIR (default /var/backups/palm) gets <UTC time>/ with db.dump (pg_dump custom format),
# photos.tar (every photo, under its key) and SHA256SUMS; folders older than BACKUP_KEEP_DAYS
# (default 14) are removed afterwards. The database goes first: every photo its rows name is
# still in the store when the photos are copied (one deleted in between was being deleted anyway).
set -euo pipefail
umask 077  # ID photos and phone numbers: for the service account only

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
BACKUP_DIR="${BACKUP_DIR:-/var/backups/palm}"
KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"

die() { echo "backup: $*" >&2; exit 1; }

# libpq takes postgresql:// URLs; SQLAlchemy's driver suffix is not for it.
db_url() { local url="${DATABASE_URL:?DATABASE_URL must be set}"; echo "${url/+psycopg/}"; }
case "$(db_url)" in
  postgres://*|postgresql://*) ;;
  *) die "DATABASE_URL must point at PostgreSQL (SQLite is for development only)" ;;
esac
command -v pg_dump >/dev/null || die "pg_dump is not installed (apt-get install postgresql-client)"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$BACKUP_DIR/$stamp"
work="$BACKUP_DIR/.$stamp.part"
mkdir -p "$BACKUP_DIR"
chmod 700 "$BACKUP_DIR"
rm -rf "$work"
mkdir "$work"
trap 'rm -rf "$work"' EXIT

pg_dump --format=custom --compress=6 --file="$work/db.dump" "$(db_url)"
pg_restore --list "$work/db.dump" >/dev/null  # a dump that cannot be read is no backup
photos="$("$PYTHON" "$ROOT/scripts/photo_store.py" export "$work/photos.tar")"
(cd "$work" && sha256sum db.dump photos.tar >SHA256SUMS)
printf 'created %s\nphotos %s\n' "$stamp" "$photos" >"$work/INFO"
mv "$work" "$target"
trap - EXIT
echo "backup: $target (database $(du -h "$target/db.dump" | cut -f1), $photos photos)"

# Retention: whole dated folders only, never the one just made.
find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '20*Z' -mtime "+$KEEP_DAYS" \
  ! -path "$target" -print -exec rm -rf {} + | sed 's/^/backup: removed old /'
