"""Holds a written script to ``max_minutes``, whichever writer wrote it.

Writers plan against per-paper budgets, but a day of 500 papers, a
5,000-character title or one enormous line still plans hours of audio. This
runs on the finished ``Script`` (so it holds for the template and the LLM
writer alike): over-long lines are cut at a sentence end, then the
lowest-ranked papers are dropped, then the longest lines are cut further, and
every cut is said in the script's notes.
"""

from __future__ import annotations

import re

from .length import LengthPlan
from .models import Line, Script, Segment

SLACK = 1.1  # the paper budgets add up to max_minutes; opening, closing and estimates get 10 % on top
LINE_SECONDS = 120.0  # no single turn talks for longer than this
_MIN_LINE = 8.0  # cutting further than this leaves nothing worth saying
_SENTENCE_END = re.compile(r"[。！？!?]")


def script_seconds(script: Script, plan: LengthPlan) -> float:
    return sum(plan.lines_seconds([line.text for line in seg.lines]) for seg in script.segments)


def cut_text(text: str, seconds: float, plan: LengthPlan) -> str:
    """The longest start of ``text`` that is said within ``seconds``: up to a sentence end when
    there is one, else cut off with an ellipsis."""
    if plan.pace.seconds(text) <= seconds:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    fitting = [e for e in ends if plan.pace.seconds(text[:e]) <= seconds]
    if fitting:
        return text[: fitting[-1]]
    lo, hi = 1, len(text)
    while lo < hi:  # the longest prefix within the time
        mid = (lo + hi + 1) // 2
        if plan.pace.seconds(text[:mid]) <= seconds:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip("，、；：,;: ") + "……"


def _cap_lines(script: Script, cap: float, plan: LengthPlan) -> tuple[Script, int]:
    cut = 0
    segments = []
    for seg in script.segments:
        lines = []
        for line in seg.lines:
            text = cut_text(line.text, cap, plan)
            cut += text != line.text
            lines.append(line if text == line.text else Line(speaker=line.speaker, text=text))
        segments.append(seg.model_copy(update={"lines": lines}))
    return script.model_copy(update={"segments": segments}), cut


def _rank(seg: Segment, index: int) -> int:
    return seg.paper.rank if seg.paper is not None else 10_000 + index


def fit_to_length(script: Script, plan: LengthPlan) -> tuple[Script, list[str]]:
    """``script`` cut to about ``plan.max_minutes``, and one note per kind of cut."""
    limit = plan.max_minutes * 60 * SLACK
    notes: list[str] = []
    planned = script_seconds(script, plan)
    script, cut = _cap_lines(script, LINE_SECONDS, plan)
    if cut:
        notes.append(f"length: {cut} over-long line(s) cut to about {LINE_SECONDS / 60:.0f} minutes each")
    papers = [(i, s) for i, s in enumerate(script.segments) if s.kind == "paper"]
    dropped: list[Segment] = []
    while script_seconds(script, plan) > limit and len(papers) > 1:
        index, last = max(papers, key=lambda p: _rank(p[1], p[0]))
        papers = [p for p in papers if p[0] != index]
        dropped.append(last)
        script = script.model_copy(update={"segments": [s for s in script.segments if s is not last]})
    if dropped:
        ranks = sorted(_rank(s, 0) for s in dropped)
        shown = ", ".join(str(r) for r in ranks[:10]) + (", …" if len(ranks) > 10 else "")
        notes.append(f"length: {len(dropped)} lowest-ranked paper(s) left out to stay within "
                     f"{plan.max_minutes:g} minutes (ranks {shown})")
    cap = LINE_SECONDS
    trimmed = 0
    while script_seconds(script, plan) > limit and cap > _MIN_LINE:
        cap /= 2
        script, n = _cap_lines(script, cap, plan)
        trimmed += n
    if trimmed:
        notes.append(f"length: the longest lines cut to about {cap:.0f} seconds each to stay within "
                     f"{plan.max_minutes:g} minutes")
    if notes:
        now = script_seconds(script, plan)
        notes.append(f"length: planned {planned / 60:.0f} minutes, now {now / 60:.0f}")
        script = script.model_copy(update={"notes": [*script.notes, *notes]})
    return script, notes
