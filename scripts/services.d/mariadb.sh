# MariaDB from the Debian package, with its own data dir under DIR, a unix
# socket and a TCP port on $BIND_ADDR. Sourced by scripts/services.
# shellcheck shell=bash

PF_MARIADB_USER=pilotfish
PF_MARIADB_PASSWORD=pilotfish

mariadb_alloc() { state_set MARIADB_PORT "$(free_ports 1)"; }

mariadb_bin() { # mariadb_bin NAME -> path of a MariaDB program, or dies
  command -v "$1" || { [[ -x "/usr/sbin/$1" ]] && echo "/usr/sbin/$1"; } ||
    die "$1 not found (run: scripts/services install)"
}

mariadb_socket() { printf '%s/mariadb/mysqld.sock\n' "$PF_DIR"; }

mariadb_start() {
  state_load
  local dir="$PF_DIR/mariadb" user fresh=""
  user="$(id -un)"
  mkdir -p "$dir"
  if [[ ! -d "$dir/data/mysql" ]]; then
    fresh=1
    "$(mariadb_bin mariadb-install-db)" --no-defaults --datadir="$dir/data" \
      --user="$user" --auth-root-authentication-method=socket \
      --skip-test-db >"$dir/install.log" 2>&1 ||
      { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
  fi
  spawn mariadb "$(mariadb_bin mariadbd)" --no-defaults --datadir="$dir/data" \
    --socket="$(mariadb_socket)" --port="$MARIADB_PORT" --bind-address="$BIND_ADDR" \
    --pid-file="$dir/mariadbd.pid" --user="$user" --skip-name-resolve \
    --innodb-buffer-pool-size=64M --log-error="$dir/error.log"
  [[ -z "$fresh" ]] || touch "$dir/needs-users"
}

# shellcheck disable=SC2120 # called with -e through wait_until
mariadb_sql() { "$(mariadb_bin mariadb)" --no-defaults --socket="$(mariadb_socket)" -uroot "$@"; }

mariadb_ready() {
  state_load
  local dir="$PF_DIR/mariadb"
  wait_until 60 "mariadb to answer" mariadb_sql -e 'SELECT 1' ||
    { tail -20 "$dir/error.log" >&2; return 1; }
  if [[ -f "$dir/needs-users" ]]; then
    # root logs in through the socket only (as the OS user that owns DIR);
    # tests use this password user over the socket or TCP.
    # shellcheck disable=SC2119
    mariadb_sql <<SQL || return 1
CREATE USER IF NOT EXISTS '$PF_MARIADB_USER'@'localhost' IDENTIFIED BY '$PF_MARIADB_PASSWORD';
CREATE USER IF NOT EXISTS '$PF_MARIADB_USER'@'%' IDENTIFIED BY '$PF_MARIADB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$PF_MARIADB_USER'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO '$PF_MARIADB_USER'@'%' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS pilotfish_test;
SQL
    rm -f "$dir/needs-users"
  fi
}

mariadb_exports() {
  printf 'MARIADB_SOCKET=%s\n' "$(mariadb_socket)"
  printf 'MARIADB_HOST=%s\n' "$BIND_ADDR"
  printf 'MARIADB_PORT=%s\n' "$MARIADB_PORT"
  printf 'MARIADB_USER=%s\n' "$PF_MARIADB_USER"
  printf 'MARIADB_PASSWORD=%s\n' "$PF_MARIADB_PASSWORD"
}
