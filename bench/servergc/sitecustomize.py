"""Loaded by the benchmarked server's Python processes (bench/live.py puts this folder first on
their PYTHONPATH); not part of the app. Two knobs, both from the environment:

- BENCH_GC_LOG=<file>: append one line per full (generation-2) garbage collection, when it took
  more than 5 ms: "<pid> <epoch at start> <duration ms>". A full collection holds the GIL, so it
  stalls the event loop, and with it every delivery, for its whole duration.
- BENCH_GC_THRESHOLD=a,b,c: gc.set_threshold(a, b, c), to try another collector setting on the
  real server without changing the app.
"""

import gc
import os
import time

_log = os.environ.get("BENCH_GC_LOG")
_threshold = os.environ.get("BENCH_GC_THRESHOLD")

if _threshold:
    gc.set_threshold(*(int(x) for x in _threshold.split(",")))

if _log:
    _started = [0.0, 0.0]

    def _on_gc(phase, info):
        if info["generation"] != 2:
            return
        if phase == "start":
            _started[0], _started[1] = time.perf_counter(), time.time()
            return
        took = (time.perf_counter() - _started[0]) * 1000
        if took > 5:
            with open(_log, "a") as f:
                f.write(f"{os.getpid()} {_started[1]:.4f} {took:.1f}\n")

    gc.callbacks.append(_on_gc)
