#!/usr/bin/env bash
# Benchmarks, written to bench/results/<cpu model>.md (about 3 minutes on 2 cores):
#  1. GEMM: our SGEMM against OpenBLAS (AVX-512 kernels) on the MLP shapes, medians of 5 alternating runs;
#  2. seconds per epoch of 3072-1024-512-10 and 784-1024-512-10 on synthetic data, at 1 and 2 threads.
# Needs Debian's libopenblas0-pthread (installed here when run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -e /usr/lib/x86_64-linux-gnu/libopenblas.so.0 ] && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q libopenblas0-pthread >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q libopenblas0-pthread >/dev/null; }
fi
# Debian 12's OpenBLAS takes Zen 5 for Haswell (AVX2); SkylakeX selects its AVX-512 kernels, the real ceiling.
# It must be in the environment before the library loads, so it is set here, overriding any inherited value
# (some machines export OPENBLAS_CORETYPE=Haswell); BENCH_OPENBLAS_CORETYPE chooses another.
if grep -q avx512f /proc/cpuinfo; then default_core=SkylakeX; else default_core=Haswell; fi
export OPENBLAS_CORETYPE=${BENCH_OPENBLAS_CORETYPE:-$default_core}
dotnet build -c Release bench/Nerva.Bench -v quiet -nologo >/dev/null
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1 | tr ' /' '--')
out="bench/results/${cpu:-unknown-cpu}.md"
{
  echo "# Benchmarks on ${cpu}, $(nproc) cores"
  echo
  echo "Command: \`bench/run.sh\` ($(date -u +%Y-%m-%d), .NET SDK $(dotnet --version))"
  echo
  echo "## GEMM"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll gemm 5
  echo
  echo "## Training epochs (ReLU, softmax cross-entropy, Momentum(0.9), batch 100; median of 3 epochs after one warm-up)"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll epoch 3
} | tee "$out"
