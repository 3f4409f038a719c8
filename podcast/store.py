"""Where bytes go to disk: atomic writes, the artifact cache, and staged folders swapped in.

Every published file is written through here so a crash never leaves half a
file, and an episode folder is assembled in a hidden sibling and renamed into
place so a reader never sees half an episode.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from . import faults
from .errors import StorageError


@contextlib.contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn the operating system's refusal to write (a read-only folder, a full disk, a file
    where a folder should be) into one line naming the path and the reason."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, (BlockingIOError, InterruptedError)):
            raise
        where = exc.filename or path
        reason = exc.strerror or str(exc)
        hint = ""
        if exc.errno == errno.ENOSPC or exc.errno == errno.EFBIG:
            hint = "the disk is full or the file is too large"
        elif _inside(Path(where), cache_root()):
            hint = "set PODCAST_CACHE_DIR to a writable folder"
        raise StorageError(where, reason, hint) from exc


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def cache_root() -> Path:
    """Where clips and prepared models live; ``PODCAST_CACHE_DIR`` overrides it."""
    env = os.environ.get("PODCAST_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("podcast", appauthor=False))


_LIBRARIES = ("numpy", "scipy", "onnxruntime", "imageio-ffmpeg", "ctranslate2", "faster-whisper", "jieba",
              "pypinyin")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over the package's own code and data and the libraries that shape audio: an
    artifact made by other code (a changed mastering step, a new writer) is made again."""
    root = Path(__file__).resolve().parent  # the package, not what lies beside it
    h = hashlib.sha256()
    for path in sorted([*root.rglob("*.py"), *(root / "data").glob("*.toml")]):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    for name in _LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=-".encode())
    return h.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder and ``os.replace``: never a half file."""
    with writing(path):
        _atomic_write(path, data)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; published files must be readable
        faults.reached(f"replace:{path.name}")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cached_artifact(kind: str, key: object, make: Callable[[], bytes]) -> bytes:
    """Bytes made from ``key`` (JSON-able), computed once and kept in the cache folder.

    Used for what is slow to remake and fully determined by its inputs: the
    MP3 of identical PCM, the day's pictures, the generated cover. Each entry
    starts with the sha256 of its payload; an entry that does not match it
    (damaged on disk, or from before the hash was kept) is made again, so a
    damaged cached MP3 is never published.
    """
    found = lookup_artifact(kind, key)
    if found is not None:
        return found
    data = make()
    atomic_write_bytes(_artifact_path(kind, key), _hash_head(data) + data)
    return data


def lookup_artifact(kind: str, key: object) -> bytes | None:
    """The kept bytes for ``key``, or None when there are none (or they are damaged)."""
    try:
        stored = _artifact_path(kind, key).read_bytes()
    except OSError:
        return None
    head, payload = stored[:_HASH_HEAD], stored[_HASH_HEAD:]
    return payload if head == _hash_head(payload) else None


def _artifact_path(kind: str, key: object) -> Path:
    digest = hashlib.sha256(json.dumps([kind, key], sort_keys=True, ensure_ascii=False,
                                       default=str).encode()).hexdigest()
    return cache_root() / "artifacts" / kind / digest


_HASH_HEAD = len("sha256:") + 64 + 1


def _hash_head(data: bytes) -> bytes:
    return b"sha256:" + hashlib.sha256(data).hexdigest().encode() + b"\n"


def write_text(path: Path, text: str) -> None:
    """A file inside a staging folder (the folder, not the file, is swapped in atomically)."""
    with writing(path):
        path.write_text(text, encoding="utf-8", newline="\n")


def write_json(path: Path, data: Any) -> None:
    """JSON for other programs: NaN and Infinity are not JSON, so they are refused here."""
    write_text(path, json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n")


def staging_dir(episodes: Path, date: dt.date) -> Path:
    """A fresh hidden folder next to the final one (same filesystem, so rename is atomic)."""
    path = episodes / f".staging-{date.isoformat()}-{os.getpid()}"
    with writing(path):
        episodes.mkdir(parents=True, exist_ok=True)
        if path.exists():
            shutil.rmtree(path)
        path.mkdir()
    return path


def recover(episodes: Path, date: dt.date) -> None:
    """Undo a swap that a crash interrupted: put the previous episode back."""
    final = episodes / date.isoformat()
    for old in sorted(episodes.glob(f".previous-{date.isoformat()}-*")):
        if not final.exists():
            old.rename(final)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for stale in episodes.glob(f".staging-{date.isoformat()}-*"):
        shutil.rmtree(stale, ignore_errors=True)


_HIDDEN_DAY = re.compile(r"\.(?:previous|staging)-(\d{4}-\d{2}-\d{2})-\d+$")


def interrupted_days(episodes: Path) -> list[dt.date]:
    """Days a crash left in hidden folders (a swap or a staging that never finished)."""
    days = set()
    for path in episodes.glob(".*-*"):
        match = _HIDDEN_DAY.match(path.name)
        if match:
            with contextlib.suppress(ValueError):
                days.add(dt.date.fromisoformat(match.group(1)))
    return sorted(days)


_RENAME_EXCHANGE = 2  # linux/fs.h


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step with Linux's ``renameat2(RENAME_EXCHANGE)``; False where the
    system or the filesystem cannot (then the caller falls back to two renames)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(a))


def swap_in(staging: Path, final: Path) -> None:
    """Replace ``final`` with ``staging`` so that the day is always published under its name.

    On Linux the two folders are exchanged in one step; elsewhere the old folder
    is moved aside first, and a crash between the two renames is undone by
    ``recover`` (which runs before every publish). The old folder is removed last.
    """
    with writing(final):
        _swap(staging, final)


def _swap(staging: Path, final: Path) -> None:
    if final.exists() and _exchange(staging, final):
        faults.reached("swap")
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old episode
        return
    previous = final.parent / f".previous-{final.name}-{os.getpid()}"
    if final.exists():
        final.rename(previous)
    faults.reached("swap")
    staging.rename(final)
    if previous.exists():
        shutil.rmtree(previous, ignore_errors=True)
