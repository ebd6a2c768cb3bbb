#!/usr/bin/env bash
# Device check for the CUDA compute backend (needs a Linux x86_64 machine with an NVIDIA GPU, its driver and the
# CUDA 12 cuBLAS libraries, e.g. libcublas.so.12 from the CUDA toolkit or the nvidia-cublas-cu12 wheel).
# Builds spark-sam-core and spark-sam-gpu, then runs io.github.sparksam.gpu.GpuCheck, which compares CudaBackend
# with CpuBackend on random blocks (GEMMs in all transpose cases, an MLP forward/backward; float32 and float64;
# relative error within 1e-4 / 1e-10) and times both (median of REPS runs).
# Exit status: 0 pass, 1 mismatch, 2 no usable GPU (nothing compared). Output also in target/gpu-check/result.txt.
# Never run by CI: CI has no GPU. Usage: ci/gpu-check.sh [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
REPS="${1:-10}"
OUT=target/gpu-check
mkdir -p "$OUT"

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader | tee "$OUT/nvidia-smi.txt"
else
  echo "gpu-check: nvidia-smi not found (continuing; the probe will say whether CUDA works)"
fi
# cuBLAS: JCuda loads libcublas.so.12 / libcublasLt.so.12 through the normal library path. If they came with a
# pip wheel (nvidia-cublas-cu12) or a toolkit outside the loader's path, add their folder to LD_LIBRARY_PATH.
for d in /usr/local/cuda/lib64 /usr/local/cuda-12*/lib64 \
         $(python3 -c 'import nvidia.cublas, os; print(os.path.join(nvidia.cublas.__path__[0], "lib"))' 2>/dev/null || true); do
  if [ -e "$d/libcublas.so.12" ]; then export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
done
echo "gpu-check: LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"

t0=$(date +%s)
mvn -B -ntp -q -pl spark-sam-core,spark-sam-gpu -am -DskipTests install
mvn -B -ntp -q -pl spark-sam-gpu dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$OUT/cp.txt"
t1=$(date +%s)
echo "gpu-check: build $((t1 - t0)) s"

FLAGS="$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' pom.xml)"   # --add-opens, Vector API
set +e
java $FLAGS -Xmx8g -Djava.io.tmpdir="$PWD/$OUT" \
  -cp "spark-sam-gpu/target/classes:spark-sam-core/target/classes:$(cat "$OUT/cp.txt")" \
  io.github.sparksam.gpu.GpuCheck "$REPS" 2>&1 | tee "$OUT/result.txt"
rc=${PIPESTATUS[0]}
set -e
echo "gpu-check: exit $rc ($(( $(date +%s) - t1 )) s)"
exit "$rc"
