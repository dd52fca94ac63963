#!/bin/bash
# Job `demote` (each `demoted`): read-only at once, then drop the connections of ordinary
# clients so that none keeps writing through a session opened while this node was primary.
. "$(dirname "$0")/lib.sh"
# Not running (yet, or any more): nothing can write through it.
alive || { say "the server is not running: nothing to demote"; exit 0; }
sql -e "SET GLOBAL read_only = 1" || { say "cannot set read_only"; exit 1; }
serialize   # read_only first, at once; then wait for a running promote/replicate
for id in $(sql -e "SELECT id FROM information_schema.processlist WHERE user NOT IN ('root', 'system user', 'event_scheduler', '${REPL_USER:-repl}') AND id <> CONNECTION_ID()"); do
  sql -e "KILL CONNECTION $id" 2>/dev/null || true
done
say "demoted: read-only"
