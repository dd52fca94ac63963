#!/bin/sh
# An orphan storm: N times, a child starts a grandchild and exits at once, so the grandchild
# is re-parented to PID 1 (or the subreaper) and dies there a moment later. Run as the main
# job of Pilotfish or as tini's child; the init reaps N orphans while the storm goes on.
# Usage: storm.sh [N]   (default 10000)
exec perl -e '
  my $n = shift;
  for (1 .. $n) {
    my $kid = fork // die "fork: $!";
    if ($kid == 0) { my $g = fork // die "fork: $!"; exit 0 }
    waitpid($kid, 0);
  }
' "${1:-10000}"
