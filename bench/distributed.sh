#!/usr/bin/env bash
# Data-parallel training over Open MPI on this machine (issue 25): epochs of 3072-1024-512-10 (dense, and sparse at
# Erdős–Rényi overall density 0.01) on 10 000 synthetic CIFAR-shaped samples, global batch 100, as
#   1 process × 1 thread,  1 process × 2 threads,  mpirun -np 2 × 1 thread each,
# alternating, ROUNDS rounds (default 3), the second epoch of each run timed (the first warms up). Prints a Markdown
# table of the medians and the ratios, the gradient values each step sums, and the all-reduce's share of a step
# (--timer brief); then the same epochs on 2 ranks with the gradient sums overlapped with backpropagation and after it,
# alternating in one run (Nerva.Bench overlap), and the all-reduce's α and β over Open MPI and MPICH (Nerva.Bench
# allreduce). Needs Debian's openmpi-bin, mpich and python3-numpy (installed here when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/debian.sh
{ [ -x /usr/bin/mpirun.openmpi ] && [ -x /usr/bin/mpirun.mpich ] && /usr/bin/python3 -c "import numpy" 2>/dev/null; } ||
  need "openmpi-bin mpich python3-numpy" "the distributed benchmark"
rounds=${ROUNDS:-3}
dotnet build -c Release src/Nerva.Cli -v quiet -nologo >/dev/null
dotnet build -c Release bench/Nerva.Bench -v quiet -nologo >/dev/null
mlp="dotnet src/Nerva.Cli/bin/Release/net10.0/mlp.dll"
bench="dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll"
data=$(mktemp -d)/cifar-shaped.npz
trap 'rm -rf "$(dirname "$data")"' EXIT
/usr/bin/python3 - "$data" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(1)
np.savez(sys.argv[1], Xtrain=rng.standard_normal((10000, 3072), dtype=np.float32), Ttrain=rng.integers(0, 10, 10000),
         Xtest=rng.standard_normal((1000, 3072), dtype=np.float32), Ttest=rng.integers(0, 10, 1000))
PY
common=(--load-dataset "$data" --layers "ReLU;ReLU;Linear" --layer-sizes "3072;1024;512;10" --layer-weights He --optimizers "Momentum(0.9)"
        --learning-rate 0.01 --loss SoftmaxCrossEntropy --batch-size 100 --epochs 2 --no-statistics --seed 1)
epoch2() { grep -E '^epoch +2 time:' | sed -E 's/.*time: ([0-9.]+)s/\1/'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "| network | 1 process × 1 thread (s) | 1 process × 2 threads (s) | 2 ranks × 1 thread (s) | 2 ranks / 1×1 | 2 ranks / 1×2 | values summed per step | all-reduce share |"
echo "|---|---|---|---|---|---|---|---|"
for density in 1 0.01; do
  extra=(); [ "$density" = 1 ] || extra=(--overall-density "$density")
  one=(); two=(); ranks=()
  for ((r = 0; r < rounds; r++)); do
    one+=("$($mlp "${common[@]}" "${extra[@]}" --threads 1 | epoch2)")
    two+=("$($mlp "${common[@]}" "${extra[@]}" --threads 2 | epoch2)")
    ranks+=("$(mpirun --allow-run-as-root --oversubscribe -q -np 2 --bind-to core $mlp "${common[@]}" "${extra[@]}" --threads 1 | epoch2)")
  done
  info=$(mpirun --allow-run-as-root --oversubscribe -q -np 2 --bind-to core $mlp "${common[@]}" "${extra[@]}" --threads 1 --verbose --timer brief)
  values=$(grep -oE 'sums [0-9]+ gradient values \([0-9.]+ MB\)' <<<"$info" | sed -E 's/sums //; s/ gradient values//')
  share=$(awk '/^all-reduce/ {a=$3} /^total time/ {t=$4} END {if (t > 0) printf "%.1f %%", 100*a/t}' <<<"$info")
  m1=$(printf '%s\n' "${one[@]}" | median); m2=$(printf '%s\n' "${two[@]}" | median); mr=$(printf '%s\n' "${ranks[@]}" | median)
  name=$([ "$density" = 1 ] && echo "dense 3072-1024-512-10" || echo "sparse, overall density $density")
  awk -v n="$name" -v a="$m1" -v b="$m2" -v c="$mr" -v v="$values" -v s="$share" \
    'BEGIN {printf "| %s | %.3f | %.3f | %.3f | %.2f | %.2f | %s | %s |\n", n, a, b, c, c/a, c/b, v, s}'
done
echo
mpirun.openmpi --allow-run-as-root --oversubscribe -q -np 2 --bind-to core $bench overlap "$rounds"
for launcher in "mpirun.openmpi --allow-run-as-root -q --bind-to core" "mpirun.mpich -bind-to core"; do
  echo; echo "${launcher%% *}:"
  $launcher -np 2 $bench allreduce 40 | tail -3
done
