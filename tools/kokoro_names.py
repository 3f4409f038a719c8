"""Compare two ways of saying model and benchmark names with the Kokoro Mandarin voices.

    uv run python tools/kokoro_names.py OUT.json [--newsletters DIR] [--wav DIR] [--slice START:STOP]
    uv run python tools/kokoro_names.py --table OUT.json [MORE.json ...]

Each name is said inside the same Chinese carrier sentence by both default hosts,
(a) in the Chinese spoken form (lexicon sounds, Chinese letter names, transliteration)
and (b) with English phonemes from misaki's bundled US dictionaries for every Latin
word they cover (English letter names for acronyms; numbers stay Chinese, as hosts
say them), and listened back with the Whisper recogniser. Scores (lower is better):

- ``name``: error rate of the name. The transcript minus the carrier's characters
  (matched in order) is compared two ways, and the better counts, since a listener
  who hears "GPT四o" or "吉披踢四欧" got the name either way: its letters and digits
  (lower-cased, Chinese digits as Arabic ones) against the name's, per character;
  and its Han characters as toneless pinyin against the Chinese spoken form's, per
  syllable (the recogniser writes 艾勒 as 爱乐: the same sounds, so not an error);
- ``carrier``: share of the carrier's Han characters missing from the transcript,
  i.e. whether the foreign name breaks the sentence around it.
"""

from __future__ import annotations

import argparse
import json
import re
import wave
from pathlib import Path

import numpy as np

from podcast.listen import Recogniser
from podcast.speech import kokoro
from podcast.speech.mandarin import english_phonemes, to_phonemes
from podcast.textnorm import SpeechProfile, builtin_lexicon, to_speech

NEWSLETTERS = Path("../shared/data/hf-daily-paper-newsletter-chinese/newsletters")
# (name, class): acronyms said letter by letter, English words, and model names mixing both.
NAMES = [
    ("LLM", "acronym"), ("RAG", "acronym"), ("GAN", "acronym"), ("CoT", "acronym"),
    ("RLHF", "acronym"), ("DPO", "acronym"), ("GUI", "acronym"), ("VLM", "acronym"),
    ("MoE", "acronym"), ("NLP", "acronym"), ("AIME", "acronym"), ("MATH", "acronym"),
    ("Transformer", "word"), ("Diffusion", "word"), ("Attention", "word"), ("GitHub", "word"),
    ("arXiv", "word"), ("OpenAI", "word"), ("Google", "word"), ("Hugging Face", "word"),
    ("Claude", "word"), ("Gemini", "word"), ("Llama", "word"), ("PokerBench", "word"),
    ("FilmAgent", "word"), ("AnyStory", "word"), ("OmniThink", "word"), ("WebWalker", "word"),
    ("GPT-4o", "model"), ("DeepSeek-R1", "model"), ("rStar-Math", "model"), ("Search-o1", "model"),
    ("SWE-Fixer", "model"), ("MiniMax-01", "model"), ("VideoRAG", "model"), ("Tarsier2-7B", "model"),
    ("Qwen2.5-Math-7B", "model"), ("Meta-CoT", "model"),
]
CARRIER = ("今天我们聊聊", "这个工作。")
HOSTS = (("A", "zf_xiaoxiao", 1.0), ("B", "zm_yunxi", 0.9))  # voices/default.toml
_HAN_DIGITS = str.maketrans("零一二三四五六七八九", "0123456789")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def occurrences(name: str, folder: Path) -> int:
    """Whole-name occurrences (case-sensitive) in the newsletters."""
    pattern = re.compile(rf"(?<![A-Za-z0-9-]){re.escape(name)}(?![A-Za-z0-9]|-[A-Za-z0-9])")
    return sum(len(pattern.findall(p.read_text(encoding="utf-8"))) for p in folder.glob("*.md"))


