"""Board facts: what the board is and how it is set up, recorded with every session.

One shell script runs on the board; every probe that is missing or refused is
recorded as "unavailable", never an error.
"""

from __future__ import annotations

from typing import Any

UNAVAILABLE = "unavailable"

_PROBES = {
    "uname": "uname -a",
    "nv_tegra_release": "cat /etc/nv_tegra_release",
    "nvpmodel": "nvpmodel -q",
    "cpu_governors": "cat /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor | sort | uniq -c",
    "jetson_clocks": "sudo -n jetson_clocks --show",
    "cpu_model": "grep -m1 -E '^(model name|Model|Hardware)' /proc/cpuinfo | cut -d: -f2-",
    "cpu_count": "getconf _NPROCESSORS_ONLN",
    "mem_total_kb": "awk '/^MemTotal:/ {print $2}' /proc/meminfo",
    "python3": "python3 --version",
    "ina3221_hwmon": "ls -d /sys/bus/i2c/drivers/ina3221/*/hwmon/hwmon* 2>/dev/null",
    "tegrastats": "command -v tegrastats",
    "nvidia_gpus": "nvidia-smi --query-gpu=name --format=csv,noheader",
}

FACTS_SCRIPT = "\n".join(
    f"echo '### {name}'; ( {cmd} ) 2>/dev/null || echo '{UNAVAILABLE}'" for name, cmd in _PROBES.items()
) + "\necho '### end'\n"


def parse_facts(text: str) -> dict[str, Any]:
    facts: dict[str, Any] = {name: UNAVAILABLE for name in _PROBES}
    current, lines = None, []
    for line in text.splitlines():
        if line.startswith("### "):
            if current in facts:
                value = "\n".join(lines).strip()
                facts[current] = value if value else UNAVAILABLE
            current, lines = line[4:].strip(), []
        else:
            lines.append(line)
    hw = facts.get("ina3221_hwmon", UNAVAILABLE)
    facts["ina3221_hwmon"] = [] if hw == UNAVAILABLE else [p for p in hw.split() if p.startswith("/")]
    facts["tegrastats"] = facts.get("tegrastats", UNAVAILABLE) != UNAVAILABLE
    gpus = facts.get("nvidia_gpus", UNAVAILABLE)
    facts["nvidia_gpus"] = [] if gpus == UNAVAILABLE else [g.strip() for g in gpus.splitlines() if g.strip()]
    return facts
