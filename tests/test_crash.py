"""Crashes, concurrent runs, idempotence and backfill: nothing published is ever lost or partial.

Each test runs whole builds in subprocesses (killed ones among them), so the module is marked
``slow``: the README's ``uv run pytest`` skips it, ``.ci/run`` and ``uv run pytest -m slow`` run it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest

from podcast.locks import day_lock
from podcast.project import Project

from .conftest import DATA, FAST_BUILD, private_cache

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "podcast.cli"]
# The same CLI in a child process with the fake engine and writer registered first, as an installed
# plug-in would be: for the kill and backfill runs, whose assertions do not depend on the voice.
FAKE_CLI = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(Path(__file__).parents[1])!r}); "
            "from tests.fakes import register_fakes; register_fakes(); "
            "from podcast.cli import main; main(prog_name='podcast')"]
SECOND = DATA / "2026-03-02_daily_paper.md"


def run(root: Path, *args: str, env: dict[str, str] | None = None,
        cli: list[str] = CLI) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess (the real one speaks with the fast engine unless ``args`` name one)."""
    if "--engine" not in args:
        args = (*args, *FAST_BUILD)
    return subprocess.run([*cli, *args, "--out", str(root)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


def published(root: Path) -> dict:
    """What a listener can see: every feed item's GUID and enclosure, checked against the files."""
    feed_path = root / "feed" / "feed.xml"
    feed = feedparser.parse(feed_path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    items = {}
    for entry in feed.entries:
        enclosure = entry.enclosures[0]
        date = enclosure.href.split("/episodes/")[1].split("/")[0]
        mp3 = root / "episodes" / date / enclosure.href.rsplit("/", 1)[1]
        assert mp3.stat().st_size == int(enclosure.length), "enclosure length matches the file"
        items[entry.id] = (enclosure.href, int(enclosure.length))
    return items


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "episodes").rglob("*")) if p.is_file() and ".lock" not in p.name}


def cache_env(tmp_path: Path, shared: Path) -> dict[str, str]:
    return {"PODCAST_CACHE_DIR": str(private_cache(tmp_path, shared))}


@pytest.mark.parametrize("point", ["synthesis:3", "encoding", "replace:feed.xml", "replace:index.html"])
def test_a_killed_build_loses_nothing_and_resumes(built_copy: Path, point: str, tmp_path: Path,
                                                  clip_cache: Path) -> None:
    cache = cache_env(tmp_path, clip_cache)
    before = published(built_copy)
    first_episode = {k: v for k, v in digests(built_copy).items() if k.startswith("episodes/2026-11-20/")}
    killed = run(built_copy, "build", str(SECOND), "--engine", "fake", env={"PODCAST_KILL_AT": point, **cache},
                 cli=FAKE_CLI)
    assert killed.returncode == -9, killed.stdout + killed.stderr  # SIGKILL: no cleanup ran
    # what was published before the crash is still there, whole, with the same GUIDs and lengths
    # (a kill after the feed's atomic replace may already list the new, complete episode)
    crashed = published(built_copy)
    assert all(crashed[guid] == before[guid] for guid in before)
    still = {k: v for k, v in digests(built_copy).items() if k.startswith("episodes/2026-11-20/")}
    assert still == first_episode
    finished = run(built_copy, "build", str(SECOND), "--engine", "fake", env=cache, cli=FAKE_CLI)
    assert finished.returncode == 0, finished.stderr
    if point.startswith("synthesis"):
        assert re.search(r", [3-9]\d* cached", finished.stdout), finished.stdout  # resumed from the cache
    after = published(built_copy)
    assert len(after) == 2 and all(after[guid] == before[guid] for guid in before)


