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
# The backup's binlog position: "file<TAB>offset<TAB>GTID list". MariaDB 11 names the file
# mariadb_backup_binlog_info (11.8 here); older releases xtrabackup_binlog_info. Without it a
# replica would replicate from the primary's first GTID and replay what it already holds
# (CREATE USER ... error 1396): refuse the restore rather than start such a node.
binlog_info=
for f in mariadb_backup_binlog_info xtrabackup_binlog_info; do
  [ -s "$staging/$f" ] && { binlog_info="$staging/$f"; break; }
done
[ -n "$binlog_info" ] || { say "the backup has no binlog position (mariadb_backup_binlog_info)"; exit 1; }
awk -F '\t' 'NR == 1 {print $3}' "$binlog_info" > "$RESTORED_GTID_FILE"
chown -R "$DB_USER" "$DATADIR"
rm -rf "$staging" "$staging.prepare.log" "$staging.copy.log"
say "restored into $DATADIR (GTID $(cat "$RESTORED_GTID_FILE"))"
