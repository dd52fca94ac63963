#!/bin/bash
# Job `mariadb`: always starts read-only; promote.sh makes the elected primary writable.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
exec mariadbd --no-defaults --datadir="$DATADIR" --socket="$SOCKET" --port="$PORT" \
  --bind-address="$BIND" --user="$DB_USER" --pid-file="$DATADIR/mariadbd.pid" --tmpdir="$TMP_DIR" \
  --server-id="$(server_id)" --log-bin="$BINLOG_DIR/mariadb-bin" --log-bin-index="$BINLOG_DIR/mariadb-bin.index" \
  --binlog-format=ROW --log-slave-updates --gtid-strict-mode=1 --max-binlog-size="${DB_BINLOG_SIZE:-64M}" \
  --relay-log="$DATADIR/relay-bin" --skip-slave-start --read-only=1 --skip-name-resolve \
  --innodb-buffer-pool-size="${DB_BUFFER_POOL:-256M}" ${DB_EXTRA_ARGS:-}
