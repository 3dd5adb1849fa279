"""Peak resident memory of a whole process tree, sampled from a background thread."""

import threading

import psutil


def tree_rss(proc):
    """RSS in bytes of ``proc`` plus all its live descendants (shared pages counted per process)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


class PeakSampler:
    """Samples tree RSS every ``interval`` seconds and keeps the peak per named phase.

    Use ``sampler.phase = "build"`` to attribute the following samples to a phase.
    """

    def __init__(self, pid=None, interval=0.05):
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.phase = "startup"
        self.peaks = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _record(self):
        rss = tree_rss(self.proc)
        self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)

    def _run(self):
        while not self._stop.is_set():
            self._record()
            self._stop.wait(self.interval)

    def set_phase(self, name):
        """Close the current phase with one last sample and start ``name``."""
        self._record()
        self.phase = name
        self._record()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._record()
