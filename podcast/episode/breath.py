"""Where a long line breathes: cut at clauses, and inside a long clause at the best word.

Engines speak one call in one breath, and a listener needs a pause at least
every six seconds or so. A line planned longer than ``[audio] breath_seconds``
is cut at clause punctuation into pieces the engines speak separately; a clause
that is itself too long first gets a comma at a natural word boundary (the word
lists are data, ``podcast/data/breath.toml``), which every engine pauses at.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable
from functools import lru_cache

from ..length import Pace

Said = Callable[[str], str]  # display text -> the engine's speech text


def breath_pieces(text: str, pace: Pace, longest: float, said: Said | None = None) -> list[str]:
    """A line cut at clause punctuation into pieces of at most ``longest`` seconds (as planned).

    Engines speak one call in one breath; a listener needs a pause at least every
    six seconds. Cutting the text (never inside brackets or quotes; also before a
    《title》) lets every engine
    pause there, and the clip cache keys each piece by its own text. ``said`` gives the
    engine's speech text, which times a spelled-out acronym (LLMs: 艾勒艾勒艾姆艾思) as
    what it is, eight syllables, not one word.
    """
    timed = _timer(pace, said)
    if timed(text) <= longest:
        return [text]
    text = breathe(text, pace, longest, said=said)
    clauses, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "《" and depth <= 0 and text[start:i].strip():  # a breath before a title is natural
            clauses.append(text[start:i])
            start = i
        depth += (ch in "（(《「『“【") - (ch in "）)》」』”】")
        if ch in "，；：。！？" and depth <= 0 and text[start : i + 1].strip():
            clauses.append(text[start : i + 1])
            start = i + 1
    if text[start:].strip():
        clauses.append(text[start:])
    pieces: list[str] = []
    for clause in clauses:
        if pieces and (timed(pieces[-1] + clause) > longest
                       and timed(pieces[-1]) >= 1.5 and timed(clause) >= 1.0):
            pieces.append(clause)
        elif pieces:
            pieces[-1] += clause
        else:
            pieces.append(clause)
    return pieces


@lru_cache(maxsize=1)
def _breath_words() -> tuple[dict[str, int], dict[str, int], frozenset[str]]:
    from importlib.resources import files

    data = tomllib.loads((files("podcast.data") / "breath.toml").read_text(encoding="utf-8"))
    return dict(data["before"]), dict(data["after"]), frozenset(data["never_after"]["words"])


_KEEP_WHOLE = re.compile(r"[A-Za-z0-9.%\-+]+|《[^》]*》|（[^）]*）|\([^)]*\)|“[^”]*”")


def breathe(text: str, pace: Pace, longest: float, shortest: float = 1.2, said: Said | None = None) -> str:
    """``text`` with a comma at the best word boundary of every clause planned longer than
    ``longest`` seconds, so every engine pauses there (one call, natural continuing prosody).

    Boundaries come from the word cutter; the weights from ``data/breath.toml`` (before a
    connective, after a 的-phrase); both halves keep at least ``shortest`` seconds; never
    inside a Latin name, a number, a title or brackets."""
    timed = _timer(pace, said)
    whole = [m.span() for m in _KEEP_WHOLE.finditer(text)]
    cuts = [m.end() for m in re.finditer(r"[，；：。！？,;:!?]", text)
            if not any(a < m.end() < b for a, b in whole)]

    def split(a: int, b: int) -> str:
        part = text[a:b]
        if timed(part) <= longest:
            return part
        cut = _best_cut(part, timed, shortest, [(x - a, y - a) for x, y in whole])
        if cut is None:
            return part
        return split(a, a + cut) + "，" + split(a + cut, b)

    bounds = [0, *cuts, len(text)]
    return "".join(split(a, b) for a, b in itertools.pairwise(bounds) if b > a)


_READINGS = re.compile(r"\{[^}]*\}")


def _timer(pace: Pace, said: Said | None) -> Callable[[str], float]:
    if said is None:
        return pace.seconds
    return lambda text: pace.seconds(_READINGS.sub("", said(text)))  # 行为{xing2 wei2}: two syllables


def _best_cut(clause: str, timed: Callable[[str], float], shortest: float,
              whole: list[tuple[int, int]]) -> int | None:
    import jieba

    jieba.setLogLevel(60)
    before, after, never = _breath_words()
    words = jieba.lcut(clause)
    total = timed(clause)
    best: tuple[float, int] | None = None
    at = 0
    for i, word in enumerate(words[:-1]):
        at += len(word)
        nxt = words[i + 1]
        if any(a < at < b for a, b in whole) or word in before or word in never or not nxt.strip():
            continue
        # after 的 or 了 only when the phrase it closes is long (not SLM的 | 数学推理能力)
        weight = max(before.get(nxt, 0), after.get(word, 0) if _han(clause[max(0, at - 7):at]) >= 7 else 0)
        left = timed(clause[:at])
        if not weight or left < shortest or total - left < shortest:
            continue
        score = weight - abs(left - total / 2) / max(total, 1e-6)  # a good word first, then the middle
        if best is None or score > best[0]:
            best = (score, at)
    return best[1] if best else None


def _han(text: str) -> int:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in text)