def test_concurrent_runs_of_one_day_wait_and_other_days_run_alongside(built_copy: Path) -> None:
    # No race on who starts first: the test itself holds the day's lock (the same advisory lock
    # a run takes), so both same-day runs must find it taken, say so and wait, while a build of
    # another day runs to the end alongside.
    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([*CLI, *args, *FAST_BUILD, "--out", str(built_copy)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    day = dt.date(2026, 11, 20)
    with day_lock(Project.open(built_copy).layout.day_lock(day), day.isoformat()):
        same = [start("speak", "2026-11-20") for _ in range(2)]
        other = start("build", str(SECOND))
        out, err = other.communicate(timeout=600)
        assert other.returncode == 0, out + err  # finished while 2026-11-20 was held
        said = []
        for p in same:
            assert p.stderr is not None
            lines = iter(p.stderr.readline, "")
            said.append(next((ln for ln in lines if "waiting" in ln), ""))
            assert p.poll() is None  # still waiting for the day
    assert all("is working on the episode of 2026-11-20; waiting" in s for s in said), said
    outputs = [p.communicate(timeout=600) for p in same]
    assert all(p.returncode == 0 for p in same), outputs
    items = published(built_copy)
    assert len(items) == 2  # both days are in the feed, neither lost to the other
    assert not list((built_copy / "episodes").glob(".staging-*"))


def test_rebuilding_an_unchanged_day_is_byte_identical(built_copy: Path) -> None:
    names = ["scripts/2026-11-20.yaml", "episodes/2026-11-20/transcript.vtt", "episodes/2026-11-20/transcript.srt",
             "episodes/2026-11-20/chapters.json", "episodes/2026-11-20/index.html", "episodes/2026-11-20/digest.md",
             "episodes/2026-11-20/ai-paper-daily-2026-11-20.mp3", "feed/feed.xml", "feed/index.html"]
    before = {n: (built_copy / n).read_bytes() for n in names}
    # a clock-based timestamp would now differ: make sure a second has passed since the first build
    # (copytree keeps modification times; that second is almost always long gone already)
    written = (built_copy / "feed" / "feed.xml").stat().st_mtime
    time.sleep(max(0.0, written + 1.1 - time.time()))
    result = run(built_copy, "build", str(DATA.parent.parent / "podcast" / "sample" / "2026-11-20_daily_paper.md"))
    assert result.returncode == 0, result.stderr
    changed = [n for n in names if (built_copy / n).read_bytes() != before[n]]
    assert changed == []


def test_backfill_continues_past_a_failing_day(tmp_path: Path, clip_cache: Path) -> None:
    from .fakes import FakeChat, FakeHF, api_paper, serve

    days = {"2026-11-16": [api_paper("2611.20001", "Alpha-1: A Study", "We study alpha. It improves by 3.5%.", 5)],
            "2026-11-17": {"status": "broken wrapper"},
            "2026-11-18": [api_paper("2611.20002", "Beta-2: Another Study", "We study beta. It scores 71.0%.", 9)]}
    with serve(FakeHF(days)) as hf, serve(FakeChat()) as chat:
        env = {"HF_ENDPOINT": hf, "OPENAI_BASE_URL": chat + "/v1", "OPENAI_API_KEY": "k",
               "PODCAST_LLM_MODEL": "m", **cache_env(tmp_path, clip_cache)}
        result = run(tmp_path / "root", "build", "--from", "2026-11-14", "--to", "2026-11-19", "--engine", "fake",
                     env=env, cli=FAKE_CLI)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(ln.startswith("2026-11-14  skipped  weekend") for ln in lines)
    assert any(ln.startswith("2026-11-16  built") for ln in lines)
    assert any(ln.startswith("2026-11-17  failed") and "expected a JSON list of papers" in ln for ln in lines)
    assert any(ln.startswith("2026-11-18  built") for ln in lines)
    assert any(ln.startswith("2026-11-19  skipped") and "no papers" in ln for ln in lines)
    assert "backfill 2026-11-14..2026-11-19: 2 built, 3 skipped, 1 failed" in result.stdout
    manifests = sorted((tmp_path / "root" / "episodes").glob("*/episode.json"))
    assert [p.parent.name for p in manifests] == ["2026-11-16", "2026-11-18"]
    assert json.loads(manifests[0].read_text("utf-8"))["papers"] == 1


def test_a_kill_inside_the_episode_swap_never_drops_the_day(built_copy: Path, tmp_path: Path,
                                                            clip_cache: Path) -> None:
    cache = cache_env(tmp_path, clip_cache)
    before = published(built_copy)
    killed = run(built_copy, "speak", "2026-11-20", env={"PODCAST_KILL_AT": "swap", **cache})
    assert killed.returncode == -9, killed.stdout + killed.stderr
    other = run(built_copy, "build", str(SECOND), env=cache)
    assert other.returncode == 0, other.stderr
    after = published(built_copy)
    assert len(after) == 2 and all(after[guid] == before[guid] for guid in before)
    assert not [p.name for p in (built_copy / "episodes").iterdir() if p.name.startswith((".previous", ".staging"))]


def test_a_day_left_between_the_two_renames_is_put_back_before_publishing(built_copy: Path, tmp_path: Path,
                                                                         clip_cache: Path) -> None:
    # the state a kill between "move the old folder aside" and "move the new one in" leaves
    # where the one-step exchange is not available
    before = published(built_copy)
    episodes = built_copy / "episodes"
    (episodes / "2026-11-20").rename(episodes / ".previous-2026-11-20-4242")
    shutil.copytree(episodes / ".previous-2026-11-20-4242", episodes / ".staging-2026-11-20-4242")
    other = run(built_copy, "build", str(SECOND), env=cache_env(tmp_path, clip_cache))
    assert other.returncode == 0, other.stderr
    after = published(built_copy)
    assert len(after) == 2 and all(after[guid] == before[guid] for guid in before)
    assert sorted(p.name for p in episodes.iterdir() if not p.name.startswith(".lock")) == ["2026-03-02", "2026-11-20"]


def test_the_swap_falls_back_to_two_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from podcast import store

    for exchange in (True, False):
        final, stage = tmp_path / f"day{exchange}", tmp_path / f".staging-day{exchange}"
        final.mkdir()
        (final / "a").write_text("old")
        stage.mkdir()
        (stage / "a").write_text("new")
        if not exchange:
            monkeypatch.setattr(store, "_exchange", lambda a, b: False)
        store.swap_in(stage, final)
        assert (final / "a").read_text() == "new" and not stage.exists()
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
