#!/bin/bash
# election.rank: how advanced this node is, as one number: the highest GTID sequence number
# of the replication domain (DB_GTID_DOMAIN, 0) that this node has received (Gtid_IO_Pos:
# in its relay log, applied or not) or holds (gtid_current_pos: its binlog and applied
# position). When the primary's key is free, only the node with the highest number runs for
# primary (ties: the smaller id); its candidate gate then waits until its relay log is applied.
# A node without data ranks 0.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
alive || { say "not answering"; exit 1; }
domain=${DB_GTID_DOMAIN:-0}
io=$(slave_status 2>/dev/null | sed -n 's/^ *Gtid_IO_Pos: //p' | head -1)
current=$(sql -e 'SELECT @@gtid_current_pos') || exit 1
a=$(gtid_seq "$io" "$domain") b=$(gtid_seq "$current" "$domain")
echo $(( a > b ? a : b ))
