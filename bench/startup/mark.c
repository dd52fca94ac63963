/* mark FILE: appends the realtime clock in nanoseconds to FILE as its first act, then exits.
 * The job of every bench/startup contender; built static so that no dynamic loading runs
 * before the clock is read. */
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  if (argc < 2) return 2;
  FILE *f = fopen(argv[1], "a");
  if (!f) return 1;
  fprintf(f, "%lld\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
  return fclose(f) ? 1 : 0;
}
