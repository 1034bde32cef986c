#!/usr/bin/env bash
# Benchmarks, written to bench/results/<cpu model>.md (about 17 minutes on 2 cores):
#  1. GEMM: our SGEMM against OpenBLAS (AVX-512 kernels) on the MLP shapes, medians of 5 alternating timings of ~50 ms, then
#     our AVX2 kernel against OpenBLAS's AVX2 (Haswell) kernels, as on a CPU without AVX-512;
#  2. where a training step goes: the micro-kernel's ceiling, and each phase of a step against the FMA peak;
#  3. seconds per epoch of 3072-1024-512-10 and 784-1024-512-10 on synthetic data, ours and TorchSharp's;
#  4. inference throughput and batch-1 latency, ours and TorchSharp's;
#  5. sparse epochs at Erdős–Rényi densities against dense epochs of ours and TorchSharp's;
#  6. one 3072→1024 layer, sparse at several densities against the dense layer;
#  7. the peak working set while training the CIFAR shape;
#  8. wide sparse layers (65 536 and 250 000 wide) against our dense layer, and where their time goes;
#  9. the million-neuron network 3072-250000-250000-250000-250000-10 (MILLION_SAMPLES, default 5 000 here; the README's
#     figures are from 50 000): build, train, save, load, evaluate;
# 10. the small CNN (2 convolutions with pooling) against TorchSharp's;
# 11. tables: CSV reading speed and memory (a generated 10⁶ × 100 file), and scikit-learn's digits in 5-fold
#     cross-validation: the Nerva ML.NET trainer against ML.NET's SDCA, L-BFGS and LightGBM and scikit-learn's MLPClassifier;
# 12. serving: a Predictor (Model.CreatePredictor) and Model.Predict against ONNX Runtime on the model's ONNX export
#     (dense and sparse, batches 1 to 1000, 1 and 2 threads), and eight threads predicting one row each against the same
#     calls one after another;
# 13. reader fuzzing: 20 000 mutated inputs per file reader.
# (The accuracy runs of the mlp tool are in bench/results/accuracy.md, not written here.)
# Needs Debian's libopenblas0-pthread and python3-sklearn (installed here when run as root) and the TorchSharp-cpu NuGet package.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -e /usr/lib/x86_64-linux-gnu/libopenblas.so.0 ] && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q libopenblas0-pthread >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q libopenblas0-pthread >/dev/null; }
fi
if [ ! -f /usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz ] && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q python3-sklearn >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q python3-sklearn >/dev/null; }
fi
# Debian 12's OpenBLAS takes Zen 5 for Haswell (AVX2); SkylakeX selects its AVX-512 kernels, the real ceiling.
# It must be in the environment before the library loads, so it is set here, overriding any inherited value
# (some machines export OPENBLAS_CORETYPE=Haswell); BENCH_OPENBLAS_CORETYPE chooses another.
if grep -q avx512f /proc/cpuinfo; then default_core=SkylakeX; else default_core=Haswell; fi
export OPENBLAS_CORETYPE=${BENCH_OPENBLAS_CORETYPE:-$default_core}
dotnet build -c Release bench/Nerva.Bench -v quiet -nologo >/dev/null
dotnet build -c Release bench/Nerva.Bench.Torch -v quiet -nologo >/dev/null
torch=bench/Nerva.Bench.Torch/bin/Release/net10.0
# TorchSharp's native shim needs GLIBCXX_3.4.32, which Debian 12 lacks: patched copy + preloaded symbol
peer() { ( source bench/torchsharp-glibcxx.sh "$torch/runtimes/linux-x64/native" && dotnet "$torch/Nerva.Bench.Torch.dll" "$@" ); }
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1 | tr ' /' '--')
# Hypervisors often show every AMD EPYC as plain "AMD EPYC": name the core from the CPU family, so that Zen 4 (one
# 512-bit FMA per cycle) and Zen 5 (two) keep files of their own
family=$(lscpu | sed -n 's/^CPU family: *//p' | head -n 1)
case "$(lscpu | sed -n 's/^Vendor ID: *//p' | head -n 1)/$family" in
  AuthenticAMD/25) if grep -q avx512f /proc/cpuinfo; then cpu="$cpu-Zen4"; else cpu="$cpu-Zen3"; fi ;;
  AuthenticAMD/26) cpu="$cpu-Zen5" ;;
esac
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
  echo "## GEMM on a CPU without AVX-512: our AVX2+FMA kernel (AVX-512 switched off, DOTNET_EnableAVX512=0) against OpenBLAS's Haswell kernels"
  echo
  DOTNET_EnableAVX512=0 OPENBLAS_CORETYPE=Haswell dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll gemm 3
  echo
  echo "## Where a training step goes: the micro-kernel alone, then each phase of a step of the epoch networks"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll profile 200
  echo
  echo "## Element-wise passes: our SIMD Sigmoid, tanh and ELU against MathF lane by lane; steps with each activation and optimizer"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll elementwise 300
  echo
  echo "## Training epochs against TorchSharp-cpu 0.107 (libtorch 2.10): ReLU, softmax cross-entropy, SGD with momentum 0.9, batch 100, synthetic data; median of 3 epochs after one warm-up each, ours and theirs timed in turns"
  echo
  peer epoch 3
  echo
  echo "## Inference, 3072-1024-512-10 (eval mode), against TorchSharp"
  echo
  peer infer
  echo
  echo "## Sparse training (issue 4): our sparse epochs at Erdős–Rényi overall densities, against dense epochs in the same run"
  echo
  peer sparse 2 2
  echo
  echo "## One sparse layer against the dense layer (issue 4: a sparse layer beats the dense one at density ≤ 0.2)"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll layer 7 2
  echo
  echo "## Peak working set, 3072-1024-512-10 on 50 000 samples, 2 threads (issue 5: ≤ dataset + 4 × parameters + 64 MB)"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll memory 2
  echo
  echo "## Wide sparse layers against our dense layer (issue 12: ≥ 0.08 × the dense rate at ≥ 65 536 wide), 2 threads; two-core capacity $(dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll capacity)"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll wide 5 2
  echo
  echo "## The million-neuron network (issue 12)"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll million "${MILLION_SAMPLES:-5000}" 2
  echo
  echo "## The small CNN of issue 15 against TorchSharp (2 conv + pooling, 784-128-10, batch 100, momentum 0.9; median of 3 epochs after a warm-up, in turns)"
  echo
  peer cnn 3
  echo
  echo "## CSV reading (issue 27: ≥ 200 MB/s of numeric text on one core, memory ≤ 1.2 × the float matrix)"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll csv 1000000 100
  echo
  echo "## scikit-learn's digits, 5-fold cross-validation, the same folds for every trainer (issue 27)"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll digits 5
  echo
  echo "## Serving (issue 28): a Predictor and Model.Predict against ONNX Runtime on the same ONNX export, in turns"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll serving 1
  echo
  echo "## Reader fuzzing (issue 13): 20 000 mutated inputs per reader"
  echo
  dotnet bench/Nerva.Bench/bin/Release/net10.0/Nerva.Bench.dll fuzz 20000 13
} | tee "$out"