# How (b) says words that misaki's dictionary lacks or would say wrongly (plain English words).
RESPELL = {
    "arxiv": "archive",
    "rag": "rag",
    "aime": "aim",
    "kimi": "key me",
    "lora": "low rah",
    "qlora": "Q low rah",
    "minimax": "mini max",
    "transformer": "transformer",
    "transformers": "transformers",
    "diffusion": "diffusion",
    "agent": "agent",
    "agents": "agents",
    "agentic": "agentic",
    "github": "git hub",
    "openai": "open A I",
    "math": "math",
    "star": "star",
    "bench": "bench",
    "benchmark": "benchmark",
    "token": "token",
    "tokens": "tokens",
    "prompt": "prompt",
    "verified": "verified",
    "claude": "Claude",
    "gemini": "Gemini",
    "sonnet": "sonnet",
    "llama": "llama",
    "meta": "meta",
    "deepmind": "deep mind",
    "moe": "M O E",
    "swe": "S W E",
    "swe-bench": "S W E bench",
    "search": "search",
    "chain": "chain",
    "of": "of",
    "thought": "thought",
    "data": "data",
    "code": "code",
    "coder": "coder",
    "vision": "vision",
    "video": "video",
    "world": "world",
    "mini": "mini",
    "pro": "pro",
    "max": "max",
    "preview": "preview",
    "instruct": "instruct",
    "base": "base",
    "chat": "chat",
    "flash": "flash",
    "the": "the",
    "and": "and",
    "python": "Python",
    "web": "web",
    "net": "net",
    "lab": "lab",
    "top": "top",
    "kernel": "kernel",
    "kernels": "kernels",
    "sora": "Sora",
    "mistral": "Mistral",
    "opus": "Opus",
    "mixtral": "mix trawl",
    "r1": "R",
    "v3": "V",
    "o1": "O",
    "o3": "O",
    "o4": "O",
}


def _respell() -> dict[str, str]:
    return {**RESPELL, **builtin_lexicon().english}


def chinese_text(name: str) -> str:
    return to_speech(CARRIER[0] + name + CARRIER[1], SpeechProfile(latin=False, pinyin=True))


def english_text(name: str) -> str:
    """English wherever misaki can say the word; Chinese sounds only for what it cannot."""
    respell = _respell()
    profile = SpeechProfile(latin=False, pinyin=True,
                            keep_latin=lambda w: english_phonemes(w, respell) is not None)
    return to_speech(CARRIER[0] + name + CARRIER[1], profile)


