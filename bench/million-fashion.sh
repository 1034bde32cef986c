#!/usr/bin/env bash
# Issue 26: the million-neuron network on real data. 784-250000-250000-250000-250000-10 (a million hidden neurons) at
# Erdős–Rényi overall density DENSITY (default 1e-4: about 18.8 million stored weights), ReLU, He, Nesterov(0.9),
# batch 100, lr 0.01 and 0.001 after 3/4 of the run's epochs, trained on Fashion-MNIST with dynamic sparse training
# (SET(0.3) pruning and random growth once per epoch, the prune fraction decayed by RigL's cosine to 0 at 3/4 of the
# run), EPOCHS epochs (default 10), THREADS threads (default 2). After each epoch only the test accuracy is computed (the
# training set's statistics would add about a third of an epoch). Resumable: a checkpoint after every epoch, and
# starting the script again with the same EPOCHS (the schedules span the whole run) goes on from it. Writes into OUT
# (default bench/results/million-fashion): the tool's output (million.txt), each part's per-epoch log
# (million.<start>.csv) and peak memory in KB (million.<start>.kb), and the curve of the whole run (million.png, drawn
# from the parts' logs by `Nerva.Bench curves`).
#   EPOCHS=8 bash bench/million-fashion.sh
#   EPOCHS=9 bash bench/million-fashion.sh   (then: the ninth epoch of bench/results/million-fashion, from the eighth's
#                                             checkpoint; the milestone stays at 6 and neither schedule prunes after epoch 6)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${EPOCHS:-10}
drop=$((epochs * 3 / 4))
density=${DENSITY:-1e-4}
width=${WIDTH:-250000}
threads=${THREADS:-2}
out=${OUT:-bench/results/million-fashion}
mkdir -p "$out/checkpoints"
source scripts/debian.sh
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need dataset-fashion-mnist "the million-neuron run"
dotnet build -c Release src/Nerva.Cli -v quiet -nologo >/dev/null
dotnet build -c Release bench/Nerva.Bench -v quiet -nologo >/dev/null
resume=()
[ -f "$out/checkpoints/checkpoint.npz" ] && resume=(--resume "$out/checkpoints")
stamp=$(date +%s)
echo "$(date -u +%H:%M:%S) million-neuron Fashion-MNIST run${resume:+ (resumed)}"
/usr/bin/time -f "%M" -o "$out/million.$stamp.kb" dotnet src/Nerva.Cli/bin/Release/net10.0/mlp.dll \
  --dataset fashion-mnist --layers "ReLU;ReLU;ReLU;ReLU;Linear" --layer-sizes "784;$width;$width;$width;$width;10" \
  --overall-density "$density" --layer-weights He --optimizers "Nesterov(0.9)" \
  --learning-rate-scheduler "MultiStepLR(lr=0.01, milestones=$drop, gamma=0.1)" \
  --loss SoftmaxCrossEntropy --batch-size 100 --epochs "$epochs" --seed 1 --threads "$threads" \
  --prune "SET(0.3)" --grow Random --prune-cosine-decay 0.75 --test-statistics-only \
  --checkpoint "$out/checkpoints" "${resume[@]}" --log "$out/million.$stamp.csv" | tee -a "$out/million.txt"
logs=("$out"/million.*.csv)   # by start time: the glob sorts the names, whose stamps have the same number of digits
dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll curves "$out/million.png" "${logs[@]}"
