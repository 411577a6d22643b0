# Shared by the bench scripts, which run from the repository root: source bench/lib.sh.

# median reads numbers, one per line, and prints their median as an integer
# (awk's default %.6g would print large rates as 1.13582e+06).
median() { sort -n | awk '{a[NR]=$1} END {printf "%.0f\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# median2 is median with two decimals (small figures: µs of CPU per request).
median2() { sort -g | awk '{a[NR]=$1} END {printf "%.2f\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
