"""Mandarin front end for Kokoro v1.0: speech text -> phonemes -> token ids.

The stock v1.0 path (misaki's ``ZHG2P``) reads every character with its
dictionary tone, so 总体 and 你好 keep two third tones and 一/不 never change.
Here the project's own speech text (already normalised by ``textnorm``, with
``词{ci2}`` reading marks from the lexicon) is cut into words with jieba, read
as tone-numbered pinyin with pypinyin, the marks override the readings, tone
sandhi is applied, and only then is each syllable turned into Kokoro's
phonemes with misaki's pinyin-to-IPA table.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from ..textnorm import iter_pinyin_marks

FRONTEND_VERSION = 2  # raise when the phonemes for a text change: it is part of the clip cache key

# Kokoro's pause tokens for the marks the speech text keeps.
PAUSES: Mapping[str, str] = {"，": ",", "、": ",", "。": ".", "！": "!", "？": "?",
                             "；": ";", "：": ":", "…": "…"}
_NUMERALS = set("零一二三四五六七八九十百千万亿两")
_DIGIT_READING = set("零一二三四五六七八九")


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@dataclass
class Syllable:
    """One Han character with its tone-numbered pinyin (``hao3``); tone 5 is neutral."""

    char: str
    pinyin: str

    @property
    def tone(self) -> int:
        return int(self.pinyin[-1]) if self.pinyin[-1].isdigit() else 5

    def retone(self, tone: int) -> None:
        base = self.pinyin[:-1] if self.pinyin[-1].isdigit() else self.pinyin
        self.pinyin = f"{base}{tone}"


Word = list[Syllable]


@dataclass(frozen=True)
class English:
    """A Latin word the speech text kept, with its English phonemes (misaki's US set)."""

    word: str
    phonemes: str


Item = Word | str | English  # a word, a pause mark from PAUSES, or an English word


def voices_dir() -> Path:
    """Where the committed Kokoro files live (the source tree, or the wheel's copy)."""
    here = Path(__file__).resolve().parent.parent
    for folder in (here.parent / "voices" / "kokoro", here / "_voices" / "kokoro"):
        if folder.is_dir():
            return folder
    return here.parent / "voices" / "kokoro"


@lru_cache(maxsize=1)
def vocab() -> dict[str, int]:
    """Kokoro v1.0's phoneme -> id table (``voices/kokoro/vocab.json``)."""
    return json.loads((voices_dir() / "vocab.json").read_text(encoding="utf-8"))["vocab"]


_tokenizer_lock = threading.Lock()
_tokenizers: dict[tuple[str, ...], object] = {}


def _tokenizer(words: tuple[str, ...]) -> object:
    """A private jieba tokenizer knowing the lexicon's words (the global one stays untouched)."""
    with _tokenizer_lock:
        tok = _tokenizers.get(words)
        if tok is None:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            for w in words:
                tok.add_word(w, freq=100000)
            _tokenizers[words] = tok
        return tok


def _clean_syllable(py: str) -> str:
    return py.replace("ü", "v").replace("u:", "v").lower()


def words(text: str, lexicon_words: Iterable[str] = (),
          respell: Mapping[str, str] | None = None) -> list[Item]:
    """Speech text -> words of syllables, English words and pause marks, honouring
    ``{pinyin}`` marks.

    Other characters are dropped here; the speech-text normaliser is responsible
    for keeping only Latin words that ``english_phonemes`` can say (``speakable``).
    """
    from pypinyin import Style, lazy_pinyin

    plain_parts: list[str] = []
    forced: dict[int, str] = {}
    pos = 0
    for piece, reading in iter_pinyin_marks(text):
        if reading is not None:
            han = [i for i, c in enumerate(piece) if _is_han(c)]
            for i, syl in zip(han[-len(reading):], reading, strict=False):
                forced[pos + i] = _clean_syllable(syl)
        plain_parts.append(piece)
        pos += len(piece)
    plain = "".join(plain_parts)
    tok = _tokenizer(tuple(sorted(lexicon_words)))
    out: list[Item] = []
    start = 0
    for token in tok.lcut(plain, HMM=True):  # type: ignore[attr-defined]
        begin, start = start, start + len(token)
        if token in PAUSES:
            out.append(PAUSES[token])
            continue
        if _LATIN_WORD.fullmatch(token):
            said = english_phonemes(token, respell)
            if said:
                out.append(English(token, said))
                continue
        chars = [(begin + i, c) for i, c in enumerate(token) if _is_han(c)]
        if not chars:
            continue
        readings = lazy_pinyin("".join(c for _, c in chars), style=Style.TONE3,
                               neutral_tone_with_five=True, errors="default")
        word = [Syllable(c, forced.get(i, _clean_syllable(py)))
                for (i, c), py in zip(chars, readings, strict=True)]
        out.append(word)
    return out


def sandhi(items: list[Item]) -> list[Item]:
    """Apply Mandarin tone sandhi in place: 3-3, 一 and 不. Returns ``items``."""
    flat: list[tuple[int, Syllable]] = []  # (word index, syllable) in reading order; pauses break
    boundaries: set[int] = set()  # positions in ``flat`` that follow a pause or an English word
    for wi, item in enumerate(items):
        if isinstance(item, (str, English)):
            boundaries.add(len(flat))
            continue
        flat.extend((wi, s) for s in item)
    original = [s.tone for _, s in flat]

    def following(k: int) -> Syllable | None:
        if k + 1 >= len(flat) or (k + 1) in boundaries:
            return None
        return flat[k + 1][1]

    def preceding(k: int) -> Syllable | None:
        if k == 0 or k in boundaries:
            return None
        return flat[k - 1][1]

    for k, (_, syl) in enumerate(flat):
        nxt, prev = following(k), preceding(k)
        if syl.char == "一" and syl.pinyin.startswith("yi"):
            syl.retone(_yi_tone(prev, nxt, original[k + 1] if nxt else None))
        elif syl.char == "不" and syl.pinyin.startswith("bu"):
            if prev is not None and nxt is not None and prev.char == nxt.char:
                syl.retone(5)  # 好不好
            elif nxt is not None and original[k + 1] == 4:
                syl.retone(2)
            else:
                syl.retone(4)
    _third_tones(items)
    return items


def _yi_tone(prev: Syllable | None, nxt: Syllable | None, next_tone: int | None) -> int:
    if prev is not None and (prev.char == "第" or prev.char in _NUMERALS):
        return 1  # 第一, 十一, 二零一五
    if nxt is None or nxt.char in _DIGIT_READING or nxt.char == "点":
        return 1  # final 一 ("统一"), digit strings, 一点五
    if prev is not None and prev.char == nxt.char:
        return 5  # 看一看
    return 2 if next_tone in (4, 5) else 4


def _third_tones(items: list[Item]) -> None:
    """3-3 -> 2-3 inside each word (runs: all but the last), and across a word boundary
    when one side is a single syllable (they form one prosodic word: 我想, 很好)."""
    for item in items:
        if isinstance(item, (str, English)):
            continue
        run: list[Syllable] = []
        for syl in [*item, None]:
            if syl is not None and syl.tone == 3:
                run.append(syl)
                continue
            for s in run[:-1]:
                s.retone(2)
            run = []
    for a, b in pairwise(items):
        if isinstance(a, (str, English)) or isinstance(b, (str, English)):
            continue
        if a[-1].tone == 3 and b[0].tone == 3 and (len(a) == 1 or len(b) == 1) and len(a) + len(b) <= 4:
            a[-1].retone(2)


@lru_cache(maxsize=4096)
def syllable_phonemes(py: str) -> str:
    """Kokoro v1.0 phonemes of one tone-numbered syllable (``hao3`` -> ``xau↓``)."""
    from misaki.zh import ZHG2P

    try:
        ipa = ZHG2P.py2ipa(py)
    except ValueError:
        if py[:-1].endswith("r") and len(py) > 2 and py[:-2] != "e":  # erhua: hua1r -> hua1 + ɚ
            return syllable_phonemes(py[:-2] + py[-1]) + "ɚ"
        if py[:-1] == "r":
            return "ɚ"
        raise
    return ipa.replace("\u032f", "")  # misaki drops the non-syllabic mark for v1.0


def _say(syl: Syllable) -> str:
    """A syllable's phonemes; a reading misaki cannot map (a rare character pypinyin left as
    itself, an interjection) falls back to the character's first dictionary reading, else nothing."""
    try:
        return syllable_phonemes(syl.pinyin)
    except ValueError:
        from pypinyin import Style, pinyin

        for reading in pinyin(syl.char, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)[0]:
            try:
                return syllable_phonemes(_clean_syllable(reading))
            except ValueError:
                continue
    return ""


def phonemes(items: Iterable[Item]) -> str:
    """Words joined by spaces, pauses as Kokoro's punctuation tokens."""
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            if out and out[-1] == " ":
                out.pop()
            out.append(item + " ")
            continue
        text = item.phonemes if isinstance(item, English) else "".join(_say(s) for s in item)
        if not text:
            continue
        if out and not out[-1].endswith(" "):
            out.append(" ")
        out.append(text)
    return "".join(out).strip()


def to_phonemes(text: str, lexicon_words: Iterable[str] = (),
                respell: Mapping[str, str] | None = None) -> str:
    """The whole front end: speech text (with ``{pinyin}`` marks) -> Kokoro phonemes."""
    return phonemes(sandhi(words(text, lexicon_words, respell)))


def to_pinyin(text: str, lexicon_words: Iterable[str] = ()) -> list[str]:
    """Tone-numbered pinyin after sandhi, for tests and for ``podcast say``-style inspection."""
    return [s.pinyin for item in sandhi(words(text, lexicon_words))
            if not isinstance(item, (str, English)) for s in item]


# --- English words --------------------------------------------------------------------------
# misaki's English phonemes can be fed to the Mandarin voices (the model is multilingual), but
# measured with the recogniser (docs/english-names.md) the Mandarin voices say them poorly:
# Chinese letter names and sounds were understood better for most names. So the engine keeps
# Chinese forms by default and says in English only what the lexicon's [english] lists.

_LATIN_WORD = re.compile(r"[A-Za-z]+")
_CAMEL = re.compile(r"[A-Z]{2,}(?=[A-Z][a-z]|$)|[A-Z]?[a-z]+|[A-Z]+")


@lru_cache(maxsize=1)
def english_dictionary() -> dict[str, str]:
    """misaki's bundled US dictionaries (gold over silver): word -> Kokoro phonemes.

    misaki's full English G2P needs spaCy and a downloaded model; the dictionaries ship
    in the wheel and cover the words model names are made of."""
    from importlib.resources import files

    table: dict[str, str] = {}
    for name in ("us_silver.json", "us_gold.json"):  # gold last: it wins
        data = json.loads((files("misaki.data") / name).read_text(encoding="utf-8"))
        for word, value in data.items():
            if isinstance(value, dict):
                value = value.get("DEFAULT") or next((v for v in value.values() if v), None)
            if isinstance(value, str):
                table[word] = value
    vocabulary = vocab()
    return {w: v for w, v in table.items() if all(c in vocabulary for c in v)}


def _lookup(word: str) -> str | None:
    table = english_dictionary()
    for form in (word.lower(), word, word.capitalize()):
        if form in table and (len(word) > 1 or form.isupper()):
            return table[form]
    return None


def _spell_english(letters: str) -> str:
    """English letter names (GPT -> dʒˈi pˈi tˈi), the way acronyms are said in AI talk."""
    table = english_dictionary()
    return " ".join(table[c.upper()] for c in letters)


def english_phonemes(word: str, respell: Mapping[str, str] | None = None) -> str | None:
    """Kokoro phonemes for one Latin word, or None when it should be said in Chinese.

    Order: the lexicon's ``[english]`` respelling (arXiv -> archive), acronyms of up
    to three letters or all in capitals spelled with English letter names (LLM, RLHF;
    a capitalised word the dictionary knows, MATH, is read as that word), dictionary
    words (Transformer), then CamelCase parts that are each known (PokerBench).
    Unknown words return None: the speech text gives them Chinese sounds instead, so
    nothing is lost.
    """
    respell = respell or {}
    low = word.lower()
    if low in respell:
        said = [english_phonemes(w) for w in respell[low].split()]
        return " ".join(p for p in said if p) or None
    if len(word) == 1:
        return _spell_english(word)
    if word.isupper():
        if len(word) >= 4 and low in english_dictionary():
            return english_dictionary()[low]
        return _spell_english(word)
    if len(word) <= 3 and sum(c.isupper() for c in word) >= 2:
        return _spell_english(word)  # CoT, MoE: said letter by letter, not "cot"
    found = _lookup(word)
    if found:
        return found
    parts = _CAMEL.findall(word)
    if len(parts) > 1:
        said = [english_phonemes(p, respell) for p in parts]
        if all(said):
            return " ".join(p for p in said if p)
        return None
    return None


def latin_class(word: str, respell: Mapping[str, str] | None = None) -> str:
    """"letters" for a word said letter by letter (LLM, CoT, the R of R1), "word" for one
    said as English words (Transformer, PokerBench, arXiv), "" when misaki cannot say it."""
    said = english_phonemes(word, respell)
    if said is None:
        return ""
    if (respell and word.lower() in respell) or said != _spell_english(word):
        return "word"
    return "letters"


def speakable(word: str, respell: Mapping[str, str] | None = None,
              chinese: Mapping[str, str] | None = None,
              classes: Iterable[str] = ("letters", "word")) -> bool:
    """Whether the speech text should keep ``word`` for Kokoro to say in English.

    A word the lexicon's ``[english]`` lists is kept; otherwise words of the given
    ``latin_class`` classes, unless ``[sounds]`` gives them a Chinese form
    (Qwen -> 千问, Google -> 谷歌)."""
    low = word.lower()
    if respell and low in respell:
        return english_phonemes(word, respell) is not None
    if chinese and low in chinese:
        return False
    wanted = set(classes)
    return bool(wanted) and latin_class(word, respell) in wanted  # no class wanted: skip the dictionary


def to_ids(phoneme_text: str) -> list[int]:
    """Token ids from the model vocab. Unknown symbols are an error, never skipped silently."""
    table = vocab()
    missing = sorted({c for c in phoneme_text if c not in table})
    if missing:
        raise ValueError(f"phonemes not in the Kokoro vocab: {''.join(missing)!r}")
    return [table[c] for c in phoneme_text]


_CLAUSE_CUT = re.compile(r"(?<=[,;:])\s")
_SENTENCE_CUT = re.compile(r"(?<=[.!?…])\s")


def split_phonemes(text: str, limit: int) -> list[tuple[str, bool]]:
    """Cut a phoneme string into pieces of at most ``limit`` symbols.

    Sentences first, then clauses (commas), then word spaces as a last resort.
    Each piece comes with True when it ends a sentence (a longer pause follows).
    """
    pieces: list[tuple[str, bool]] = []
    for sentence in _SENTENCE_CUT.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        for chunk in _pack(_CLAUSE_CUT.split(sentence), limit, ", "):
            for part in ([chunk] if len(chunk) <= limit else _pack(chunk.split(" "), limit, " ")):
                pieces.append((part, False))
        pieces[-1] = (pieces[-1][0], True)
    return pieces


def _pack(parts: list[str], limit: int, joiner: str) -> list[str]:
    out: list[str] = []
    for part in parts:
        part = part.strip()
        if not part:
            continue
        glue = " " if joiner == ", " else joiner
        if out and len(out[-1]) + len(glue) + len(part) <= limit:
            out[-1] = out[-1] + glue + part
        else:
            out.append(part)
    hard: list[str] = []
    for piece in out:
        while len(piece) > limit:  # one word longer than the limit: cut anywhere
            hard.append(piece[:limit])
            piece = piece[limit:]
        hard.append(piece)
    return hard
