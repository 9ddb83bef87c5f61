#!/usr/bin/env python3
"""Joulebench's launcher, uploaded to the board with every workload (standard library only, Python >= 3.6).

    python3 jb_launcher.py [--timeout S] [--hwmon DIR]... [--tegrastats] [--nvml] [--interval S]
                           [--marker-high CMD --marker-low CMD] -- COMMAND

Runs COMMAND with /bin/sh in its own process group and session, stamps its
start and end with the board's monotonic clock, forwards its stdout and stderr
line by line, and kills the whole group (TERM, then KILL after a grace period)
when:
  * the timeout passes,
  * a line "cancel" arrives on stdin (the desktop cancelled),
  * stdin closes or stdout breaks (the connection dropped),
  * the launcher itself gets SIGHUP/SIGTERM/SIGINT.
Nothing of the run is left on the board. Its own messages are stdout lines
`@joulebench-launcher NONCE {json}` (NONCE from --nonce, new for every run, so
a workload's output cannot pass for the launcher's): start, telemetry samples,
marker, sync, exit. A stdin line "sync <desktop instant>" is answered at once
with a sync message stamped on the board's clock (the desktop's clock map).

The board-clock stamp taken immediately before the exec is given to the
command as JOULEBENCH_LAUNCH_T. With --marker-high/--marker-low, the launcher
runs those commands (e.g. `gpioset gpiochip0 12=1`) as soon as the workload
prints its `begin` and `end` events, so a scope channel wired to that GPIO
sees the measured region; each marker command gets the event's board time as
JOULEBENCH_EVENT_T.
"""

import time

_T0 = time.monotonic()          # the launcher's first instant, before its imports: it bounds the exec's round trip

import json  # noqa: E402 - after the first stamp on purpose
import os  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

PREFIX = "@joulebench-launcher "
_nonce = {"value": ""}          # per run, from --nonce: a workload cannot forge the launcher's messages
GRACE_S = 2.0
_out_lock = threading.Lock()
_state = {"reason": None, "broken": False}


def say(obj):
    line = PREFIX + _nonce["value"] + " " + json.dumps(obj, separators=(",", ":")) + "\n"
    put(sys.stdout, line)


def put(stream, text):
    with _out_lock:
        try:
            stream.write(text)
            stream.flush()
        except (BrokenPipeError, OSError, ValueError):
            _state["broken"] = True


def signal_group(pgid, sig):
    """Signal the whole group; members started through sudo run as root, so a permission error is retried
    with `sudo -n kill` (passwordless sudo for kill on the board) and reported when that fails too."""
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    try:
        done = subprocess.run(["sudo", "-n", "kill", "-%d" % sig, "--", "-%d" % pgid], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=10)
        if done.returncode == 0:
            return True
        why = done.stderr.decode("utf-8", "replace").strip()[-200:]
    except (OSError, subprocess.TimeoutExpired) as exc:
        why = str(exc)
    if not _state.get("sudo_warned"):
        _state["sudo_warned"] = True
        say({"event": "warning", "t": time.monotonic(),
             "message": "could not stop processes the workload started through sudo (permission denied; "
                        "`sudo -n kill` failed: %s). Allow the board user passwordless `sudo kill`, or keep sudo "
                        "out of the workload command (use target.setup for privileged steps)." % why})
    return False


