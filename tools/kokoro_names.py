"""Render model and benchmark names two ways with a Kokoro Mandarin voice, for a listen-back test.

    uv run python tools/kokoro_names.py OUT_DIR [--voice zf_xiaoxiao] [--names FILE]

For each name it writes ``NN-zh.wav`` (the project's spoken Chinese form: lexicon
sounds, letter names, numbers in Chinese) and ``NN-en.wav`` (English phonemes
from misaki's bundled US pronunciation dictionaries, no download, read by the
same Mandarin voice), each inside the same Chinese carrier sentence, plus
``names.tsv`` with the texts and phonemes. A speech recogniser can then say
which of the two a listener would understand.

The English side is a prototype: dictionary words, CamelCase parts, letters
named in English, numbers said in English; words missing from the dictionary
are spelled.
"""

from __future__ import annotations

import argparse
import json
import re
import wave
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np

from podcast.speech import kokoro
from podcast.speech.mandarin import to_phonemes
from podcast.textnorm import SpeechProfile, builtin_lexicon, to_speech

# Real names from the daily paper newsletters and the benchmarks they cite.
NAMES = [
    "DeepSeek-R1", "R1-Zero", "Search-o1", "SWE-Fixer", "MiniMax-01", "LlamaV-o1", "O1-Pruner",
    "GaussianAvatar-Editor", "X-Dyna", "TA-TiTok", "URSA-RM", "Meta-CoT", "Qwen2.5-Math-7B",
    "GPT-4o", "Llama-3.1-8B", "Claude 3.5 Sonnet", "Gemini-2.5-Pro", "SWE-bench Verified", "OpenAI",
    "Hugging Face", "Mixtral-8x7B", "VideoRAG", "rStar-Math", "QwQ-32B-Preview", "GPQA", "MATH-500",
    "AIME 2024", "LiveCodeBench", "MMLU", "HumanEval", "Hunyuan", "Transformer",
]
CARRIER = ("今天我们聊聊", "这个工作。")
_NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, str]:
    table: dict[str, str] = {}
    for name in ("us_silver.json", "us_gold.json"):  # gold last: it wins
        data = json.loads((files("misaki.data") / name).read_text(encoding="utf-8"))
        for word, value in data.items():
            if isinstance(value, dict):
                value = value.get("DEFAULT") or next(iter(value.values()))
            if isinstance(value, str):
                table[word] = value
    return table


def _lookup(word: str) -> str | None:
    d = _dictionary()
    for form in (word, word.lower(), word.capitalize()):
        if form in d:
            return d[form]
    return None


def _letters(word: str) -> str:
    return " ".join(_lookup(c.upper()) or "" for c in word if c.isalpha())


def _number(digits: str) -> str:
    parts = []
    for piece in re.findall(r"\d+|\.", digits):
        if piece == ".":
            parts.append(_lookup("point") or "")
        else:
            parts.extend(_lookup(_NUMBER_WORDS[int(c)]) or "" for c in piece)
    return " ".join(parts)


def english_phonemes(name: str) -> str:
    """Kokoro (misaki US) phonemes for a name: words from the dictionary, else letters."""
    out: list[str] = []
    for token in re.findall(r"\d+(?:\.\d+)?|[A-Za-z]+", name):
        if token[0].isdigit():
            out.append(_number(token))
            continue
        parts = re.findall(r"[A-Z]{2,}(?=[A-Z][a-z]|$)|[A-Z]?[a-z]+|[A-Z]+", token) or [token]
        for part in parts:
            acronym = part.isupper() and len(part) <= 5
            found = None if acronym and len(part) > 1 else _lookup(part)
            out.append(found or _letters(part))
    return " ".join(p for p in out if p)


def chinese_phonemes(name: str) -> str:
    profile = SpeechProfile(latin=False, pinyin=True)
    words = tuple(builtin_lexicon().pinyin)
    return to_phonemes(to_speech(CARRIER[0] + name + CARRIER[1], profile), words)


def mixed_phonemes(name: str) -> str:
    """The carrier in Mandarin with the name in English phonemes."""
    head = to_phonemes(CARRIER[0])
    tail = to_phonemes(CARRIER[1])
    return f"{head} {english_phonemes(name)} {tail}"


def write_wav(path: Path, audio: np.ndarray) -> None:
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(kokoro.SAMPLE_RATE)
        fh.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--voice", default="zf_xiaoxiao")
    ap.add_argument("--names", type=Path, help="one name per line (default: the built-in list)")
    args = ap.parse_args()
    names = args.names.read_text(encoding="utf-8").split("\n") if args.names else NAMES
    names = [n.strip() for n in names if n.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    pool = kokoro.shared_pool()
    rows = ["n\tname\tzh_text\tzh_phonemes\ten_phonemes"]
    for i, name in enumerate(names, 1):
        zh, en = chinese_phonemes(name), mixed_phonemes(name)
        for tag, ph in (("zh", zh), ("en", en)):
            audio, _ = kokoro.synthesize_phonemes(ph, args.voice, 1.0, pool)
            write_wav(args.out / f"{i:02d}-{tag}.wav", audio)
        spoken = to_speech(name, SpeechProfile(latin=False, pinyin=True))
        rows.append(f"{i:02d}\t{name}\t{spoken}\t{zh}\t{en}")
        print(f"{i:02d} {name}: {spoken} | {english_phonemes(name)}", flush=True)
    (args.out / "names.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    pool.close()


if __name__ == "__main__":
    main()
