#!/bin/sh
# 10,000 zombies at once: perl forks N children that exit at once and never reaps them; when
# perl exits they are all re-parented to PID 1 together. Then wait until the init has reaped
# them all (the count of processes in /proc is back to what it was) and, if REAP_OUT is set,
# append the time that took in ms. Run as PID 1's main job or child, in a new PID namespace.
# Usage: reap.sh [N]   (default 10000)
n=${1:-10000}
exec perl -e '
  use Time::HiRes qw(time);
  my $n = shift;
  sub procs { opendir(my $d, "/proc") or die; my $c = grep { /^\d+$/ } readdir($d); closedir($d); $c }
  my $base = procs();
  my $kid = fork // die "fork: $!";
  if ($kid == 0) {
    for (1 .. $n) { my $p = fork; die "fork: $!" unless defined $p; exit 0 if $p == 0 }
    exit 0;   # never reaps: its $n zombies go to PID 1
  }
  waitpid($kid, 0);
  my $t0 = time;
  while (procs() > $base) { }
  my $ms = (time - $t0) * 1000;
  if ($ENV{REAP_OUT}) { open(my $f, ">>", $ENV{REAP_OUT}) or die; printf $f "%.1f\n", $ms }
' "$n"
