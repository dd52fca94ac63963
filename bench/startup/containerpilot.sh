#!/usr/bin/env bash
# Builds ContainerPilot 3.8.0 (Joyent's, the last release) for bench/startup, outside the repo:
# into $PILOTFISH_CACHE/bench/containerpilot-3.8.0/containerpilot (default ~/.cache/pilotfish).
# Prints the binary's path.
#
# 3.8.0 predates Go modules (it used glide); its glide.lock pins commits. The build makes it a
# module (`go mod init`) and requires, for each dependency, the version the Go module proxy
# ($GOPROXY) serves nearest to the pinned commit, listed below. Two small modules the proxy does
# not serve (client9/reopen, flynn/json5) come from their git repositories at the pinned
# commits. Sources are cloned from $CP_GIT (default https://github.com): set it to a directory
# holding <owner>+<name>/repo clones to build from local mirrors.
set -euo pipefail

CACHE="${PILOTFISH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pilotfish}/bench"
OUT="$CACHE/containerpilot-3.8.0/containerpilot"
if [[ -x "$OUT" ]]; then echo "$OUT"; exit 0; fi
command -v go >/dev/null || { echo "containerpilot.sh: Go is needed to build ContainerPilot" >&2; exit 1; }

git_url() { # owner name
  local base="${CP_GIT:-https://github.com}"
  if [[ -d "$base/$1+$2/repo" ]]; then echo "$base/$1+$2/repo"; else echo "$base/$1/$2"; fi
}

work="$CACHE/containerpilot-3.8.0/src"
rm -rf "$work" && mkdir -p "$work"
cd "$work"
clone() { # owner name commit-or-tag dir
  git clone -q "$(git_url "$1" "$2")" "$4"
  git -C "$4" -c advice.detachedHead=false checkout -q "$3"
}
clone joyent containerpilot 3.8.0 containerpilot
clone client9 reopen 1a6ccbeaae3f56aa0058f5491382cb21726e214e reopen
clone flynn json5 7620272ed63390e979cf5882d2fa0506fe2a8db5 json5
(cd reopen && go mod init github.com/client9/reopen >/dev/null 2>&1)
(cd json5 && go mod init github.com/flynn/json5 >/dev/null 2>&1)

cd containerpilot
rm -rf vendor
go mod init github.com/joyent/containerpilot >/dev/null 2>&1
# glide.lock commit -> nearest version served by the proxy (exact where the proxy has the commit).
go mod edit -go=1.17 \
  -replace github.com/client9/reopen=../reopen -require github.com/client9/reopen@v0.0.0 \
  -replace github.com/flynn/json5=../json5 -require github.com/flynn/json5@v0.0.0 \
  -require github.com/beorn7/perks@v0.0.0-20160804104726-4c0e84591b9a \
  -require github.com/golang/protobuf@v1.0.0 \
  -require github.com/hashicorp/consul@v0.0.0-20171026175957-610f3c86a089 \
  -require github.com/hashicorp/go-cleanhttp@v0.5.0 \
  -require github.com/hashicorp/go-rootcerts@v0.0.0-20160503143440-6bb64b370b90 \
  -require github.com/hashicorp/serf@v0.8.2-0.20171022020050-c20a0b1b1ea9 \
  -require github.com/matttproud/golang_protobuf_extensions@v1.0.1 \
  -require github.com/mitchellh/go-homedir@v0.0.0-20161203194507-b8bc1bf76747 \
  -require github.com/mitchellh/mapstructure@v0.0.0-20170307201123-53818660ed49 \
  -require github.com/prometheus/client_golang@v0.9.0-pre1.0.20180209125602-c332b6f63c06 \
  -require github.com/prometheus/client_model@v0.0.0-20170216185247-6f3806018612 \
  -require github.com/prometheus/common@v0.0.0-20180110214958-89604d197083 \
  -require github.com/prometheus/procfs@v0.0.0-20180125133057-cb4147076ac7 \
  -require github.com/sirupsen/logrus@v1.0.4 \
  -require golang.org/x/sys@v0.0.0-20171026204733-164713f0dfce
# logrus's terminal check needs golang.org/x/crypto, which glide did not pin: go resolves it.
mkdir -p "$(dirname "$OUT")"
GOFLAGS=-mod=mod go build -trimpath \
  -ldflags "-s -w -X github.com/joyent/containerpilot/version.Version=3.8.0 -X github.com/joyent/containerpilot/version.GitHash=$(git rev-parse --short HEAD)" \
  -o "$OUT.tmp" . >&2
mv "$OUT.tmp" "$OUT"
"$OUT" -version >&2
echo "$OUT"
