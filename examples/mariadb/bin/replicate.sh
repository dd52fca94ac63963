#!/bin/bash
# Job `replicate` (the primary's key changed, and every 5 s): a replica replicates from the
# current primary with GTID (MASTER_USE_GTID=slave_pos). Idempotent.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
alive || exit 0
serialize
read -r role primary <<< "$(election_state)"
[ "$role" = replica ] || exit 0
[ -n "$primary" ] || { say "no primary yet"; exit 0; }
host=${primary%:*} port=${primary##*:}
apply_restored_gtid
status=$(slave_status || true)
field() { printf '%s\n' "$status" | sed -n "s/^ *$1: //p" | head -1; }
io=$(field Slave_IO_Running)
if [ "$(field Master_Host):$(field Master_Port)" = "$host:$port" ] && [ "$(field Slave_SQL_Running)" = Yes ] &&
   { [ "$io" = Yes ] || [ "$io" = Connecting ]; }; then
  exit 0
fi
last_error="$(field Last_IO_Error)$(field Last_SQL_Error)"
[ -z "$last_error" ] || say "replication stopped: $last_error"
say "replicating from $host:$port"
sql -e "STOP SLAVE; SET GLOBAL read_only = 1;
CHANGE MASTER TO MASTER_HOST = '$host', MASTER_PORT = $port, MASTER_USER = '${REPL_USER:?}',
  MASTER_PASSWORD = '${REPL_PASSWORD:?}', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 2;
START SLAVE;"