def _lev(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _strip_carrier(heard: str, carrier: str) -> tuple[str, int]:
    """Remove the carrier's characters matched in order (LCS); return the rest and the matches."""
    n, m = len(heard), len(carrier)
    t = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            t[i][j] = t[i + 1][j + 1] + 1 if heard[i] == carrier[j] else max(t[i + 1][j], t[i][j + 1])
    keep, i, j = [], 0, 0
    while i < n:
        if j < m and heard[i] == carrier[j] and t[i][j] == t[i + 1][j + 1] + 1:
            i, j = i + 1, j + 1
        elif j < m and t[i][j + 1] >= t[i + 1][j]:
            j += 1
        else:
            keep.append(heard[i])
            i += 1
    return "".join(keep), t[0][0]


def _norm(text: str) -> str:
    return re.sub(r"[^0-9a-z\u4e00-\u9fff]", "", text.lower().translate(_HAN_DIGITS))


def _syllables(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    han = "".join(_HAN.findall(text))
    return lazy_pinyin(han, style=Style.NORMAL) if han else []


def score(name: str, heard: str) -> tuple[float, float]:
    """(name error, carrier miss rate) for one transcript; see the module docstring."""
    carrier = "".join(_HAN.findall("".join(CARRIER)))
    rest, matched = _strip_carrier(_norm(heard), carrier)
    letters, target = re.sub(r"[\u4e00-\u9fff]", "", rest), _norm(name)
    by_letters = _lev(letters, target) / len(target)
    spoken = _syllables(to_speech(name, SpeechProfile(latin=False)))
    by_sound = _lev(_syllables(rest), spoken) / len(spoken)
    if letters and _HAN.search(rest):  # "GPT四o": digits were mapped, so letters cover it
        by_letters = _lev(rest.translate(_HAN_DIGITS), target) / len(target)
    return round(min(1.0, by_letters, by_sound), 3), round(1 - matched / len(carrier), 3)


def _rows(path: Path) -> list[dict[str, object]]:
    """Rows from a result file, or from a log of one JSON row per line."""
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(x) for x in text.splitlines() if x]


def write_wav(path: Path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(kokoro.SAMPLE_RATE)
        fh.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


def table(rows: list[dict[str, object]]) -> str:
    """A markdown table of the results (scores: mean of both hosts), with counts per class."""
    out = ["| name | class | occurrences | (a) Chinese form | name err a | (b) English | name err b "
           "| carrier miss a / b | better |", "|---|---|---|---|---|---|---|---|---|"]
    wins: dict[str, list[int]] = {}
    for r in rows:
        a = (float(r["a_A_name"]) + float(r["a_B_name"])) / 2  # type: ignore[arg-type]
        b = (float(r["b_A_name"]) + float(r["b_B_name"])) / 2  # type: ignore[arg-type]
        ca = (float(r["a_A_carrier"]) + float(r["a_B_carrier"])) / 2  # type: ignore[arg-type]
        cb = (float(r["b_A_carrier"]) + float(r["b_B_carrier"])) / 2  # type: ignore[arg-type]
        better = "a" if a + ca < b + cb else "b" if b + cb < a + ca else "="
        w = wins.setdefault(str(r["class"]), [0, 0, 0])
        w["ab=".index(better)] += 1
        said = [str(r[k]).removeprefix(CARRIER[0]).removesuffix(CARRIER[1]) for k in ("a_text", "b_text")]
        out.append(f"| {r['name']} | {r['class']} | {r['count']} | {said[0]} | {a:.2f} "
                   f"| {said[1]} | {b:.2f} | {ca:.2f} / {cb:.2f} | {better} |")
    out.append("")
    for kind, (wa, wb, tie) in wins.items():
        out.append(f"- {kind}: (a) better {wa}, (b) better {wb}, equal {tie}")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, nargs="?", help="result file (not needed with --table)")
    ap.add_argument("--newsletters", type=Path, default=NEWSLETTERS)
    ap.add_argument("--wav", type=Path, help="also keep the clips here")
    ap.add_argument("--slice", default=":", help="a part of the list, START:STOP (to share the work)")
    ap.add_argument("--table", nargs="+", type=Path, help="rescore these result files, print a table")
    args = ap.parse_args()
    if args.table:
        rows = [row for path in args.table for row in _rows(path)]
        for row in rows:
            for key in [k for k in row if k.endswith("_heard")]:
                row[key[:-6] + "_name"], row[key[:-6] + "_carrier"] = score(str(row["name"]), str(row[key]))
        print(table(rows))
        return
    if args.out is None:
        ap.error("OUT is required unless --table is given")
    start, _, stop = args.slice.partition(":")
    chosen = list(enumerate(NAMES, 1))[int(start or 0) : int(stop) if stop else None]
    pool = kokoro.shared_pool(0)
    recogniser = Recogniser()
    words = tuple(builtin_lexicon().pinyin)
    respell = _respell()
    rows = []
    for i, (name, kind) in chosen:
        row: dict[str, object] = {"name": name, "class": kind,
                                  "count": occurrences(name, args.newsletters)}
        for way, text in (("a", chinese_text(name)), ("b", english_text(name))):
            row[f"{way}_text"] = text
            for host, voice, speed in HOSTS:
                audio, _ = kokoro.synthesize_phonemes(to_phonemes(text, words, respell), voice, speed, pool)
                if args.wav:
                    args.wav.mkdir(parents=True, exist_ok=True)
                    write_wav(args.wav / f"{i:02d}-{way}-{host}.wav", audio)
                heard = recogniser.transcribe(audio, kokoro.SAMPLE_RATE)
                row[f"{way}_{host}_heard"] = heard
                row[f"{way}_{host}_name"], row[f"{way}_{host}_carrier"] = score(name, heard)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        rows.append(row)
    args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
