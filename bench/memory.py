"""Peak resident memory of a whole process tree, sampled from a background thread.

The sampler runs in the *parent* (``bench.run``) and watches the worker subprocess
and all its descendants, so the measured process gets no extra thread (a live thread
would change how zhsearch starts its worker pool: forkserver instead of fork).
The worker records wall-clock phase windows; ``phase_peaks`` matches them up.
"""

import threading
import time

import psutil


def tree_rss(proc):
    """RSS in bytes of ``proc`` plus all its live descendants (shared pages counted per process)."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


class TreeSampler:
    """Context manager sampling ``(time.time(), tree RSS)`` of ``pid`` every ``interval`` s."""

    def __init__(self, pid, interval=0.05):
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.time(), tree_rss(self.proc)))
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def phase_peaks(samples, phases):
    """Peak RSS per phase, from samples and ``{phase: [start, end]}`` wall-clock windows."""
    peaks = {}
    for name, (start, end) in phases.items():
        inside = [rss for t, rss in samples if start <= t <= end]
        peaks[name] = max(inside, default=0)
    peaks["whole run"] = max((rss for _, rss in samples), default=0)
    return peaks
