# Shared helpers for scripts/services. Sourced, never executed.
# shellcheck shell=bash disable=SC2034

PF_SERVICES_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PF_REPO="$(cd "$PF_SERVICES_HOME/../.." && pwd)"
# shellcheck source=versions.sh
source "$PF_SERVICES_HOME/versions.sh"

# Every service of a dev set, in start order.
PF_ALL_SERVICES=(consul vault minio mariadb)

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

# wait_until TIMEOUT_S WHAT CMD... : polls CMD every 0.2 s until it succeeds.
wait_until() {
  local timeout="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

free_ports() { node "$PF_SERVICES_HOME/free-ports.mjs" "$@"; }

# http_ok URL : succeeds on a 2xx answer.
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

# --- state -----------------------------------------------------------------
# DIR/state.env holds KEY=VALUE lines (ports, mode, names) written by `up`;
# DIR/exports.env holds the export lines printed by `up` and `env`;
# DIR/<process>/pid holds each process's pid.

state_file() { printf '%s/state.env\n' "$PF_DIR"; }

state_set() { # state_set KEY VALUE
  local file; file="$(state_file)"
  touch "$file"
  grep -v "^$1=" "$file" > "$file.tmp" || true
  printf '%s=%q\n' "$1" "$2" >> "$file.tmp"
  mv "$file.tmp" "$file"
}

state_load() {
  [[ -f "$(state_file)" ]] || die "no services state in $PF_DIR (run: scripts/services up --dir $PF_DIR)"
  # shellcheck disable=SC1090
  source "$(state_file)"
}

# --- processes ---------------------------------------------------------------

pid_file() { printf '%s/%s/pid\n' "$PF_DIR" "$1"; }

proc_pid() { [[ -f "$(pid_file "$1")" ]] && cat "$(pid_file "$1")"; }

proc_alive() { # proc_alive NAME
  local pid; pid="$(proc_pid "$1")" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

# spawn NAME CMD... : runs CMD detached in its own session, logs to
# DIR/NAME/log, records its pid. Env assignments go through `env` in CMD.
spawn() {
  local name="$1"; shift
  mkdir -p "$PF_DIR/$name"
  setsid "$@" >>"$PF_DIR/$name/log" 2>&1 < /dev/null &
  echo $! > "$(pid_file "$name")"
}

# kill_proc NAME : TERM, wait up to 15 s, then KILL; by recorded pid only.
# spawn made the pid a process group leader: the signal goes to its group.
kill_proc() {
  local name="$1" pid
  pid="$(proc_pid "$name")" || return 0
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until 15 "$name (pid $pid) to exit" pid_gone "$pid"; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      wait_until 5 "$name (pid $pid) to die" pid_gone "$pid" || true
    fi
  fi
  rm -f "$(pid_file "$name")"
}

pid_gone() {
  ! kill -0 "$1" 2>/dev/null && return 0
  # A zombie still answers kill -0; treat it as gone.
  [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" == Z ]]
}

require_bin() { # require_bin NAME VERSION -> path, or dies
  local path; path="$(bin_path "$1" "$2")"
  [[ -x "$path" ]] || die "$1 $2 is not installed (run: scripts/services install)"
  printf '%s\n' "$path"
}
