#!/usr/bin/env bash
# The main job: trains an MLP on Fashion-MNIST (Debian's dataset-fashion-mnist, no download from the web).
# Extra arguments go to mlp (options this script does not set, e.g. --threads 1 or --verbose);
# EPOCHS=3 changes the number of epochs; RANKS=2 trains data-parallel on 2 ranks of this machine (Open MPI's mpirun,
# installed here from Debian's openmpi-bin when missing; every rank takes one thread unless --threads says otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

data=/usr/share/datasets/fashion-mnist
if [ ! -f "$data/train-images-idx3-ubyte.gz" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Fashion-MNIST (Debian package dataset-fashion-mnist) ..."
    apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null; }
  else
    echo "Fashion-MNIST is not in $data. Install it with: sudo apt-get install dataset-fashion-mnist" >&2
    echo "(or pass the four idx files with: dotnet run -c Release --project src/Nerva.Cli -- --idx DIR ...)" >&2
    exit 1
  fi
fi

launch=()
if [ "${RANKS:-1}" != 1 ]; then
  if [ ! -x /usr/bin/mpirun ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      echo "Installing Open MPI (Debian package openmpi-bin) ..."
      apt-get install -y -q openmpi-bin >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q openmpi-bin >/dev/null; }
    else
      echo "RANKS=$RANKS needs Open MPI: sudo apt-get install openmpi-bin" >&2
      exit 1
    fi
  fi
  launch=(mpirun -q -np "$RANKS" --oversubscribe)
  [ "$(id -u)" = 0 ] && launch+=(--allow-run-as-root)
fi

dotnet build -c Release src/Nerva.Cli -v quiet -nologo >/dev/null
exec "${launch[@]}" dotnet src/Nerva.Cli/bin/Release/net10.0/mlp.dll \
  --dataset fashion-mnist \
  --layers "ReLU;ReLU;Linear" --layer-sizes "784;256;128;10" --layer-weights He \
  --optimizers "Nesterov(0.9)" --learning-rate 0.01 --loss SoftmaxCrossEntropy \
  --epochs "${EPOCHS:-10}" --batch-size 100 --seed 1 "$@"
