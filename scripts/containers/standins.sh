#!/usr/bin/env bash
# standins.sh: local stand-ins for the service images the compose demos use, tagged with their
# public names so that the compose files stay exactly what a Docker Hub user runs:
#   hashicorp/consul:1.22   hashicorp/vault:1.21   minio/minio:latest   minio/mc:latest
# built FROM the debian:bookworm-slim stand-in (provision.sh) with the binaries scripts/services
# builds (scripts/services which consul|vault|minio). `mc` is not built: a small stand-in
# (standins/mc, curl with AWS SigV4) does the subset the demos use (alias set, mb, ls, ready).
# gerritcodereview/gerrit has no stand-in (it needs Gerrit's own war): the Gerrit example's git
# stand-in image (examples/gerrit/Dockerfile.git) runs instead.
#
#   standins.sh [--rebuild] [--check] [NAME...]     NAME: consul vault minio mc (default: all)
#
# Each image carries io.pilotfish.standin=<hash of the binary, the scripts and the base image>;
# a current image is not built again (about 1 s). Needs root, podman and provision.sh's images.
set -Eeuo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LABEL=io.pilotfish.standin
BASE=docker.io/library/debian:bookworm-slim
TOOLS=localhost/pilotfish-standin-tools:latest
CACHE=${PILOTFISH_CONTAINERS_CACHE:-/var/cache/pilotfish-containers}/standins
REBUILD=0 CHECK=0 names=()
for a in "$@"; do
  case $a in --rebuild) REBUILD=1 ;; --check) CHECK=1 ;; -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    consul|vault|minio|mc) names+=("$a") ;; *) echo "standins.sh: unknown argument $a" >&2; exit 2 ;; esac
done
[ ${#names[@]} -gt 0 ] || names=(consul vault minio mc)
T0=$SECONDS
log() { echo "standins.sh [$((SECONDS - T0))s]: $*" >&2; }
die() { echo "standins.sh: ERROR: $*" >&2; exit 1; }
command -v podman >/dev/null || die "podman is missing: run scripts/containers/provision.sh"
podman image exists "$BASE" || die "$BASE is missing: run scripts/containers/provision.sh"
mkdir -p "$CACHE"
# one run at a time (test files running in parallel each ask for the stand-ins)
exec 8> "$CACHE.lock"; flock 8

label_of() { podman image inspect --format "{{index .Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }
id_of() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
build() { # image hash context [tags...]: build context/Dockerfile unless current
  local image=$1 h=$2 ctx=$3; shift 3
  if [ "$REBUILD" = 0 ] && [ "$(label_of "$image")" = "$h" ]; then log "$image is current"; return 0; fi
  [ "$CHECK" = 1 ] && die "$image is missing or stale"
  log "building $image"
  podman build --format docker --pull=never --label "$LABEL=$h" -t "$image" "$ctx" > "$ctx.log" 2>&1 \
    || { tail -30 "$ctx.log" >&2; die "building $image failed (log: $ctx.log)"; }
  local t; for t in "$@"; do podman tag "$image" "$t"; done
}

# The shared layer: curl (the stand-ins' health checks and mc) on the Debian slim stand-in.
ctx=$CACHE/tools; rm -rf "$ctx"; mkdir -p "$ctx"
cat > "$ctx/Dockerfile" <<DF
FROM $BASE
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \\
 && rm -rf /var/lib/apt/lists/* && curl --version | head -1
DF
build "$TOOLS" "$( (cat "$ctx/Dockerfile"; id_of "$BASE") | sha256sum | cut -c1-16)" "$ctx"

binary() { # name -> path of the binary scripts/services built
  local p; p=$("$ROOT/scripts/services" which "$1" 2>/dev/null) && [ -x "$p" ] || die "no $1 binary: run scripts/services install (it builds consul, vault and minio)"
  echo "$p"
}
standin() { # name image entrypoint-script cmd-json [tags...]
  local name=$1 image=$2 ep=$3 cmd=$4; shift 4
  local ctx=$CACHE/$name bin
  rm -rf "$ctx"; mkdir -p "$ctx"
  cp "$HERE/standins/mc" "$ctx/mc"
  if [ "$name" = mc ]; then
    printf 'FROM %s\nCOPY mc /usr/bin/mc\nENTRYPOINT ["mc"]\n' "$TOOLS" > "$ctx/Dockerfile"
  else
    bin=$(binary "$name")
    cp "$bin" "$ctx/$name"; cp "$HERE/standins/$ep" "$ctx/docker-entrypoint.sh"
    {
      echo "FROM $TOOLS"
      echo "COPY $name /bin/$name"
      echo "COPY mc /usr/bin/mc"
      echo "COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh"
      case $name in
        consul) echo 'RUN mkdir -p /consul/data /consul/config'; echo 'EXPOSE 8300 8301 8301/udp 8302 8302/udp 8500 8600 8600/udp' ;;
        vault) echo 'RUN mkdir -p /vault/logs /vault/file /vault/config'; echo 'EXPOSE 8200' ;;
        minio) echo 'EXPOSE 9000'; echo 'VOLUME ["/data"]' ;;
      esac
      echo "RUN /bin/$name --version >/dev/null 2>&1 || /bin/$name version >/dev/null"
      echo 'ENTRYPOINT ["docker-entrypoint.sh"]'
      echo "CMD $cmd"
    } > "$ctx/Dockerfile"
  fi
  local h; h=$( (cat "$ctx/Dockerfile"; cd "$ctx" && find . -type f ! -name '*.log' | sort | xargs sha256sum; id_of "$TOOLS") | sha256sum | cut -c1-16)
  build "$image" "$h" "$ctx" "$@"
  rm -f "$ctx/$name"    # the binary copy (the image has it)
}

for n in "${names[@]}"; do
  case $n in
    consul) standin consul docker.io/hashicorp/consul:1.22 consul-entrypoint.sh '["agent", "-dev", "-client", "0.0.0.0"]' docker.io/hashicorp/consul:latest ;;
    vault) standin vault docker.io/hashicorp/vault:1.21 vault-entrypoint.sh '["server", "-dev"]' docker.io/hashicorp/vault:latest ;;
    minio) standin minio docker.io/minio/minio:latest minio-entrypoint.sh '["minio"]' ;;
    mc) standin mc docker.io/minio/mc:latest - '' ;;
  esac
done
log "done: ${names[*]}"
