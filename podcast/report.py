"""Script metrics a reviewer can read: turns, questions, verbatim reuse, time per paper.

``podcast report`` prints them for a digest or a written script, and adds the
measured minutes when the episode has been spoken, so planned length can be
checked against the audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .abstracts import ungrounded, verbatim_ratio
from .digest import read_digest
from .length import LengthPlan
from .models import Digest, Episode, Script
from .project import Project
from .writer import load_script


@dataclass(frozen=True)
class SegmentReport:
    id: str
    title: str
    turns: int
    questions: int
    speakers: int
    verbatim: float | None  # share of the abstract reused word for word
    budget_seconds: float | None
    planned_seconds: float
    actual_seconds: float | None
    ungrounded: tuple[str, ...]


def segment_reports(script: Script, digest: Digest | None, plan: LengthPlan,
                    actual: dict[str, float] | None = None) -> list[SegmentReport]:
    """One row per segment; ``actual`` maps segment id to measured seconds."""
    papers = {p.rank: p for p in digest.papers} if digest else {}
    rows = []
    for seg in script.segments:
        text = "".join(line.text for line in seg.lines)
        paper = papers.get(seg.paper.rank) if seg.paper else None
        rows.append(SegmentReport(
            id=seg.id, title=seg.title, turns=len(seg.lines),
            questions=sum(line.text.count("？") for line in seg.lines),
            speakers=len({line.speaker for line in seg.lines}),
            verbatim=round(verbatim_ratio(paper.abstract_zh, text), 3) if paper else None,
            budget_seconds=seg.budget_seconds,
            planned_seconds=round(plan.lines_seconds([line.text for line in seg.lines]), 1),
            actual_seconds=(actual or {}).get(seg.id),
            ungrounded=tuple(sorted(ungrounded(text, [paper.abstract_zh, paper.title_zh, paper.title_en])))
            if paper else (),
        ))
    return rows


def format_report(rows: list[SegmentReport]) -> str:
    """A fixed-width table plus totals, for the terminal and for closing notes."""
    def minutes(v: float | None) -> str:
        return f"{v / 60:5.2f}" if v is not None else "    -"

    out = [f"{'segment':<10} {'turns':>5} {'q':>3} {'verbatim':>8} {'budget':>6} {'plan':>6} {'actual':>6}"
           "  title"]
    for r in rows:
        verb = f"{r.verbatim:8.0%}" if r.verbatim is not None else f"{'-':>8}"
        flag = f"  ungrounded: {', '.join(r.ungrounded)}" if r.ungrounded else ""
        out.append(f"{r.id:<10} {r.turns:>5} {r.questions:>3} {verb} {minutes(r.budget_seconds):>6} "
                   f"{minutes(r.planned_seconds):>6} {minutes(r.actual_seconds):>6}  {r.title[:28]}{flag}")
    papers = [r for r in rows if r.verbatim is not None]
    total_plan = sum(r.planned_seconds for r in rows)
    total_actual = sum(r.actual_seconds or 0 for r in rows) if all(r.actual_seconds for r in rows) else None
    out.append(f"{'total':<10} {sum(r.turns for r in rows):>5} {sum(r.questions for r in rows):>3} "
               f"{max((r.verbatim or 0 for r in papers), default=0):7.0%}* "
               f"{minutes(sum(r.budget_seconds or 0 for r in rows)):>6} {minutes(total_plan):>6} "
               f"{minutes(total_actual):>6}  (* verbatim: worst paper; times in minutes)")
    return "\n".join(out)


def script_and_digest(project: Project, target: str) -> tuple[Script, Digest | None, str]:
    """The script TARGET names and its digest when one can be found, plus a name for messages.

    A digest (``.md``) is scripted in memory by the project's writer; a script path or a date
    is read, and its digest looked for in the episode folder, then beside the script."""
    from .pipeline import script_for

    if target.endswith(".md"):
        digest = read_digest(Path(target), project.allow_partial)
        return script_for(project, digest), digest, target
    path = project.resolve_script(target)
    script = load_script(path)
    for source in (project.layout.episode(script.date) / "source.md", project.layout.digest(script.date)):
        if source.exists():
            return script, read_digest(source, allow_partial=True), str(path)
    return script, None, str(path)


def report(project: Project, target: str) -> list[SegmentReport]:
    """Metrics for a digest (scripted in memory), a script path, or a date."""
    script, digest, _ = script_and_digest(project, target)
    actual = None
    if project.layout.manifest(script.date).exists():
        rows = Episode.read(project.layout.manifest(script.date)).segments
        actual = {r.id: r.actual_minutes * 60 for r in rows}
    return segment_reports(script, digest, project.length_plan(), actual)
