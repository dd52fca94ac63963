# `scripts/services install`: Debian packages and the Go-built service
# binaries, cached under ~/.cache/pilotfish/services. Idempotent.
# Sourced by scripts/services.
# shellcheck shell=bash

install_apt() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    log "apt packages present: ${APT_PACKAGES[*]}"
    return 0
  fi
  local sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || die "missing apt packages: ${missing[*]} (run as root: apt-get install ${missing[*]})"
    sudo=(sudo)
  fi
  log "installing apt packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# build_one NAME MODULE VERSION [REPLACE...] : logs to PF_LOG_CACHE/build-NAME.log
build_one() {
  local name="$1" start=$SECONDS log="$PF_LOG_CACHE/build-$1.log"
  if [[ -x "$(bin_path "$name" "$3")" ]]; then
    log "$name $3: cached at $(bin_path "$name" "$3")"
    return 0
  fi
  log "$name $3: building (log: $log)"
  if ! "$PF_SERVICES_HOME/build-go.sh" "$@" >"$log" 2>&1; then
    tail -30 "$log" >&2
    die "building $name $3 failed (full log: $log)"
  fi
  log "$name $3: built in $((SECONDS - start)) s"
}

install_go_services() {
  command -v go >/dev/null || die "go not found: install Go >= 1.25 (the service binaries are built from the Go module proxy)"
  mkdir -p "$PF_LOG_CACHE"
  # Vault's go.mod replaces its own api/sdk with local dirs, which are not in
  # the module zip: the published versions it requires are used instead. Its
  # two non-local replace lines are copied here.
  local builds=(
    "consul $CONSUL_MODULE $CONSUL_VERSION"
    "vault $VAULT_MODULE $VAULT_VERSION ${VAULT_REPLACES[*]}"
    "minio $MINIO_MODULE $MINIO_VERSION"
    "docker-compose $COMPOSE_MODULE $COMPOSE_VERSION"
  )
  local spec fetchers=()
  # Downloads run in parallel from the start; compiling runs one at a time
  # (2 cores), each build waiting on its own download (a lock in build-go.sh).
  for spec in "${builds[@]}"; do
    # shellcheck disable=SC2086 # spec is a word list
    set -- $spec
    [[ -x "$(bin_path "$1" "$3")" ]] && continue
    "$PF_SERVICES_HOME/build-go.sh" --fetch-only "$@" >"$PF_LOG_CACHE/fetch-$1.log" 2>&1 &
    fetchers+=($!)
  done
  for spec in "${builds[@]}"; do
    # shellcheck disable=SC2086
    build_one $spec
  done
  # A fetch that failed made its build fail too; just collect them.
  local pid
  for pid in "${fetchers[@]}"; do wait "$pid" || true; done
}

cmd_install() {
  local start=$SECONDS
  install_apt
  install_go_services
  log "install done in $((SECONDS - start)) s"
}

# `scripts/services which docker-compose`: the path of a built tool, or exit 1.
cmd_which() {
  local path
  case "${1:-}" in
    docker-compose) path="$(bin_path docker-compose "$COMPOSE_VERSION")" ;;
    consul | vault | minio) local v="${1^^}_VERSION"; path="$(bin_path "$1" "${!v}")" ;;
    *) die "usage: scripts/services which consul|vault|minio|docker-compose" ;;
  esac
  [[ -x "$path" ]] || { echo "$1 is not installed (run: scripts/services install)" >&2; return 1; }
  echo "$path"
}

# `scripts/services check`: lists what is missing; exit 1 if anything is.
cmd_check() {
  local missing=() name version pkg
  for name in consul vault minio; do
    version="${name^^}_VERSION"
    [[ -x "$(bin_path "$name" "${!version}")" ]] || missing+=("$name ${!version}")
  done
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("apt:$pkg")
  done
  if ((${#missing[@]})); then
    printf 'missing: %s\n' "${missing[*]}"
    return 1
  fi
  echo "all services installed"
}
