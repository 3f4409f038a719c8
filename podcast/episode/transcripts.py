"""Transcripts (WebVTT, SRT), chapters JSON and the timing of display sentences.

Pure functions from timed cues and chapters to text: the packaging stage writes them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from ..digest import research_fields
from ..models import ChapterMark, Cue, Script

SRT_LINE = 32
SRT_LINES = 2


def stamp(seconds: float, *, millis: bool = False, sep: str = ".") -> str:
    """00:01:35 or 00:01:35.500 (``sep`` is ',' for SRT)."""
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    base = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{base}{sep}{ms:03d}" if millis else base


def short_stamp(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


# ------------------------------------------------------------------ transcripts


def split_cue(cue: Cue, limit: int = SRT_LINE * SRT_LINES) -> list[Cue]:
    """Break a long cue into pieces of at most ``limit`` characters, timed by length."""
    text = cue.text
    if len(text) <= limit:
        return [cue]
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind(p, 0, limit) for p in "，。！？；、,.;")
        cut = cut + 1 if cut >= limit // 3 else limit
        pieces.append(text[:cut])
        text = text[cut:]
    if text:
        pieces.append(text)
    total = sum(len(p) for p in pieces)
    out, t = [], cue.start
    for p in pieces:
        end = t + (cue.end - cue.start) * len(p) / total
        out.append(Cue(round(t, 3), round(end, 3), cue.speaker, p))
        t = end
    return out


def wrap(text: str, width: int = SRT_LINE) -> str:
    return "\n".join(text[i : i + width] for i in range(0, len(text), width))


def to_vtt(cues: Sequence[Cue]) -> str:
    out = ["WEBVTT", ""]
    for c in cues:
        for piece in split_cue(c):
            text = piece.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            out += [f"{stamp(piece.start, millis=True)} --> {stamp(piece.end, millis=True)}",
                     f"<v {piece.speaker}>{text}", ""]
    return "\n".join(out)


def to_srt(cues: Sequence[Cue]) -> str:
    out: list[str] = []
    n = 0
    for c in cues:
        for piece in split_cue(c, SRT_LINE * SRT_LINES - len(c.speaker) - 1):
            n += 1
            out += [str(n),
                    f"{stamp(piece.start, millis=True, sep=',')} --> "
                    f"{stamp(piece.end, millis=True, sep=',')}",
                    wrap(f"{piece.speaker}：{piece.text}"), ""]
    return "\n".join(out)


def align_sentences(display: Sequence[tuple[str, int]],
                    spans: Sequence[tuple[int, float, float]]) -> list[tuple[str, float, float]]:
    """Time display sentences against engine spans.

    ``display`` holds (sentence, length of its speech text); ``spans`` holds
    (speech characters, start, end) per synthesized chunk. Both describe the
    same speech text, so character offsets map display sentences onto time by
    linear interpolation inside each chunk.
    """
    if not spans:
        return []
    knots: list[tuple[int, float]] = []
    pos = 0
    for chars, start, end in spans:
        knots.append((pos, start))
        pos += max(chars, 1)
        knots.append((pos, end))
    total_speech = sum(n for _, n in display) or 1
    scale = pos / total_speech

    def at(offset: float, starting: bool = False) -> float:
        # On a chunk boundary a sentence that starts there starts with the next chunk, not at the
        # end of the last one: the pause between the chunks belongs to neither sentence.
        for (p0, t0), (p1, t1) in itertools.pairwise(knots):
            if offset < p1 or (offset == p1 and not starting):
                return t0 if p1 == p0 else t0 + (t1 - t0) * (offset - p0) / (p1 - p0)
        return knots[-1][1]

    out, off = [], 0.0
    for text, n in display:
        start, off = at(off, starting=True), off + n * scale
        out.append((text, round(start, 3), round(at(off), 3)))
    return out


def display_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。！？!?])", text) if s.strip()]


# ------------------------------------------------------------------ chapters and notes


def chapters_json(chapters: Sequence[ChapterMark]) -> dict[str, Any]:
    items = []
    for ch in chapters:
        item: dict[str, Any] = {"startTime": round(ch.start, 3), "title": ch.title}
        if ch.url:
            item["url"] = ch.url
        items.append(item)
    return {"version": "1.2.0", "chapters": items}


def chapter_rows(chapters: Sequence[ChapterMark]) -> list[dict[str, Any]]:
    return [{"stamp": short_stamp(c.start), "title": c.title, "url": c.url} for c in chapters]


def description(script: Script) -> str:
    """One paragraph for the feed: the day's topics and the first papers."""
    papers = [s.title for s in script.segments if s.kind == "paper"]
    titles = "；".join(papers[:3])
    more = f"等{len(papers)}篇论文" if len(papers) > 3 else ""
    topics = "、".join(research_fields(script.topics))
    lead = f"热门领域：{topics}。" if topics else ""
    return f"{lead}本期聊到：{titles}{more}。"
