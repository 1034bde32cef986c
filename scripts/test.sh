#!/usr/bin/env bash
# The tests: installs what they use beyond the .NET SDK (Debian's python3-numpy and python3-scipy, for the checks
# that NumPy and SciPy read our files and we read theirs; Debian's python3-sklearn, whose tables (iris, digits, wine, …)
# the CSV and ML.NET tests read; Debian's dataset-fashion-mnist, for the README's quickstart,
# which a test runs against the packed NuGet package; Debian's openmpi-bin and mpich, for the distributed tests under
# either's mpirun), then runs `dotnet test -c Release`.
# Extra arguments go to dotnet test (e.g. --no-build, --filter Sparse).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/debian.sh

/usr/bin/python3 -c "import numpy, scipy" >/dev/null 2>&1 || need "python3-numpy python3-scipy" "the file-format tests"
[ -f /usr/lib/python3/dist-packages/sklearn/datasets/data/iris.csv ] || need python3-sklearn "its real tables (iris, digits, wine, ...) in the CSV and ML.NET tests"
[ -d /usr/share/datasets/fashion-mnist ] || need dataset-fashion-mnist "the quickstart test"
{ [ -x /usr/bin/mpirun.openmpi ] && compgen -G "/usr/lib/*/libmpi.so.40" >/dev/null; } || need openmpi-bin "the distributed tests"
{ [ -x /usr/bin/mpirun.mpich ] && compgen -G "/usr/lib/*/libmpich.so.12" >/dev/null; } || need mpich "the distributed tests on MPICH"

exec dotnet test -c Release "$@"
