#!/usr/bin/env bash
# The main job: trains an MLP on Fashion-MNIST (Debian's dataset-fashion-mnist, no download from the web).
# Extra arguments go to mlp (options this script does not set, e.g. --threads 1 or --verbose);
# EPOCHS=3 changes the number of epochs; RANKS=2 trains data-parallel on 2 ranks of this machine (Open MPI's mpirun,
# installed here from Debian's openmpi-bin when missing; every rank takes one thread unless --threads says otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/debian.sh
data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/train-images-idx3-ubyte.gz" ]; then
  { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; } ||
    echo "(or pass the four idx files with: dotnet run -c Release --project src/Nerva.Cli -- --idx DIR ...)" >&2
  need dataset-fashion-mnist "the main job (Fashion-MNIST)"
fi

launch=()
if [ "${RANKS:-1}" != 1 ]; then
  [ -x /usr/bin/mpirun ] || need openmpi-bin "RANKS=$RANKS (Open MPI's mpirun)"
  launch=(mpirun -q -np "$RANKS" --oversubscribe)
  [ "$(id -u)" = 0 ] && launch+=(--allow-run-as-root)
fi

dotnet build -c Release src/Nerva.Cli -v quiet -nologo >/dev/null
exec "${launch[@]}" dotnet src/Nerva.Cli/bin/Release/net10.0/mlp.dll \
  --dataset fashion-mnist \
  --layers "ReLU;ReLU;Linear" --layer-sizes "784;256;128;10" --layer-weights He \
  --optimizers "Nesterov(0.9)" --learning-rate 0.01 --loss SoftmaxCrossEntropy \
  --epochs "${EPOCHS:-10}" --batch-size 100 --seed 1 "$@"
