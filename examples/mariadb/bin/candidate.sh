#!/bin/bash
# The election's candidate gate: may this node become the primary now?
# - It answers queries.
# - With data: it has applied everything it received from the old primary (relay log applied,
#   no lag beyond DB_MAX_LAG seconds). Which replica runs at all is decided before this gate,
#   by rank (rank.sh: the most advanced one); this gate makes it apply its relay log first.
# - Without data: only when no backup exists (a cold start of a new cluster). An empty node
#   must never become the primary of a cluster that has data.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
alive || { say "not answering"; exit 1; }
if has_data; then
  status=$(slave_status 2>/dev/null || true)
  [ -n "$status" ] || exit 0
  field() { printf '%s\n' "$status" | sed -n "s/^ *$1: //p" | head -1; }
  if [ "$(field Read_Master_Log_Pos)" != "$(field Exec_Master_Log_Pos)" ] ||
     [ "$(field Master_Log_File)" != "$(field Relay_Master_Log_File)" ]; then
    say "relay log not applied yet"; exit 1
  fi
  lag=$(field Seconds_Behind_Master)
  if [ -n "$lag" ] && [ "$lag" != NULL ] && [ "$lag" -gt "${DB_MAX_LAG:-5}" ]; then say "lag ${lag}s"; exit 1; fi
  exit 0
fi
snapshot_exists; rc=$?
[ "$rc" = 1 ] && exit 0      # no backup anywhere: a new cluster, this node may initialise it
say "no data here but a backup exists (or the store cannot be asked): not a candidate"
exit 1
