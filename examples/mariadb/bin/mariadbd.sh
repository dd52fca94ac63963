#!/bin/bash
# Job `mariadb`: always starts read-only; promote.sh makes the elected primary writable.
# A node that joined an initialised cluster without data (replicate.sh asked for it) first
# restores the newest backup here, while no server runs: the datadir is emptied, then
# `pilotfish restore` runs the backup source's restore (restore.sh: prepare, copy-back, GTID).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
if [ -f "$REPROVISION_FILE" ]; then
  say "restoring the newest backup before starting (this node has no data)"
  find "$DATADIR" "$BINLOG_DIR" -mindepth 1 -delete
  # shellcheck disable=SC2086 # PILOTFISH_BIN may be "node /path/main.js"
  $PILOTFISH_BIN restore --config "$PILOTFISH_CONFIG" --policy always --json
  rm -f "$REPROVISION_FILE"
fi
exec mariadbd --no-defaults --datadir="$DATADIR" --socket="$SOCKET" --port="$PORT" \
  --bind-address="$BIND" --user="$DB_USER" --pid-file="$DATADIR/mariadbd.pid" --tmpdir="$TMP_DIR" \
  --server-id="$(server_id)" --log-bin="$BINLOG_DIR/mariadb-bin" --log-bin-index="$BINLOG_DIR/mariadb-bin.index" \
  --binlog-format=ROW --log-slave-updates --gtid-strict-mode=1 --max-binlog-size="${DB_BINLOG_SIZE:-64M}" \
  --relay-log="$DATADIR/relay-bin" --skip-slave-start --read-only=1 --skip-name-resolve \
  --innodb-buffer-pool-size="${DB_BUFFER_POOL:-256M}" ${DB_EXTRA_ARGS:-}
