"""Taking a run's windows with the scope (part of Capture): arming, waiting for the trigger, the idle window,
the sampled windows spread over a long run, and each window's download streamed into the session with the
scope's self-check. Works on Capture's state: req, scope, applied, cancel and the progress reporter. No Qt."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from app.bench.connections import trigger_level_v
from app.capture.live_run import RunLive, plan_window
from app.capture.stream import WindowStream
from app.errors import JoulebenchError
from app.measure.analysis import WindowData
from instruments.errors import CancelledError, InstrumentError, TriggerTimeoutError
from instruments.waveform import Waveform

log = logging.getLogger(__name__)
ARM_SETTLE_S = 0.05
TRIGGER_POLL_S = 0.01          # the run's trigger is polled this often: the poll's gap bounds the trigger instant


@dataclass(frozen=True)
class TriggerStamps:
    """Desktop monotonic instants around a run's acquisition (docs/method.md, the coarse bound): armed (just
    before the arm command), the start of the last poll that found it not complete, and the end of the first
    poll that found it complete."""
    armed_s: float | None
    not_done_s: float | None
    done_s: float

    def done_after_s(self, window_s: float) -> float | None:
        """The acquisition was not complete before this instant: the last "not yet", or one window after
        arming (it needs the pre-trigger and the post-trigger parts of the record)."""
        floor = None if self.armed_s is None else self.armed_s + window_s
        cands = [t for t in (self.not_done_s, floor) if t is not None]
        return max(cands) if cands else None


class WindowTaking:
    """The scope side of a run, mixed into Capture."""

    def _arm_for_run(self) -> None:
        """Single acquisition on the current's rising edge, or on the marker's when the bench has one."""
        bench = self.req.bench
        self.trigger_stamps = None
        self._armed_desktop_s = time.monotonic()
        if bench.marker is not None:
            self.scope.arm_single(bench.marker.channel, bench.marker.threshold_v)
        else:
            self.scope.arm_single(bench.current.channel, trigger_level_v(bench))

    def _idle_window(self, run, n: int, where: str) -> WindowData:
        """A dedicated idle capture: the board left quiet for settle_s, then a forced acquisition."""
        acq = self.req.bench.acquisition
        window_s = self.applied.acquisition.window_s
        self.report("idle", self.run_fraction(n, 0.01 if where == "before" else 0.9),
                     f"run {n}: letting the board settle {acq.settle_s:g} s, then an idle window ({where} the run)", n)
        deadline = time.monotonic() + acq.settle_s
        while time.monotonic() < deadline:
            self.check_cancel()
            time.sleep(0.05)
        self.scope.arm_single(self.req.bench.current.channel, trigger_level_v(self.req.bench))
        time.sleep(acq.pretrigger * window_s + ARM_SETTLE_S)
        self.scope.force_trigger()
        self.scope.wait_complete(window_s * 2 + 10, self.cancel)
        return self._fetch_window(run, n, 0, 0.0, attrs={"role": f"idle ({where} the run)"})

    def _wait_trigger(self, n: int, worker: threading.Thread | None = None) -> None:
        """Poll the scope until the run's acquisition is complete, stamping each poll on the desktop's clock:
        the last "not yet" and the first "done" bound the completion, hence the trigger (`trigger_stamps`)."""
        timeout_s = self.req.bench.acquisition.trigger_timeout_s
        start = time.monotonic()
        not_done = None
        while True:
            if self.cancel.is_set():
                raise CancelledError(f"{self.scope.t.name}: waiting for the trigger was cancelled")
            asked = time.monotonic()
            done = self.scope.acquisition_done()
            answered = time.monotonic()
            if done:
                self.trigger_stamps = TriggerStamps(getattr(self, "_armed_desktop_s", None), not_done, answered)
                log.debug("run %d: complete between %s and %.6f s (desktop)", n, not_done, answered)
                return
            not_done = asked
            if answered - start > timeout_s:
                raise TriggerTimeoutError(self._no_trigger_advice())
            time.sleep(TRIGGER_POLL_S)

    def _no_trigger_advice(self) -> str:
        """What the current did while we waited, against the trigger level."""
        bench = self.req.bench
        level = bench.acquisition.trigger_level_a
        try:
            self.scope.force_trigger()
            self.scope.wait_complete(self.applied.acquisition.window_s * 2 + 5)
            w = self.scope.fetch(bench.current.channel)
            a_per_v = bench.current.a_per_v
            zero = bench.current.zero_offset_v or 0.0
            codes = np.asarray(w.codes)
            lo, hi, mean = (float(x) * w.gain_v + w.offset_v - zero for x in (codes.min(), codes.max(),
                                                                               codes.mean(dtype=np.float64)))
            lo, hi = sorted((lo * a_per_v, hi * a_per_v))
            seen = (f"the current stayed between {lo:.4g} A and {hi:.4g} A (mean {mean * a_per_v:.4g} A), "
                    f"never rising through the trigger level of {level:.4g} A")
        except JoulebenchError as exc:
            seen = f"the current could not be measured afterwards ({exc})"
        if bench.marker is not None:
            return (f"no trigger within {bench.acquisition.trigger_timeout_s:g} s on the marker (channel "
                    f"{bench.marker.channel}, {bench.marker.threshold_v:g} V): the marker never rose; check that "
                    f"marker.high ({bench.marker.high!r}) works on the board and the GPIO is wired to the scope. "
                    f"Meanwhile {seen}.")
        return (f"no trigger within {bench.acquisition.trigger_timeout_s:g} s: {seen}. Set "
                "acquisition.trigger_level_a between the idle and the busy current (Auto-range proposes one), and "
                "check that the workload loads the board.")

    def _fetch_window(self, run, n: int, k: int, base: float, *, with_marker: bool = False,
                      attrs: dict | None = None, forced_at: float | None = None) -> WindowData:
        """Download both channels (and the marker) into the session while they arrive, scanning the power rows
        as they land (app/capture/stream.py); then the self-check and the window's summary."""
        bench = self.req.bench
        c, v = bench.current, bench.voltage
        waves: dict[str, Waveform] = {}
        chans = [("voltage", v.channel), ("current", c.channel)]
        if with_marker and bench.marker is not None and isinstance(bench.marker.channel, int):
            chans.append(("marker", bench.marker.channel))
        label = f"window {k}" if k else "idle window"
        window = run.begin_window()
        stream = WindowStream(window, shunt_ohm=c.shunt_ohm, amps_per_volt=c.amps_per_volt,
                              measured_at=v.measured_at, deskew_s=c.deskew_s, current_zero_v=c.zero_offset_v or 0.0)
        # the scope's own means of this acquisition, asked before the download so that nothing but local work
        # is left when its last byte lands (a failed question is raised by the self-check, after the download)
        scope_means = self._scope_means()
        self.scope.on_waveform = stream.announce
        self.scope.t.chunk_sink = stream.chunk
        try:
            for j, (name, ch) in enumerate(chans):
                def prog(done, total, j=j, ch=ch):
                    pct = 100.0 * done / total if total else 100.0
                    self.report("downloading", self.run_fraction(n, base + 0.05 * (j + done / max(total, 1))),
                                 f"run {n} {label}: downloading CH{ch} {pct:.0f} %", n)
                self.report("downloading", self.run_fraction(n, base + 0.05 * j),
                             f"run {n} {label}: downloading CH{ch}", n)
                stream.current = name if name != "marker" else None
                waves[name] = self.scope.fetch(ch, progress=prog, cancel=self.cancel)
        except BaseException as exc:
            stream.abandon(f"the download stopped: {exc}")
            raise
        finally:
            self.scope.on_waveform = None
            self.scope.t.chunk_sink = None
        trace, summary, means = stream.finish()
        checks = self._self_check(waves, means, scope_means)
        self.report("analysing", self.run_fraction(n, base + 0.15), f"run {n} {label}: analysing", n)
        extra = {"captured_at_monotonic_s": time.monotonic(), "role": "run" if k == 1 else "sampled",
                 "self_check": checks, **(attrs or {})}
        if forced_at is not None:
            extra["forced_at_desktop_s"] = forced_at
        if "marker" in waves:
            window.write_channel("marker", waves["marker"], {"role": "begin/end marker GPIO"})
            self._marker_wave = waves["marker"]
        window.finish(summary, extra)
        data = WindowData(trace, summary)
        if forced_at is not None:
            self._forced_at[id(data)] = forced_at
        return data

    def _scope_means(self) -> dict[str, float | InstrumentError]:
        a = self.applied
        out: dict[str, float | InstrumentError] = {}
        for name, applied in (("voltage", a.voltage), ("current", a.current)):
            try:
                out[name] = self.scope.measured_mean_v(applied.channel)
            except InstrumentError as exc:
                out[name] = exc
        return out

    def _self_check(self, waves: dict[str, Waveform], means: dict[str, float],
                    scope_means: dict[str, float | InstrumentError]) -> dict:
        """The downloaded records against the scope's own account of the same acquisition (docs/method.md,
        "Check against the instrument itself"); a disagreement stops the capture with both values named."""
        a = self.applied
        out = {}
        for name, applied in (("voltage", a.voltage), ("current", a.current)):
            full_scale = self.scope.vertical_divisions * applied.volts_per_div
            scope_mean = scope_means[name]
            if isinstance(scope_mean, InstrumentError):
                raise scope_mean
            out[name] = self.scope.self_check(applied.channel, waves[name], a.acquisition.window_s, full_scale,
                                              mean_downloaded_v=means[name], mean_scope_v=scope_mean)
        return out

    def _sample_windows(self, run, n: int, windows: list[WindowData], worker: threading.Thread,
                        live: RunLive) -> None:
        """More windows inside [begin, end]: none before `begin` is seen, none once `end` is; spread over the
        run by its expected length (progress events, else expected_duration_s), else at widening gaps."""
        k_total = self.req.windows
        window_s = self.applied.acquisition.window_s
        pre = self.req.bench.acquisition.pretrigger
        k = 1
        while worker.is_alive() and not live.end_seen:
            self.check_cancel()
            begin, clock = live.begin_s, live.clock()
            if begin is None or clock is None:
                live.changed.wait(0.05)
                live.changed.clear()
                continue
            t_est, basis = live.estimated_duration_s()
            plan = plan_window(k, k_total, begin, window_s, pre, t_est)
            if plan is None:
                return
            left = live.time_left_s()
            self.report("sampling window", self.run_fraction(n, 0.3 + 0.5 * (live.fraction_done() or 0.0)),
                         f"run {n}: sampled window {k} ({plan.basis})"
                         + (f", about {left:.0f} s left" if left is not None else ""), n)
            # the trigger is forced pretrigger·W after arming: arm that much before the planned instant
            arm_at = clock.offset_s + plan.board_time_s - pre * window_s - ARM_SETTLE_S
            if time.monotonic() < arm_at:
                live.changed.clear()
                live.changed.wait(min(0.1, arm_at - time.monotonic()))
                continue                     # re-plan: a progress event may have moved the estimate
            self.scope.arm_single(self.req.bench.current.channel, trigger_level_v(self.req.bench))
            time.sleep(pre * window_s + ARM_SETTLE_S)
            if live.end_seen or not worker.is_alive():
                log.info("run %d: the workload ended before sampled window %d; none is taken past the end", n, k)
                self.scope.stop()
                return
            forced_at = time.monotonic()
            self.scope.force_trigger()
            self.scope.wait_complete(window_s * 2 + 10, self.cancel)
            windows.append(self._fetch_window(run, n, k + 1, 0.3 + 0.5 * (live.fraction_done() or 0.0),
                                              forced_at=forced_at))
            k += 1
