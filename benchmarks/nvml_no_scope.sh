#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and no scope: telemetry-only captures (scope.resource = "none"), each after an
# NVML idle window: gemm-torch-fp16 twice, transformer-infer at two batch sizes (J/token, prefill and decode)
# and cnn-infer at two batch sizes (J/image), with an independent NVML sampler alongside. CHECKS
# (benchmarks/nvml_check.py; exits non-zero naming each failure): every capture exits 0; the independent
# counter within the counter-step bound; the instantaneous power within 3 % of the counter; idle power in
# [20, 400] W, dynamic energy above 0; at least 10 counter updates in each region; phases summing to the run;
# J per unit inside its band: GOp 1e-5..1 J, tokens 1e-6..10 J, images 1e-5..10 J (sanity bands: a unit or
# scale error of 1000x falls outside them). Usage: bash benchmarks/nvml_no_scope.sh [BATCH_LM_1 BATCH_LM_2
# BATCH_CNN_1 BATCH_CNN_2]
set -u
out="${OUT:-nvml-no-scope-out}"; mkdir -p "$out/sessions"
py="${PYTHON:-python3}"
lm1="${1:-8}"; lm2="${2:-64}"; cnn1="${3:-32}"; cnn2="${4:-256}"
fail=()
cat >"$out/no_scope_bench.toml" <<TOML
[scope]
resource = "none"
[target]
kind = "local"
workdir = "$out/work"
telemetry = "nvml"
TOML
"$py" benchmarks/nvml_sampler.py "$out/sampler.csv" --interval 0.01 & sampler=$!
sleep 1
cap() {   # label, then capture's arguments
  local label=$1; shift
  "$py" main.py capture --bench "$out/no_scope_bench.toml" --out "$out/sessions" --label "$label" --json "$@" \
    >"$out/capture_$label.json" 2>"$out/capture_$label.err" \
    || fail+=("capture $label exited non-zero: $(tail -n 3 "$out/capture_$label.err")")
}
cap gemm-fp16 --workload gemm-torch-fp16 --param reps=6000 --repeats 2
cap lm-b$lm1 --workload transformer-infer --param batch=$lm1
cap lm-b$lm2 --workload transformer-infer --param batch=$lm2
cap cnn-b$cnn1 --workload cnn-infer --param batch=$cnn1
cap cnn-b$cnn2 --workload cnn-infer --param batch=$cnn2
sleep 1
kill $sampler
"$py" benchmarks/nvml_check.py "$out/sessions" "$out/sampler.csv" --band GOp=1e-5:1 --band tokens=1e-6:10 \
  --band images=1e-5:10 | tee "$out/check.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail+=("checks failed: see $out/check.txt")
if [ ${#fail[@]} -gt 0 ]; then
  printf 'nvml_no_scope: FAILED: %s\n' "${fail[@]}" | tee "$out/FAILED.txt" >&2
  exit 1
fi
echo "nvml_no_scope: all checks passed" | tee "$out/PASSED.txt"
