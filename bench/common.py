"""What every benchmark shares: one pinned core, medians of interleaved runs, peak-memory probes, metric records."""
from __future__ import annotations

import gc
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

PROJECT_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_DIR / "var"
CACHE_DIR = VAR_DIR / "bench"


def pin_to_one_core() -> int | None:
    """Pin this process (and the children it starts afterwards) to one CPU; returns it, or None where unsupported.

    The CPU least busy over a short sample is taken: the machine is shared, and the other work may favour one.
    """
    try:
        cpus = os.sched_getaffinity(0)
        cpu = _idlest(cpus)
        os.sched_setaffinity(0, {cpu})
        return cpu
    except (AttributeError, OSError):
        return None


def _idle_ticks() -> dict[int, int]:
    ticks = {}
    with open("/proc/stat") as stat:
        for line in stat:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                ticks[int(name[3:])] = int(fields[3]) + int(fields[4])  # idle + iowait
    return ticks


def _idlest(cpus: set[int], sample_seconds: float = 0.5) -> int:
    try:
        before = _idle_ticks()
        time.sleep(sample_seconds)
        after = _idle_ticks()
        return max(sorted(cpus), key=lambda cpu: after.get(cpu, 0) - before.get(cpu, 0))
    except (OSError, ValueError, IndexError):
        return max(cpus)


def median(values) -> float:
    return statistics.median(values)


def interleaved(functions: dict[str, Callable[[], object]], rounds: int, warmup: int = 2) -> dict[str, list[float]]:
    """Seconds of each function over ``rounds`` rounds, the functions taking turns within a round (in a new order
    each round) so that a slow moment of the shared machine hits them all alike. The garbage collector does not run
    during a measured call: what exists beforehand is frozen (a full collection over a large heap, e.g. the AWS
    emulation's, would cost more than the work measured), and it runs between calls as usual."""
    for _ in range(warmup):
        for function in functions.values():
            function()
    times: dict[str, list[float]] = {name: [] for name in functions}
    gc.collect()
    gc.freeze()
    gc_was_enabled = gc.isenabled()
    # A new order every round (seeded: the same from run to run): no function always runs right after the same one,
    # so that what one leaves behind (cold caches, freed memory to fault in again) is spread over all of them.
    order, shuffle = list(functions), random.Random(20261127).shuffle
    try:
        for _ in range(rounds):
            shuffle(order)
            for name in order:
                function = functions[name]
                gc.disable()
                started = time.perf_counter()
                function()
                times[name].append(time.perf_counter() - started)
                gc.enable()
    finally:
        gc.unfreeze()
        if not gc_was_enabled:
            gc.disable()
    return times


# --- peak memory ----------------------------------------------------------------------------------------------------

def _status_kib(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark of this process (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def extra_peak_mib(function: Callable[[], object]) -> float:
    """Peak resident memory that ``function`` adds to this process, in MiB (VmHWM after minus VmRSS before)."""
    gc.collect()
    if not reset_peak_rss():
        raise RuntimeError("cannot reset the peak RSS (/proc/self/clear_refs)")
    before = _status_kib("VmRSS")
    function()
    peak = _status_kib("VmHWM")
    return (peak - before) / 1024


# --- results --------------------------------------------------------------------------------------------------------

@dataclass
class Metric:
    """One line of var/bench.json. ``target`` is an upper bound unless ``higher_is_better``."""

    name: str
    value: float
    target: float
    unit: str
    higher_is_better: bool = False
    note: str = ""
    ok: bool = field(init=False)

    def __post_init__(self):
        self.ok = bool(self.value >= self.target) if self.higher_is_better else bool(self.value <= self.target)

    def as_json(self) -> dict:
        return {"value": _rounded(self.value), "target": self.target, "unit": self.unit, "ok": self.ok}


def _rounded(value: float) -> float:
    if isinstance(value, int):
        return value
    return round(value, 5) if abs(value) < 10 else round(value, 1)
