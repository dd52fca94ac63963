#!/bin/bash
# Job `promote` (each `elected`): become the writable primary. The very first primary of a
# cluster (no data, no backup: the candidate gate checked) initialises it: the marker schema,
# the replication user and the root password, all from Vault through the job's environment.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# A node that holds the lock but cannot be a writable primary must not keep it: step down
# (POST /v1/stepdown), so that another node takes over; this one stays read-only.
step_down() {
  say "promotion failed: stepping down"
  curl -sS --max-time 10 --unix-socket "$CONTROL_SOCKET" -X POST http://pilotfish/v1/stepdown > /dev/null || true
}
trap 'step_down' ERR
for _ in $(seq 1 60); do alive && break; sleep 0.5; done
serialize
apply_restored_gtid
if ! has_data; then
  if snapshot_exists; then say "a backup exists and this node has no data: refusing to initialise"; step_down; exit 1; fi
  say "initialising a new cluster"
  sql <<SQL
CREATE DATABASE pilotfish;
CREATE TABLE pilotfish.cluster (id INT PRIMARY KEY, initialised_at DATETIME NOT NULL, initialised_by INT UNSIGNED NOT NULL);
INSERT INTO pilotfish.cluster VALUES (1, NOW(), @@server_id);
CREATE USER '${REPL_USER:?}'@'%' IDENTIFIED BY '${REPL_PASSWORD:?}';
GRANT REPLICATION SLAVE, REPLICATION SLAVE ADMIN, BINLOG MONITOR ON *.* TO '${REPL_USER}'@'%';
CREATE USER 'root'@'%' IDENTIFIED BY '${ROOT_PASSWORD:?}';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
SQL
fi
sql -e "STOP SLAVE"
sql -e "RESET SLAVE ALL; SET GLOBAL read_only = 0"
# An application's database and user (DB_APP_DATABASE, DB_APP_USER, DB_APP_PASSWORD), as the
# official image's MARIADB_DATABASE/USER/PASSWORD; kept when they exist (a restored or
# replicated node has them already). The WordPress demo uses this.
if [ -n "${DB_APP_DATABASE:-}" ]; then
  sql <<SQL
CREATE DATABASE IF NOT EXISTS \`${DB_APP_DATABASE}\`;
CREATE USER IF NOT EXISTS '${DB_APP_USER:?DB_APP_USER with DB_APP_DATABASE}'@'%' IDENTIFIED BY '${DB_APP_PASSWORD:?DB_APP_PASSWORD with DB_APP_DATABASE}';
GRANT ALL PRIVILEGES ON \`${DB_APP_DATABASE}\`.* TO '${DB_APP_USER}'@'%';
SQL
fi
say "primary: writable (server_id $(sql -e 'SELECT @@server_id'), GTID $(sql -e 'SELECT @@gtid_current_pos'))"
