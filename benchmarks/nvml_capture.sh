#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: capture gemm-torch-fp16 and -fp32 with NVML telemetry beside the demo bench's
# simulated shunt, with an independent NVML sampler (benchmarks/nvml_sampler.py) running alongside, and CHECK
# (benchmarks/nvml_check.py; exits non-zero naming each failure): each capture exits 0; the independent
# sampler's counter agrees with the run's NVML counter within the counter-step bound; the instantaneous
# power integrates within 3 % of the counter; NVML beside the simulated shunt is flagged (that shunt follows
# CPU time: compare NVML with itself, not with it). Usage: bash benchmarks/nvml_capture.sh
set -u
out="${OUT:-nvml-out}"; mkdir -p "$out/sessions"
py="${PYTHON:-python3}"
fail=()
sed 's/telemetry = "off"/telemetry = "nvml"/' resources/demo_bench.toml >"$out/nvml_bench.toml"
"$py" benchmarks/nvml_sampler.py "$out/sampler.csv" --interval 0.01 & sampler=$!
sleep 1
for dt in fp16 fp32; do
  reps=6000; [ $dt = fp32 ] && reps=500
  "$py" main.py capture --bench "$out/nvml_bench.toml" --workload gemm-torch-$dt --param reps=$reps \
    --out "$out/sessions" --label nvml-$dt --json >"$out/capture_$dt.json" 2>"$out/capture_$dt.err" \
    || fail+=("capture $dt exited non-zero: $(tail -n 3 "$out/capture_$dt.err")")
done
sleep 1
kill $sampler
"$py" benchmarks/nvml_check.py "$out/sessions" "$out/sampler.csv" --expect-simulated-flag --band GOp=1e-5:1 \
  | tee "$out/check.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail+=("checks failed: see $out/check.txt")
if [ ${#fail[@]} -gt 0 ]; then
  printf 'nvml_capture: FAILED: %s\n' "${fail[@]}" | tee "$out/FAILED.txt" >&2
  exit 1
fi
echo "nvml_capture: all checks passed" | tee "$out/PASSED.txt"
