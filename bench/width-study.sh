#!/usr/bin/env bash
# Issue 26's width study on Fashion-MNIST: the dense 784-1024-512-10 (1 332 224 weights) against sparse 784-W-W-W-10
# networks with as many stored weights (Erdős–Rényi overall density 1 332 224 / weights of the dense 784-W-W-W-10), for
# W in WIDTHS, each with a static support, SET and RigL, the same epochs and schedule for all:
#   static  --overall-density d
#   set     + --prune "SET(0.3)" --grow Random                       (SET: once per epoch, ζ = 0.3)
#   rigl    + --prune "Magnitude(0.3)" --grow Gradient --grow-weights Zero --prune-interval 100 --prune-cosine-decay 0.75
#           (RigL's defaults: ΔT = 100 batches, α = 0.3 decayed by a cosine to 0 at 3/4 of the run)
# He initialisation (sparse fan-in: the stored weights per output), Nesterov(0.9), lr 0.01, batch 100, seed S.
# Resumable: every run writes a checkpoint after each epoch and a run that was stopped goes on from it when the script
# is started again (the epochs of each part are logged to their own CSV; the report merges them). A finished run is
# skipped. Then `Nerva.Bench widthreport` writes the table (accuracy, epoch time, peak memory, stored weights) and the
# picture (accuracy against width, one line per method, the dense network as a horizontal line).
#   EPOCHS=20 WIDTHS="1024 4096 16384 65536" METHODS="static set rigl" SEEDS="1" THREADS=2 bash bench/width-study.sh
# Tuning: EXTRA options go to every run, DENSE_EXTRA to the dense one and SPARSE_EXTRA to the sparse ones (split at
# spaces; a value holds none), into a folder of their own, e.g.
#   OUT=bench/results/width-study/tuned EXTRA="--learning-rate-scheduler MultiStepLR(lr=0.02,milestones=12|17,gamma=0.1)" \
#   DENSE_EXTRA="--dropouts 0.2;0.1;0" SPARSE_EXTRA="--dropouts 0.1;0.1;0.1;0" WIDTHS=1024 bash bench/width-study.sh
# DEPTH (default 3) sets the hidden layers of the sparse networks, 784-W-…-W-10 (DEPTH of them), the density matched to
# that network's dense weights; its runs are named wW-METHOD-sS for 3 and wWdDEPTH-METHOD-sS otherwise.
# Run it with `nice -n 19` beside other work: the accuracies do not depend on the load, the epoch times do.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${EPOCHS:-20}
widths=${WIDTHS:-"1024 4096 16384 65536"}
methods=${METHODS:-"static set rigl"}
seeds=${SEEDS:-1}
threads=${THREADS:-2}
depth=${DEPTH:-3}
[[ $depth =~ ^[1-9][0-9]*$ ]] || { echo "DEPTH must be the number of hidden layers, a whole number from 1 up; got '$depth'" >&2; exit 1; }
out=${OUT:-bench/results/width-study}
read -r -a extra <<< "${EXTRA:-}"
read -r -a dense_extra <<< "${DENSE_EXTRA:-}"
read -r -a sparse_extra <<< "${SPARSE_EXTRA:-}"
mkdir -p "$out/checkpoints"
source scripts/debian.sh
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need dataset-fashion-mnist "the width study"
dotnet build -c Release src/Nerva.Cli -v quiet -nologo >/dev/null
dotnet build -c Release bench/Nerva.Bench -v quiet -nologo >/dev/null
mlp=(dotnet src/Nerva.Cli/bin/Release/net10.0/mlp.dll)
common=(--dataset fashion-mnist --loss SoftmaxCrossEntropy --layer-weights He --optimizers "Nesterov(0.9)" --learning-rate 0.01
        --batch-size 100 --epochs "$epochs" --threads "$threads" "${extra[@]}")

# run NAME ARGS…: trains (or goes on with) one network unless it is done; its parts' logs are NAME.<start time>.csv
run() {
  local name=$1; shift
  local checkpoint=$out/checkpoints/$name
  if [ -f "$out/$name.done" ]; then echo "done already: $name"; return; fi
  local resume=()
  [ -f "$checkpoint/checkpoint.npz" ] && resume=(--resume "$checkpoint")
  local stamp; stamp=$(date +%s)
  echo "$(date -u +%H:%M:%S) $name${resume:+ (resumed)}"
  /usr/bin/time -f "%M" -o "$out/$name.$stamp.kb" "${mlp[@]}" "${common[@]}" "$@" --checkpoint "$checkpoint" "${resume[@]}" \
    --log "$out/$name.$stamp.csv" >> "$out/$name.txt"
  touch "$out/$name.done"
}

for seed in $seeds; do
  run "dense-s$seed" --layers "ReLU;ReLU;Linear" --layer-sizes "784;1024;512;10" --seed "$seed" "${dense_extra[@]}"
  for W in $widths; do
    density=$(awk -v w="$W" -v d="$depth" 'BEGIN {printf "%.8g", 1332224 / (784 * w + (d - 1) * w * w + 10 * w)}')
    layers="$(printf 'ReLU;%.0s' $(seq "$depth"))Linear"
    sizes="784$(printf ";$W%.0s" $(seq "$depth"));10"
    net=w$W; [ "$depth" = 3 ] || net=w${W}d$depth
    sparse=(--layers "$layers" --layer-sizes "$sizes" --overall-density "$density" --seed "$seed" "${sparse_extra[@]}")
    for method in $methods; do
      case $method in
        static) run "$net-static-s$seed" "${sparse[@]}" ;;
        set) run "$net-set-s$seed" "${sparse[@]}" --prune "SET(0.3)" --grow Random ;;
        rigl) run "$net-rigl-s$seed" "${sparse[@]}" --prune "Magnitude(0.3)" --grow Gradient --grow-weights Zero --prune-interval 100 --prune-cosine-decay 0.75 ;;
        *) echo "unknown method '$method' (valid: static, set, rigl)" >&2; exit 1 ;;
      esac
    done
  done
done
dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll widthreport "$out"