def kill_group(proc, reason):
    if _state["reason"] is None:
        _state["reason"] = reason
    signal_group(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    signal_group(proc.pid, signal.SIGKILL)       # anything left in the group, even if the shell has exited


EVENT_PREFIX = "@joulebench "


def event_of(line):
    """The (name, t) of a workload's @joulebench event line, or None."""
    if not line.startswith(EVENT_PREFIX):
        return None
    try:
        obj = json.loads(line[len(EVENT_PREFIX):])
        return str(obj["event"]), float(obj["t"])
    except (ValueError, KeyError, TypeError):
        return None


def run_marker(command, name, t_event):
    """Run a marker command at once; report how long it took (the marker's latency)."""
    env = dict(os.environ, JOULEBENCH_EVENT_T=repr(t_event))
    t0 = time.monotonic()
    try:
        res = subprocess.run(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env, timeout=10)
        status, err = res.returncode, res.stderr.decode("utf-8", "replace").strip()[-300:]
    except (OSError, subprocess.TimeoutExpired) as exc:
        status, err = None, str(exc)
    say({"event": "marker", "t": t0, "edge": name, "t_event": t_event, "status": status,
         "took_s": time.monotonic() - t0, "stderr": err})


def pump(src, dst, proc, markers=None):
    for raw in iter(src.readline, b""):
        text = raw.decode("utf-8", "replace")
        if markers:
            ev = event_of(text)
            if ev is not None and ev[0] in markers:
                run_marker(markers.pop(ev[0]), ev[0], ev[1])
        put(dst, text)
        if _state["broken"]:
            kill_group(proc, "connection lost")
            break
    src.close()


def watch_stdin(proc):
    fd = sys.stdin.fileno()
    buf = b""
    while proc.poll() is None:
        try:
            ready, _, _ = select.select([fd], [], [], 0.2)
        except (OSError, ValueError):
            kill_group(proc, "connection lost")
            return
        if not ready:
            continue
        try:
            data = os.read(fd, 1024)
        except OSError:
            data = b""
        if not data:
            kill_group(proc, "connection lost")
            return
        t_read = time.monotonic()
        buf += data
        if b"cancel" in buf:
            kill_group(proc, "cancelled")
            return
        while b"\n" in buf:                     # "sync <desktop instant>": answered at once with the board's
            line, buf = buf.split(b"\n", 1)     # clock, so the desktop bounds the clocks' offset by a round trip
            if line.startswith(b"sync "):
                try:
                    say({"event": "sync", "t": t_read, "sent": float(line[5:])})
                except ValueError:
                    pass


def read_hwmon(root):
    """INA3221-style hwmon: in<N>_label, in<N>_input (mV), curr<N>_input (mA)."""
    rails = []
    try:
        names = os.listdir(root)
    except OSError:
        return rails
    for name in sorted(names):
        if not (name.startswith("in") and name.endswith("_label")):
            continue
        idx = name[2:-len("_label")]
        try:
            with open(os.path.join(root, name)) as fh:
                label = fh.read().strip()
            with open(os.path.join(root, "in%s_input" % idx)) as fh:
                mv = float(fh.read().strip())
            with open(os.path.join(root, "curr%s_input" % idx)) as fh:
                ma = float(fh.read().strip())
        except (OSError, ValueError):
            continue
        rails.append({"rail": label, "volts": mv / 1000.0, "amps": ma / 1000.0})
    return rails


def sample_hwmon(roots, interval, proc, stop):
    while True:
        done = stop.is_set() or proc.poll() is not None     # one reading more once the command has ended,
        t = time.monotonic()                                # so the readings span its `end`
        rails = []
        for root in roots:
            rails.extend(read_hwmon(root))
        if rails:
            say({"event": "telemetry", "source": "ina3221", "t": t, "rails": rails})
        if done:
            return
        stop.wait(interval)


def run_tegrastats(interval, stop):
    try:
        ts = subprocess.Popen(["tegrastats", "--interval", str(int(interval * 1000))], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        say({"event": "warning", "t": time.monotonic(), "message": "tegrastats could not start: %s" % exc})
        return
    try:
        for raw in iter(ts.stdout.readline, b""):
            say({"event": "tegrastats", "t": time.monotonic(), "line": raw.decode("utf-8", "replace").strip()})
            if stop.is_set():
                break
    finally:
        try:
            os.killpg(ts.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        ts.wait()


def nvml_devices(pynvml, visible):
    """(NVML index, handle) of the GPUs the workload can see, and a note on how they were chosen. visible is
    its CUDA_VISIBLE_DEVICES: unset, every GPU; empty, none; else indices or GPU-UUIDs (or their unique
    prefixes), read up to the first invalid entry as CUDA does. Indices are taken as NVML's (PCI bus order),
    which is CUDA's order when CUDA_DEVICE_ORDER=PCI_BUS_ID."""
    count = pynvml.nvmlDeviceGetCount()
    every = [(i, pynvml.nvmlDeviceGetHandleByIndex(i)) for i in range(count)]
    if visible is None:
        return every, "CUDA_VISIBLE_DEVICES unset: every GPU"
    chosen = []
    for entry in [e.strip() for e in visible.split(",")]:
        if entry.isdigit() and int(entry) < count:
            pick = [every[int(entry)]]
        elif entry.upper().startswith("GPU-"):
            pick = [d for d in every if str(pynvml.nvmlDeviceGetUUID(d[1])).upper().startswith(entry.upper())]
        else:
            pick = []
        if len(pick) != 1 or pick[0] in chosen:
            break
        chosen += pick
    return chosen, "CUDA_VISIBLE_DEVICES=%s" % visible


def nvml_power(pynvml, handle, instant, key):
    """(watts, field): the instantaneous field (NVML_FI_DEV_POWER_INSTANT) while the driver offers it, else
    nvmlDeviceGetPowerUsage (a running average, about 1 s on recent GPUs)."""
    if instant.get(key, True):
        try:
            fv = pynvml.nvmlDeviceGetFieldValues(handle, [getattr(pynvml, "NVML_FI_DEV_POWER_INSTANT", 186)])[0]
            if fv.nvmlReturn == 0:
                return fv.value.uiVal / 1000.0, "instant"
        except Exception:
            pass
        instant[key] = False                   # not offered: stop asking
    return pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0, "average"


def rapl_domains(root):
    """(rail, energy_uj path, max_energy_range_uj) of the Linux powercap RAPL zones readable here: the CPU
    packages and their subzones (dram, core, uncore). energy_uj is root-only on most kernels since 2020."""
    out = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return out
    for zone in names:
        if not zone.startswith(("intel-rapl:", "amd-rapl:")):
            continue
        path = os.path.join(root, zone)
        try:
            with open(os.path.join(path, "name")) as fh:
                name = fh.read().strip()
            with open(os.path.join(path, "max_energy_range_uj")) as fh:
                top = int(fh.read().strip())
            with open(os.path.join(path, "energy_uj")) as fh:
                int(fh.read().strip())
        except (OSError, ValueError):
            continue
        parent = zone.rsplit(":", 1)[0]
        prefix = ""
        if parent.count(":") >= 1 and parent in names:      # a subzone: name it after its package
            try:
                with open(os.path.join(root, parent, "name")) as fh:
                    prefix = fh.read().strip() + "_"
            except OSError:
                pass
        out.append(("RAPL_" + prefix + name, os.path.join(path, "energy_uj"), top))
    return out


def read_rapl(domains, state):
    """One reading of each RAPL zone, unwrapped: the counter runs from 0 to max_energy_range_uj and starts
    again, so a reading below the last one adds a whole range."""
    rails = []
    for rail, path, top in domains:
        try:
            t0 = time.monotonic()
            with open(path) as fh:
                raw = int(fh.read().strip())
            t1 = time.monotonic()
        except (OSError, ValueError):
            continue
        last, offset = state.get(rail, (raw, 0))
        if raw < last:
            offset += top + 1
        state[rail] = (raw, offset)
        rails.append({"rail": rail, "counter_j": (raw + offset) / 1e6, "t": (t0 + t1) / 2, "t_span_s": t1 - t0})
    return rails


def sample_nvml(interval, proc, stop):
    """NVIDIA GPUs through NVML (the nvidia-ml-py bindings), only those the workload can see: board power in
    mW (instantaneous where the driver offers it) and the total-energy counter in mJ where the GPU has one."""
    try:
        import pynvml
        pynvml.nvmlInit()
        handles, note = nvml_devices(pynvml, os.environ.get("CUDA_VISIBLE_DEVICES"))
    except Exception as exc:                   # ImportError, or NVMLError from a missing driver
        say({"event": "warning", "t": time.monotonic(),
             "message": "NVML telemetry could not start (%s); install nvidia-ml-py on the board and check the "
                        "NVIDIA driver, or set target.telemetry = \"off\"" % exc})
        return
    if not handles:
        say({"event": "warning", "t": time.monotonic(),
             "message": "NVML telemetry: the workload sees no GPU (%s), so no GPU is measured" % note})
    counters = {}
    instant = {}
    info = {"visible": os.environ.get("CUDA_VISIBLE_DEVICES"), "gpus": [i for i, _ in handles], "note": note}
    rapl = rapl_domains(os.environ.get("JOULEBENCH_POWERCAP_ROOT", "/sys/class/powercap"))
    rapl_state = {}
    info["rapl"] = [r[0] for r in rapl]
    try:
        while True:
            done = stop.is_set() or proc.poll() is not None     # one reading more after the command's end
            t = time.monotonic()
            rails = []
            for i, h in handles:
                rail = {"rail": "NVML_GPU%d" % i}
                # each reading is stamped with the middle of a timed bracket around its own driver call, and the
                # bracket's width is sent: on a busy board this thread can wait milliseconds (for the GIL, for a
                # core) between a clock reading and the call, which would move a counter reading by P·wait. The
                # counter is what the energy comes from, so its bracket holds its call alone.
                try:
                    t0 = time.monotonic()
                    rail["watts"], rail["power_field"] = nvml_power(pynvml, h, instant, i)
                    t1 = time.monotonic()
                except Exception:
                    continue
                if counters.get(i, True):
                    try:
                        c0 = time.monotonic()
                        rail["counter_j"] = pynvml.nvmlDeviceGetTotalEnergyConsumption(h) / 1000.0
                        t0, t1 = c0, time.monotonic()
                    except Exception:
                        counters[i] = False            # not supported on this GPU: stop asking
                rail["t"] = (t0 + t1) / 2
                rail["t_span_s"] = t1 - t0
                rails.append(rail)
            rails += read_rapl(rapl, rapl_state)     # the host's CPU packages and DRAM beside the GPUs
            if rails:
                msg = {"event": "telemetry", "source": "nvml", "t": t, "rails": rails}
                if info:
                    msg["nvml"], info = info, None     # said once, with the first readings
                say(msg)
            if done:
                return
            stop.wait(interval)
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def main(argv):
    t0 = _T0                         # the launcher's own start: its start-up precedes the exec
    timeout = None
    hwmon = []
    tegrastats = False
    nvml = False
    interval = 0.05
    markers = {}
    args = list(argv)
    while args and args[0] != "--":
        opt = args.pop(0)
        if opt == "--timeout":
            timeout = float(args.pop(0))
        elif opt == "--hwmon":
            hwmon.append(args.pop(0))
        elif opt == "--tegrastats":
            tegrastats = True
        elif opt == "--nvml":
            nvml = True
        elif opt == "--interval":
            interval = float(args.pop(0))
        elif opt == "--nonce":
            _nonce["value"] = args.pop(0)
        elif opt == "--marker-high":
            markers["begin"] = args.pop(0)
        elif opt == "--marker-low":
            markers["end"] = args.pop(0)
        else:
            sys.stderr.write("jb_launcher: unknown option %s\n" % opt)
            return 2
    if not args or len(args) < 2:
        sys.stderr.write("jb_launcher: usage: jb_launcher.py [options] -- COMMAND\n")
        return 2
    command = args[1]
    env = dict(os.environ)
    start = time.monotonic()
    env["JOULEBENCH_LAUNCH_T"] = repr(start)
    proc = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, env=env)
    say({"event": "start", "t": start, "pid": proc.pid, "t0": t0})

    def on_signal(signum, frame):
        kill_group(proc, "launcher got signal %d" % signum)

    for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    stop = threading.Event()
    threads = [threading.Thread(target=pump, args=(proc.stdout, sys.stdout, proc, markers)),
               threading.Thread(target=pump, args=(proc.stderr, sys.stderr, proc))]
    daemons = [threading.Thread(target=watch_stdin, args=(proc,))]
    samplers = []
    if hwmon:
        samplers.append(threading.Thread(target=sample_hwmon, args=(hwmon, interval, proc, stop)))
    if nvml:
        samplers.append(threading.Thread(target=sample_nvml, args=(interval, proc, stop)))
    if tegrastats:
        samplers.append(threading.Thread(target=run_tegrastats, args=(interval, stop)))
    for th in threads + daemons + samplers:
        th.daemon = True
        th.start()
    while True:
        try:
            status = proc.wait(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            if timeout is not None and time.monotonic() - start > timeout:
                kill_group(proc, "timeout")
    end = time.monotonic()
    signal_group(proc.pid, signal.SIGKILL)      # children the command left behind in its group
    stop.set()
    for th in threads:
        th.join(5)
    for th in samplers:                         # their last reading, taken after the command ended
        th.join(interval + 2)
    if markers.get("end") and "begin" not in markers:     # the marker went high and the workload never ended it
        run_marker(markers.pop("end"), "end", end)
    say({"event": "exit", "t": end, "status": status, "reason": _state["reason"], "start": start})
    return 0 if status == 0 else (status if 0 < status < 256 else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
