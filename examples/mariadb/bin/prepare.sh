#!/bin/bash
# Job `prepare` (after Pilotfish's restore): directories, and a fresh system datadir when
# nothing was restored. An empty node is NOT initialised here: only the elected primary of a
# cluster without any backup initialises the data (promote.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p "$DATADIR" "$BINLOG_DIR" "$(dirname "$SOCKET")" "$TMP_DIR"
chown "$DB_USER" "$DATADIR" "$BINLOG_DIR" "$(dirname "$SOCKET")"
if [ ! -d "$DATADIR/mysql" ]; then
  say "no data restored: creating an empty system datadir"
  TMPDIR="$TMP_DIR" mariadb-install-db --no-defaults --datadir="$DATADIR" --user="$DB_USER" \
    --auth-root-authentication-method=socket --skip-test-db > /dev/null
fi
