"""Serialise runs on the same project root: one lock per date, and one for the feed.

Two builds of the same day would race on its staging folder and clip
writes, so the second waits (saying so); builds of different days run in
parallel and only take turns to rewrite the feed. Locks are advisory
``flock`` locks on small files in hidden names, so they vanish with the
process and never block after a crash.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("podcast")
_held: dict[str, int] = {}  # re-entrant within one process (build = write + speak + publish)
_guard = threading.Lock()


@contextlib.contextmanager
def locked(path: Path, what: str, wait: bool = True) -> Iterator[bool]:
    """Hold the lock of ``path``; yields False without waiting when ``wait`` is off and
    another process holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking, as before
        yield True
        return
    key = str(path.resolve())
    with _guard:
        if _held.get(key):
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield True
        finally:
            with _guard:
                _held[key] -= 1
        return
    from .store import writing

    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            log.warning("another podcast run (pid %s) is working on %s; waiting for it to finish",
                        holder, what)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        with _guard:
            _held[key] = 1
        try:
            yield True
        finally:
            with _guard:
                _held.pop(key, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def day_lock(path: Path, day: str, wait: bool = True) -> contextlib.AbstractContextManager[bool]:
    """Held while a day is written or spoken (``path`` comes from ``Layout.day_lock``); with
    ``wait`` off it yields False at once if another run holds the day."""
    return locked(path, f"the episode of {day}", wait)


def feed_lock(path: Path) -> contextlib.AbstractContextManager[bool]:
    """Held while the feed and the show page are rewritten (``Layout.feed_lock``)."""
    return locked(path, "the feed")
