# shellcheck shell=bash
# Shared by the hook scripts: paths (each with an environment override) and SQL helpers.
# Local administration goes through the unix socket as root (unix_socket authentication):
# the hooks run as root under Pilotfish and never need the root password.
DATADIR=${DB_DATADIR:-/var/lib/mysql}
BINLOG_DIR=${DB_BINLOG_DIR:-/var/lib/mysql-binlog}
SOCKET=${DB_SOCKET:-/run/mysqld/mysqld.sock}
PORT=${DB_PORT:-3306}
BIND=${DB_BIND:-0.0.0.0}
DB_USER=${DB_USER:-mysql}
# mariadbd's temporary files. Per node: names carry the server's pid, and in PID namespaces
# that share a /tmp (the e2e test) every node's mariadbd has the same pid.
TMP_DIR=${DB_TMPDIR:-/tmp}
CONTROL_SOCKET=${PILOTFISH_SOCKET:-/var/run/pilotfish.sock}
RESTORED_GTID_FILE="$DATADIR/pilotfish-restored-gtid"
# Outside the datadir (a restore empties it): "restore the newest backup before starting".
REPROVISION_FILE="${DATADIR%/}.pilotfish-reprovision"
# The standalone CLI (restore) and its config; the image has both at these paths.
PILOTFISH_BIN=${PILOTFISH_BIN:-pilotfish}
PILOTFISH_CONFIG=${PILOTFISH_CONFIG:-/etc/pilotfish.yaml}

sql() { mariadb --no-defaults --protocol=socket --socket="$SOCKET" -uroot -N -B "$@"; }
# SHOW SLAVE STATUS as "Name: value" lines (vertical output needs the column names: no -N).
slave_status() { mariadb --no-defaults --protocol=socket --socket="$SOCKET" -uroot -e 'SHOW SLAVE STATUS\G'; }
say() { echo "$(basename "$0"): $*" >&2; }

# The database answers.
alive() { sql -e 'SELECT 1' > /dev/null 2>&1; }

# This node holds the cluster's data (initialised here, restored, or replicated): the marker
# schema exists. A fresh mariadb-install-db datadir does not have it.
has_data() { [ -n "$(sql -e "SELECT 1 FROM information_schema.schemata WHERE schema_name = 'pilotfish'")" ]; }

# A snapshot exists in the store (asked of the running Pilotfish over its control socket).
snapshot_exists() {
  local list
  list=$(curl -sS --fail --max-time 30 --unix-socket "$CONTROL_SOCKET" http://pilotfish/v1/backup/snapshots) || return 2
  printf '%s' "$list" | grep -q '"name"'
}

# After a restore: the backup's GTID position becomes this node's binlog state and slave
# position (mariadb-backup records it in mariadb_backup_binlog_info; restore.sh saved it). Safe:
# the node has taken no writes since it started (read_only, and this runs before replicating
# or promoting).
apply_restored_gtid() {
  [ -s "$RESTORED_GTID_FILE" ] || return 0
  local gtid
  gtid=$(cat "$RESTORED_GTID_FILE")
  say "restored from a backup at GTID $gtid"
  sql -e "STOP SLAVE; RESET MASTER; SET GLOBAL gtid_binlog_state = '$gtid'; SET GLOBAL gtid_slave_pos = '$gtid';"
  rm -f "$RESTORED_GTID_FILE"
}

# The role and primary as the running Pilotfish sees them NOW ("primary 10.0.0.5:3306"); a
# job's PILOTFISH_ROLE / PILOTFISH_PRIMARY_ADDR are as of its start.
election_state() {
  curl -sS --fail --max-time 5 --unix-socket "$CONTROL_SOCKET" http://pilotfish/v1/status |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const e = JSON.parse(s).subsystems?.election ?? {};
      console.log(`${e.role ?? "unknown"} ${e.primary ?? ""}`);
    })'
}

# The sequence number of domain DOMAIN in a GTID list ("0-1-10,1-2-3"), 0 when absent.
gtid_seq() {
  local gtid d seq best=0
  for gtid in ${1//,/ }; do
    IFS=- read -r d _ seq <<< "$gtid"
    [ "$d" = "$2" ] && [ -n "$seq" ] && [ "$seq" -gt "$best" ] && best=$seq
  done
  echo "$best"
}

# Role changes (promote, demote, replicate) never interleave.
serialize() { exec 9> "$DATADIR/.pilotfish-role.lock"; flock 9; }

# server_id: unique per container whatever the network mode. With --network host, or clones of
# one image, hostname and IP are the same on every node, so the first choice is the container's
# own id (the engine mounts /etc/hostname from a per-container directory named after it: Docker's
# .../containers/<id>/hostname, podman's .../overlay-containers/<id>/userdata/hostname), as a
# 32-bit number (1..4294967295). Outside a container: the IPv4 address, else the hostname.
container_id() {
  sed -n 's#^[^ ]* [^ ]* [^ ]* \([^ ]*\) /etc/hostname .*#\1#p' /proc/self/mountinfo 2>/dev/null |
    grep -oE '[0-9a-f]{64}' | head -1
}
server_id() {
  if [ -n "${DB_SERVER_ID:-}" ]; then echo "$DB_SERVER_ID"; return; fi
  local id ip
  id=$(container_id || true)
  if [ -n "$id" ]; then echo $(( 0x${id:0:8} % 4294967295 + 1 )); return; fi
  ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -m1 -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' || true)
  if [ -z "$ip" ]; then echo $(( $(cksum <<< "$(hostname)" | cut -d' ' -f1) % 4294967295 + 1 )); return; fi
  IFS=. read -r a b c d <<< "$ip"
  echo $(( (a << 24) + (b << 16) + (c << 8) + d ))
}
