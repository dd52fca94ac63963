#!/bin/bash
# backup.hooks.pre: only the primary writes backups (the activity trigger also fires on
# replicas, whose binlogs move with replication). A replica's attempt fails here, on purpose.
. "$(dirname "$0")/lib.sh"
[ "$(sql -e 'SELECT @@read_only')" = 0 ] || { say "not the primary: no backup from here"; exit 1; }
