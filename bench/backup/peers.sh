#!/bin/sh
# Build the backup benchmark's peers into a cache outside the repository, once:
#   restic 0.18.1 and rclone, from the Go module proxy (`go install`, GOPROXY as the
#   environment says). Prints the directory that holds both binaries.
#
#   bench/backup/peers.sh            # -> ~/.cache/pilotfish/bench-peers/bin
#   PATH="$(bench/backup/peers.sh):$PATH" npx tsx bench/backup/run.ts ...
set -eu
RESTIC_VERSION=${RESTIC_VERSION:-v0.18.1}
RCLONE_VERSION=${RCLONE_VERSION:-v1.76.0}
CACHE=${PILOTFISH_CACHE:-$HOME/.cache/pilotfish}
BIN="$CACHE/bench-peers/bin"
LOG="$CACHE/logs"
mkdir -p "$BIN" "$LOG"
build() { # name module version
  out="$BIN/$1-$3"
  if [ ! -x "$out" ]; then
    tmp=$(mktemp -d)
    echo "building $1 $3 (log: $LOG/bench-$1.log)" >&2
    GOBIN="$tmp" CGO_ENABLED=0 nice -n 10 go install -trimpath -ldflags='-s -w' "$2@$3" >"$LOG/bench-$1.log" 2>&1
    mv "$tmp/$1" "$out"
    rmdir "$tmp"
  fi
  ln -sf "$1-$3" "$BIN/$1"
}
build restic github.com/restic/restic/cmd/restic "$RESTIC_VERSION"
build rclone github.com/rclone/rclone "$RCLONE_VERSION"
echo "$BIN"
