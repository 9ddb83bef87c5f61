#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: capture gemm-torch-fp16 and -fp32 with NVML telemetry beside the demo bench's
# simulated shunt, and print NVML's sampled energy against its own energy counter over [begin, end].
# The shunt there is simulated (it follows CPU time): compare NVML with itself, not with it.
set -u
out="${OUT:-nvml-out}"; mkdir -p "$out"
sed 's/telemetry = "off"/telemetry = "nvml"/' resources/demo_bench.toml >"$out/nvml_bench.toml"
for dt in fp16 fp32; do
  reps=6000; [ $dt = fp32 ] && reps=500
  python3 main.py capture --bench "$out/nvml_bench.toml" --workload gemm-torch-$dt --param reps=$reps \
    --out "$out" --label nvml-$dt --json >"$out/capture_$dt.json" 2>"$out/capture_$dt.err"
  echo "capture $dt rc=$?"
done
python3 - "$out" <<'PY'
import glob, json, sys
import h5py, numpy as np
for f in sorted(glob.glob(sys.argv[1] + "/*.h5")):
    with h5py.File(f, "r") as h:
        run = h["runs/001"]
        rec = json.loads(run["results"].attrs["record_json"])
        tel = run["telemetry"][()]
        rails = np.array([r.decode() if isinstance(r, bytes) else str(r) for r in tel["rail"]])
        gpu = tel[rails == "NVML_GPU0"]
        dt = np.diff(gpu["time_s"])
        print(f.split("/")[-1], "label", rec.get("label"), "duration_s %.3f" % rec["duration_s"], "ops %.4g" % rec["ops"],
              "nvml_sampled_J %.1f" % rec.get("telemetry_energy_j", float("nan")),
              "nvml_counter_J %.1f" % rec.get("telemetry_counter_energy_j", float("nan")),
              "sampled_vs_counter_pct %.2f" % (100 * (rec["telemetry_energy_j"] / rec["telemetry_counter_energy_j"] - 1)),
              "J_per_GOp(nvml counter) %.4g" % (rec["telemetry_counter_energy_j"] / rec["ops"] * 1e9),
              "GOp_per_s %.4g" % (rec["ops"] / rec["duration_s"] / 1e9),
              "samples", len(gpu), "median_interval_s %.4f" % np.median(dt), "max_W %.1f" % gpu["watts"].max())
PY
