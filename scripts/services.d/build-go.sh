#!/usr/bin/env bash
# build-go.sh [--fetch-only] NAME MODULE VERSION [REPLACE...]
# Builds MODULE@VERSION's main package into the cache through a wrapper
# module (go install refuses modules whose go.mod has replace lines). Each
# REPLACE is "old=new@ver" for `go mod edit -replace`. If
# patches/NAME-VERSION.patch exists, the module's source is copied into the
# wrapper, patched, and used through a replace line. --fetch-only resolves
# and downloads without compiling, so that downloads of one service can
# overlap the compilation of another. NAME_BUILD_TAGS from versions.sh (e.g.
# VAULT_BUILD_TAGS) are the build tags of both the download and the build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
source "$here/versions.sh"

fetch_only=""
[[ "${1:-}" != --fetch-only ]] || { fetch_only=1; shift; }
name="$1" module="$2" version="$3"; shift 3
out="$(bin_path "$name" "$version")"
if [[ -x "$out" ]]; then
  echo "$name $version: cached at $out"
  exit 0
fi

work="$PF_CACHE/build/$name-$version"
patch_file="$here/patches/$name-$version.patch"
mkdir -p "$work"
exec 9>"$work/.lock"
flock 9
cd "$work"
tags_var="${name^^}_BUILD_TAGS"; tags_var="${tags_var//-/_}"
export GOFLAGS="-mod=mod ${!tags_var:+-tags=${!tags_var}} ${GOFLAGS:-}"
start=$SECONDS
if [[ ! -f go.sum ]]; then
  echo "$name $version: resolving modules"
  rm -rf go.mod src
  go mod init "pilotfish.local/build-$name" >/dev/null 2>&1
  for r in "$@"; do go mod edit -replace="$r"; done
  go get "$module@$version"
  if [[ -f "$patch_file" ]]; then
    echo "$name $version: applying $(basename "$patch_file")"
    cp -r "$(go list -m -f '{{.Dir}}' "$module")" src
    chmod -R u+w src
    patch -s -d src -p1 < "$patch_file"
    go mod edit -replace="$module=./src"
  fi
  # A main package cannot be imported, so `go mod tidy` is no use here;
  # list the build's packages instead, which downloads every module it needs.
  go list -deps "$module" >/dev/null
  echo "$name $version: modules ready in $((SECONDS - start)) s"
fi
[[ -z "$fetch_only" ]] || exit 0

echo "$name $version: building"
start=$SECONDS
mkdir -p "$(dirname "$out")"
go build -p "${PF_BUILD_JOBS:-2}" -trimpath -ldflags='-s -w' -o "$out.tmp" "$module"
mv "$out.tmp" "$out"
echo "$name $version: built in $((SECONDS - start)) s -> $out"
