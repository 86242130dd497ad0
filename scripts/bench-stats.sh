# SPDX-License-Identifier: Apache-2.0
# bench-stats.sh - medians for the benchmark scripts (sourced).
#   med FILE   the median of the numbers in FILE, one a line
#   ci FILE    the 95% confidence interval of that median: the order
#              statistics k and n+1-k, k = floor(n/2 - 0.98 sqrt(n))
#              (binomial, normal approximation; no assumption about the noise)
med() { sort -g "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ci() { sort -g "$1" | awk '{v[NR]=$1} END {k=int(NR/2 - 0.98*sqrt(NR)); if (k < 1) k = 1; print v[k], v[NR+1-k]}'; }
