#!/usr/bin/env bash
# Runs the GPU workloads on a machine with an NVIDIA GPU and writes what they print under $OUT (or ./gpu-out):
# the CUDA agreement test, heat-slab torch/jax on cuda vs cpu, gemm-torch per dtype with nvidia-smi's
# board power sampled alongside. Usage: bash benchmarks/gpu_smoke.sh
set -u
out="${OUT:-gpu-out}"; mkdir -p "$out"
py="${PYTHON:-python3}"
{
  nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv
  "$py" -c 'import torch, jax; print("torch", torch.__version__, torch.cuda.is_available(), "jax", jax.__version__, jax.devices())'
} >"$out/env.txt" 2>&1
"$py" -m pytest -q -p no:cacheprovider tests/workloads/test_heat_slab.py -k "cuda or gemm" >"$out/pytest.txt" 2>&1
for dev in cpu cuda; do
  for be in torch jax; do
    echo "== $be $dev" >>"$out/heat_slab.txt"
    "$py" workloads/scripts/heat_slab.py --backend $be --device $dev --trials 5 --timesteps 2000 --warmup 1 --verify \
      >>"$out/heat_slab.txt" 2>&1
  done
done
for dt in fp32 fp16 bf16; do
  echo "== gemm $dt" >>"$out/gemm.txt"
  nvidia-smi --query-gpu=timestamp,power.draw,clocks.sm --format=csv,noheader -lms 100 >"$out/power_$dt.csv" 2>&1 &
  smi=$!
  sleep 1
  "$py" workloads/scripts/gemm_torch.py --dtype $dt --n 8192 --reps 300 --warmup 5 >>"$out/gemm.txt" 2>&1
  sleep 1
  kill $smi
done
