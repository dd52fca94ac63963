#!/bin/sh
# preStart: make sure the state directory exists before the app starts.
set -eu
mkdir -p "${STATE_DIR:-/tmp/pilotfish-quickstart}"
echo "prepared ${STATE_DIR:-/tmp/pilotfish-quickstart}"
