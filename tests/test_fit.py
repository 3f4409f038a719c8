"""max_minutes holds for any writer: what a script plans after the length guard."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from podcast.config import load_voices
from podcast.digest import read_digest
from podcast.fit import LINE_SECONDS, fit_to_length, script_seconds
from podcast.length import LengthPlan
from podcast.models import Line, Script
from podcast.pipeline import Project, write
from podcast.writer import get_writer, load_script

from .conftest import DATA

HOSTS = load_voices(Path("."), "default").hosts
PLAN = LengthPlan()
LIMIT = PLAN.max_minutes * 60 * 1.1


def template(digest) -> Script:
    return get_writer("template").write(digest, HOSTS, "测试播客", PLAN)


def many_papers(n: int):
    base = read_digest(DATA / "2026-03-02_daily_paper.md")
    papers = tuple(dataclasses.replace(base.papers[i % len(base.papers)], rank=i + 1) for i in range(n))
    return dataclasses.replace(base, papers=papers, stated_count=n)


def test_five_hundred_papers_keep_the_best_ranked_within_max_minutes() -> None:
    script = template(many_papers(500))
    fitted, notes = fit_to_length(script, PLAN)
    assert script_seconds(script, PLAN) > LIMIT  # the writer alone plans far too long
    assert script_seconds(fitted, PLAN) <= LIMIT
    ranks = [s.paper.rank for s in fitted.segments if s.paper]
    assert ranks == list(range(1, len(ranks) + 1)) and len(ranks) >= 10  # the lowest ranks went
    assert fitted.segments[0].kind == "opening" and fitted.segments[-1].kind == "closing"
    assert any("lowest-ranked paper(s) left out" in n for n in notes)
    assert all(n in fitted.notes for n in notes)


def test_an_enormous_title_and_an_enormous_line_are_cut() -> None:
    base = read_digest(DATA / "2026-03-02_daily_paper.md")
    huge = dataclasses.replace(base.papers[0], title_zh="很长的标题" * 1000)
    script = template(dataclasses.replace(base, papers=(huge, *base.papers[1:])))
    seg = script.segments[1]
    long_line = Line(speaker=seg.lines[0].speaker, text="这句话非常非常长，" * 5345 + "结束。")
    script = script.model_copy(update={"segments": [script.segments[0],
                                                    seg.model_copy(update={"lines": [long_line, *seg.lines]}),
                                                    *script.segments[2:]]})
    assert script_seconds(script, PLAN) > 60 * 60
    fitted, notes = fit_to_length(script, PLAN)
    assert script_seconds(fitted, PLAN) <= LIMIT
    assert max(PLAN.pace.seconds(line.text) for s in fitted.segments for line in s.lines) <= LINE_SECONDS
    assert any("over-long line" in n for n in notes)


def test_a_normal_day_is_untouched() -> None:
    script = template(read_digest(DATA / "2026-03-02_daily_paper.md"))
    assert fit_to_length(script, PLAN) == (script, [])


def test_the_write_stage_enforces_it_and_says_so(tmp_path: Path) -> None:
    warnings: list[str] = []
    _, path = write(Project.open(tmp_path), many_papers(500), warnings.append)
    assert any("left out" in w for w in warnings)
    saved = load_script(path)
    assert any("left out" in n for n in saved.notes)
    assert script_seconds(saved, PLAN) <= LIMIT
