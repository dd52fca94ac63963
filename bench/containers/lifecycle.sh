#!/usr/bin/env bash
# lifecycle.sh pilotfish|init [IMAGE]: one container's life, as a user sees it, timed in phases:
#   start   `podman run -d` → the container's HEALTHCHECK passes (run by `podman healthcheck run`
#           in a loop: there is no systemd here to run it on its interval)
#   stop    `podman stop` → the container has exited
# pilotfish: the quickstart image as built (Pilotfish is PID 1: setup hook, app, health, hooks).
# init:      the same image and app without Pilotfish: `podman run --init` (catatonit as PID 1)
#            running `node examples/quickstart/app.mjs`, with the same health probe as its
#            HEALTHCHECK. Prints one line: "<mode> start_ms=N stop_ms=N exit=N".
set -euo pipefail
mode=${1:?pilotfish|init}
image=${2:-pilotfish-quickstart:latest}
now() { date +%s%N; }
name=pf-bench-$mode-$$
case $mode in
  pilotfish) args=() ;;
  init) args=(--init --entrypoint node --health-cmd 'node examples/quickstart/hooks/health.mjs' --health-interval 5s --health-timeout 10s --health-start-period 30s) ;;
  *) echo "lifecycle.sh: mode is pilotfish or init" >&2; exit 2 ;;
esac
trap 'podman rm -f -t 0 "$name" >/dev/null 2>&1 || true' EXIT
t0=$(now)
if [ "$mode" = init ]; then
  podman run -d --pull=never --name "$name" "${args[@]}" "$image" examples/quickstart/app.mjs > /dev/null
else
  podman run -d --pull=never --name "$name" "$image" > /dev/null
fi
until podman healthcheck run "$name" > /dev/null 2>&1; do
  [ "$(podman inspect -f '{{.State.Running}}' "$name")" = true ] || { echo "lifecycle.sh: $name exited" >&2; exit 1; }
done
t1=$(now)
podman stop -t 30 "$name" > /dev/null
t2=$(now)
echo "$mode start_ms=$(( (t1 - t0) / 1000000 )) stop_ms=$(( (t2 - t1) / 1000000 )) exit=$(podman inspect -f '{{.State.ExitCode}}' "$name")"
