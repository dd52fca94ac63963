#!/bin/bash
# Job `replicate` (the primary's key changed, and every 5 s): a replica replicates from the
# current primary with GTID (MASTER_USE_GTID=slave_pos). Idempotent.
# - A replica without data never replicates from the start of the primary's binlog: it waits
#   for the first backup, then restores it (mariadbd.sh, after a restart of the server).
# - A demoted primary (its binlog holds its own writes) continues from its binlog position.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
alive || exit 0
serialize
read -r role primary <<< "$(election_state)"
[ "$role" = replica ] || exit 0
[ -n "$primary" ] || { say "no primary yet"; exit 0; }
host=${primary%:*} port=${primary##*:}
apply_restored_gtid
if ! has_data; then
  if snapshot_exists; then
    say "no data here and a backup exists: restarting the server to restore it"
    touch "$REPROVISION_FILE"
    sql -e "SHUTDOWN" || true   # the job ends; Pilotfish restarts it (restarts: unlimited)
  elif [ ! -e "$DATADIR/.pilotfish-waiting" ]; then
    say "no data here: waiting for the first backup of the primary"
    touch "$DATADIR/.pilotfish-waiting"
  fi
  exit 0
fi
rm -f "$DATADIR/.pilotfish-waiting"
status=$(slave_status || true)
field() { printf '%s\n' "$status" | sed -n "s/^ *$1: //p" | head -1; }
io=$(field Slave_IO_Running)
if [ "$(field Master_Host):$(field Master_Port)" = "$host:$port" ] && [ "$(field Slave_SQL_Running)" = Yes ] &&
   { [ "$io" = Yes ] || [ "$io" = Connecting ]; }; then
  exit 0
fi
last_error="$(field Last_IO_Error)$(field Last_SQL_Error)"
[ -z "$last_error" ] || say "replication stopped: $last_error"
sql -e "STOP SLAVE; SET GLOBAL read_only = 1"
# A former primary: its own writes are in its binlog, not in gtid_slave_pos. Continue from
# there (the new primary has them: it was the most advanced replica).
domain=${DB_GTID_DOMAIN:-0}
binlog_pos=$(sql -e 'SELECT @@gtid_binlog_pos') slave_pos=$(sql -e 'SELECT @@gtid_slave_pos')
if [ "$(gtid_seq "$binlog_pos" "$domain")" -gt "$(gtid_seq "$slave_pos" "$domain")" ]; then
  say "this node wrote GTIDs up to $binlog_pos as a primary: continuing from there"
  sql -e "SET GLOBAL gtid_slave_pos = '$binlog_pos'"
fi
say "replicating from $host:$port"
sql -e "CHANGE MASTER TO MASTER_HOST = '$host', MASTER_PORT = $port, MASTER_USER = '${REPL_USER:?}',
  MASTER_PASSWORD = '${REPL_PASSWORD:?}', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 2;
START SLAVE;"
