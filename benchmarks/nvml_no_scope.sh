#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and no scope: a telemetry-only capture (scope.resource = "none") of
# gemm-torch-fp16 measured by NVML alone, three runs, then the record's energy, uncertainty, duration and J/GOp,
# and NVML's power readings against its energy counter over the same [begin, end].
set -u
out="${OUT:-nvml-no-scope-out}"; mkdir -p "$out"
cat >"$out/no_scope_bench.toml" <<TOML
[scope]
resource = "none"
[target]
kind = "local"
workdir = "$out/work"
telemetry = "nvml"
TOML
python3 main.py capture --bench "$out/no_scope_bench.toml" --workload gemm-torch-fp16 --param reps=6000 \
  --repeats 3 --out "$out" --label no-scope-fp16 --json >"$out/capture.json" 2>"$out/capture.err"
echo "capture rc=$?"
tail -n 20 "$out/capture.err"
python3 - "$out/capture.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for r in doc["runs"]:
    print("run %d: E %.2f J +- %.2f J (k=%.2f), T %.4f s, %.1f TFLOP/s, %.4g J/GOp +- %.2g, readings %.2f J (%+.2f %% vs counter), %s; %s"
          % (r["run"], r["energy_j"], r["uncertainty_j"], r["coverage_k"], r["duration_s"],
             r["ops"] / r["duration_s"] / 1e12, r["j_per_gop"], r["j_per_gop_uncertainty"], r["telemetry_energy_j"],
             100 * (r["telemetry_energy_j"] / r["energy_j"] - 1), r["energy_method"], r["measurand"]))
s = doc["summary"]
print("mean %.2f J +- %.2f (95 %% CI), J/GOp mean %.4g" % (s["energy_j_mean"], s["energy_j_ci95"] or 0, s["j_per_gop_mean"]))
PY
