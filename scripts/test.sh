#!/usr/bin/env bash
# The tests: installs what they use beyond the .NET SDK (Debian's python3-numpy and python3-scipy, for the checks
# that NumPy and SciPy read our files and we read theirs; Debian's dataset-fashion-mnist, for the README's quickstart,
# which a test runs against the packed NuGet package; Debian's openmpi-bin, for the distributed tests under mpirun), then
# runs `dotnet test -c Release`.
# Extra arguments go to dotnet test (e.g. --no-build, --filter Sparse).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! /usr/bin/python3 -c "import numpy, scipy" >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing python3-numpy and python3-scipy (Debian) for the file-format tests ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q python3-numpy python3-scipy >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q python3-numpy python3-scipy >/dev/null; }
  else
    echo "The tests need Debian's python3-numpy and python3-scipy: sudo apt-get install python3-numpy python3-scipy" >&2
    exit 1
  fi
fi

if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing dataset-fashion-mnist (Debian) for the quickstart test ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null; }
  else
    echo "The quickstart test needs Debian's dataset-fashion-mnist: sudo apt-get install dataset-fashion-mnist" >&2
    exit 1
  fi
fi

if [ ! -x /usr/bin/mpirun ] || ! compgen -G "/usr/lib/*/libmpi.so.40" >/dev/null; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing openmpi-bin (Debian) for the distributed tests ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q openmpi-bin >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q openmpi-bin >/dev/null; }
  else
    echo "The distributed tests need Open MPI: sudo apt-get install openmpi-bin" >&2
    exit 1
  fi
fi

exec dotnet test -c Release "$@"
