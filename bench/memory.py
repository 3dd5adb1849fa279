"""Peak resident memory of a whole process tree, sampled from a background thread.

The sampler runs in the *parent* (``bench.run``) and watches the worker subprocess
and all its descendants, so the measured process gets no extra thread (a live thread
would change how zhsearch starts its worker pool: forkserver instead of fork).
The worker records wall-clock phase windows; ``phase_peaks`` matches them up.
The same sampler watches an OpenSearch cluster's JVMs (several root pids) and,
with ``cpu=True``, their CPU time too (``phase_cpu``), since a cluster's work
happens outside the worker's process tree.
"""

import threading
import time

import psutil


def _tree(proc):
    """``proc`` and its live descendants."""
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_rss(proc):
    """RSS in bytes of ``proc`` plus all its live descendants (shared pages counted per process)."""
    total = 0
    for p in _tree(proc):
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def tree_cpu(proc):
    """CPU seconds of ``proc`` and its live descendants, with the children each has reaped.

    Counting reaped children matters under a forkserver: pool workers are its
    children, not the measured process's, so ``getrusage`` there misses them.
    """
    total = 0.0
    for p in _tree(proc):
        try:
            times = p.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


class TreeSampler:
    """Context manager sampling ``(time.time(), tree RSS[, tree CPU s])`` every ``interval`` s.

    :param pid: one root pid, or a list of them (their trees are summed).
    :param cpu: also record the trees' CPU seconds (for ``phase_cpu``).
    """

    def __init__(self, pid, interval=0.05, cpu=False):
        self.procs = [psutil.Process(p) for p in (pid if isinstance(pid, (list, tuple)) else [pid])]
        self.interval = interval
        self.cpu = cpu
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            rss = sum(tree_rss(p) for p in self.procs)
            if self.cpu:
                self.samples.append((time.time(), rss, sum(tree_cpu(p) for p in self.procs)))
            else:
                self.samples.append((time.time(), rss))
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
        inside = [s[1] for s in samples if start <= s[0] <= end]
        peaks[name] = max(inside, default=0)
    peaks["whole run"] = max((s[1] for s in samples), default=0)
    return peaks


def phase_cpu(samples, phases):
    """CPU seconds spent per phase, from ``cpu=True`` samples (to the sampling interval's precision)."""
    spent = {}
    for name, (start, end) in phases.items():
        inside = [s[2] for s in samples if start <= s[0] <= end]
        spent[name] = inside[-1] - inside[0] if inside else 0.0
    return spent
