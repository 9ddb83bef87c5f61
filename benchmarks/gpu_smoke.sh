#!/usr/bin/env bash
# Runs the GPU workloads on a machine with an NVIDIA GPU, writes what they print under $OUT (or ./gpu-out), and
# CHECKS them: exits non-zero, naming each failed check, when
#   * the CUDA tests fail (pytest's exit code: torch and jax heat slab on CUDA, transformer and CNN CUDA vs CPU),
#   * a heat-slab backend/device gives another slab temperature than the CPU reference (relative 1e-9),
#   * a gemm run prints no end event, a non-finite checksum, or less than GEMM_MIN_TFLOPS (default 1).
# Usage: bash benchmarks/gpu_smoke.sh
set -u
out="${OUT:-gpu-out}"; mkdir -p "$out"
py="${PYTHON:-python3}"
fail=()
{
  nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv
  "$py" -c 'import torch, jax; print("torch", torch.__version__, torch.cuda.is_available(), "jax", jax.__version__, jax.devices())'
} >"$out/env.txt" 2>&1
"$py" -m pytest -q -p no:cacheprovider tests/workloads/test_heat_slab.py tests/workloads/test_gpu_backends.py \
  -k "cuda or gemm or jax" -rs >"$out/pytest.txt" 2>&1 || fail+=("pytest (CUDA tests): see $out/pytest.txt")
grep -q " passed" "$out/pytest.txt" && ! grep -q "SKIPPED.*\(no CUDA GPU here\|no JAX with a CUDA GPU\)" "$out/pytest.txt" \
  || fail+=("pytest: a CUDA test was skipped for want of a GPU, or none passed")
: >"$out/heat_slab.txt"
for dev in cpu cuda; do
  for be in torch jax; do
    echo "== $be $dev" >>"$out/heat_slab.txt"
    "$py" workloads/scripts/heat_slab.py --backend $be --device $dev --trials 5 --timesteps 2000 --warmup 1 --verify \
      >>"$out/heat_slab.txt" 2>&1 || fail+=("heat slab $be $dev exited non-zero")
  done
done
"$py" - "$out/heat_slab.txt" <<'PY' || fail+=("heat slab: backends disagree (see above)")
import re, sys
sys.path.insert(0, "workloads/scripts")
import heat_slab as hs
ref = hs.trial_scalar(2000)[0]
runs = re.findall(r"^== (\S+ \S+)$\n(?:.*\n)*?slab_temp (\S+)", open(sys.argv[1]).read(), re.M)
bad = [(name, float(v)) for name, v in runs if abs(float(v) - ref) > 1e-9 * abs(ref)]
print("heat slab reference (python, cpu) %.12g; runs: %s" % (ref, ", ".join("%s %s" % r for r in runs)))
sys.exit(1 if bad or len(runs) != 4 else 0)
PY
: >"$out/gemm.txt"
for dt in fp32 fp16 bf16; do
  echo "== gemm $dt" >>"$out/gemm.txt"
  nvidia-smi --query-gpu=timestamp,power.draw,clocks.sm --format=csv,noheader -lms 100 >"$out/power_$dt.csv" 2>&1 &
  smi=$!
  sleep 1
  "$py" workloads/scripts/gemm_torch.py --dtype $dt --n 8192 --reps 300 --warmup 5 >>"$out/gemm.txt" 2>&1 \
    || fail+=("gemm $dt exited non-zero")
  sleep 1
  kill $smi
done
"$py" - "$out/gemm.txt" "${GEMM_MIN_TFLOPS:-1}" <<'PY' || fail+=("gemm: a run failed its checks (see above)")
import json, math, sys
text, floor = open(sys.argv[1]).read(), float(sys.argv[2])
ok, runs = True, text.split("== gemm ")[1:]
for block in runs:
    dt = block.split()[0]
    ev = {e["event"]: e for e in (json.loads(l.split(" ", 1)[1]) for l in block.splitlines()
                                 if l.startswith("@joulebench "))}
    if "begin" not in ev or "end" not in ev:
        print("gemm", dt, "no begin/end"); ok = False; continue
    tflops = ev["end"]["ops"] / (ev["end"]["t"] - ev["begin"]["t"]) / 1e12
    good = math.isfinite(ev["end"]["result"]["checksum"]) and tflops >= floor
    ok &= good
    print("gemm %s %.1f TFLOP/s checksum %r %s" % (dt, tflops, ev["end"]["result"]["checksum"], "ok" if good else "FAIL"))
sys.exit(0 if ok and len(runs) == 3 else 1)
PY
if [ ${#fail[@]} -gt 0 ]; then
  printf 'gpu_smoke: FAILED: %s\n' "${fail[@]}" | tee "$out/FAILED.txt" >&2
  exit 1
fi
echo "gpu_smoke: all checks passed" | tee "$out/PASSED.txt"
