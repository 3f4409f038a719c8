"""Named points where a test may kill this process, to prove that a crash loses nothing.

``PODCAST_KILL_AT=point`` (or ``point:N`` for the N-th time it is reached)
makes the process SIGKILL itself there, like a power cut or an OOM kill:
no cleanup, no ``finally``. Unset, a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading

_counts: dict[str, int] = {}
_lock = threading.Lock()


def reached(point: str) -> None:
    target = os.environ.get("PODCAST_KILL_AT")
    if not target:
        return
    name, _, nth = target.rpartition(":")
    if not nth.isdigit():
        name, nth = target, "1"
    if name != point:
        return
    with _lock:
        _counts[point] = _counts.get(point, 0) + 1
        if _counts[point] >= int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
