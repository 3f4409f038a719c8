"""Build a range of days; a failing day is reported, not fatal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from . import pipeline
from .errors import PodcastError
from .hfapi import NoPapers
from .project import Project


@dataclass(frozen=True)
class DayResult:
    """One day of a backfill: built, skipped (weekend, no papers) or failed, and why."""

    day: dt.date
    status: str
    detail: str


def backfill(project: Project, start: dt.date, end: dt.date, warn: Callable[[str], None] = lambda _m: None,
             on_day: Callable[[DayResult], None] = lambda _r: None) -> list[DayResult]:
    """Build every weekday from ``start`` to ``end``.

    A day whose digest is already in scripts/ is not fetched or translated again.
    """
    results = []
    day = start
    while day <= end:
        if day.weekday() >= 5:
            result = DayResult(day, "skipped", "weekend")
        else:
            try:
                source = project.layout.digest(day)
                fetched = source if source.exists() else pipeline.fetch(project, day, warn=warn)
                if isinstance(fetched, NoPapers):
                    result = DayResult(day, "skipped", str(fetched))
                else:
                    built = pipeline.build(project, fetched, None, warn)
                    e = built.episode
                    result = DayResult(day, "built", f"{e.papers} papers, {e.duration / 60:.1f} min")
            except PodcastError as exc:
                result = DayResult(day, "failed", str(exc))
        results.append(result)
        on_day(result)
        day += dt.timedelta(days=1)
    return results
