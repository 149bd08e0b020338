# Shared by the bench scripts (sourced): reading numbers out of the JSON lines they print.
# field NAME: the number after "NAME": on standard input.
field() { sed "s/.*\"$1\": \\([0-9.]*\\).*/\\1/"; }
# best: the smallest of the numbers on standard input.
best() { tr ' ' '\n' | sort -g | head -1; }
# median: the middle of the numbers on standard input (of an even count, the lower middle).
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# fastest CMD...: the faster median of 1 and 2 threads of a command given without --threads.
fastest() {
  for th in 1 2; do "$@" --threads "$th" | field median_ms; done | best
}
