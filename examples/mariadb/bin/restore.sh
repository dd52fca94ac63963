#!/bin/bash
# backup source `mariadb`, restore side: stdin is the xbstream of `mariadb-backup --backup`.
# Extract, prepare (apply the redo log), copy back into the empty datadir, and keep the GTID
# position of the backup for apply_restored_gtid (lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
staging="${DATADIR%/}.pilotfish-staging"
rm -rf "$staging"
mkdir -p "$staging" "$DATADIR"
mbstream -x -C "$staging"
mariadb-backup --no-defaults --prepare --target-dir="$staging" 2> "$staging.prepare.log" ||
  { tail -20 "$staging.prepare.log" >&2; exit 1; }
mariadb-backup --no-defaults --copy-back --target-dir="$staging" --datadir="$DATADIR" 2> "$staging.copy.log" ||
  { tail -20 "$staging.copy.log" >&2; exit 1; }
if [ -s "$staging/xtrabackup_binlog_info" ]; then
  awk '{print $3}' "$staging/xtrabackup_binlog_info" > "$RESTORED_GTID_FILE"
fi
chown -R "$DB_USER" "$DATADIR"
rm -rf "$staging" "$staging.prepare.log" "$staging.copy.log"
say "restored into $DATADIR (GTID $(cat "$RESTORED_GTID_FILE" 2>/dev/null || echo none))"
