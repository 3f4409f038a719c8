"""Turns display text into text a given speech engine can say.

The embedded Mandarin models only know pinyin syllables: they silently drop every
Latin letter and pauses only at 、，。！？. So before synthesis we remove markup
and links, read numbers the way a host would, and turn English into Chinese
sounds (a glossary first, letter names for acronyms, a syllable
transliteration for the rest). Display text in scripts and transcripts is never
changed; this is applied only on the way into an engine.

Engines that read English (edge-tts) keep Latin words but still get numbers,
versions and sizes written the way a Chinese host says them. A pronunciation
lexicon (``voices/lexicon.toml``, extendable per project) holds abbreviations,
Chinese sounds for names, and pinyin for polyphonic words.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DIGITS = "零一二三四五六七八九"
_SMALL_UNITS = ("", "十", "百", "千")
_BIG_UNITS = ("", "万", "亿", "万亿")

# Chinese letter names, as Mandarin speakers read acronyms aloud.
LETTERS: Mapping[str, str] = {
    "A": "诶", "B": "必", "C": "西", "D": "迪", "E": "伊", "F": "艾弗", "G": "吉",
    "H": "艾尺", "I": "艾", "J": "杰", "K": "开", "L": "艾勒", "M": "艾姆", "N": "恩",
    "O": "欧", "P": "披", "Q": "丘", "R": "阿", "S": "艾斯", "T": "踢", "U": "优",
    "V": "维", "W": "达不溜", "X": "艾克斯", "Y": "歪", "Z": "贼",
}

_CONSONANT_ROWS: Mapping[str, str] = {
    # onset -> syllable for vowels a, e, i, o, u (a transliteration table)
    "": "阿厄伊奥乌", "b": "巴贝比波布", "c": "卡瑟西科库", "d": "达德迪多杜",
    "f": "法费菲佛弗", "g": "加格吉戈古", "h": "哈赫希霍胡", "j": "贾杰吉乔朱",
    "k": "卡克基科库", "l": "拉勒利洛卢", "m": "马梅米莫穆", "n": "纳内尼诺努",
    "p": "帕佩皮波普", "q": "夸奎奇阔库", "r": "拉瑞里罗鲁", "s": "萨塞西索苏",
    "t": "塔特蒂托图", "v": "瓦维维沃武", "w": "瓦韦威沃伍", "x": "克萨克塞克西克索克苏",
    "y": "亚耶伊约尤", "z": "扎泽齐佐祖", "sh": "沙舍希肖舒", "ch": "查切奇乔丘",
    "th": "萨瑟西索苏", "ph": "法费菲佛弗", "tr": "特拉特雷特里特罗特鲁",
}
_CODA: Mapping[str, str] = {
    "b": "布", "c": "克", "d": "德", "f": "夫", "g": "格", "h": "", "j": "奇", "k": "克",
    "l": "尔", "m": "姆", "n": "恩", "p": "普", "q": "克", "r": "尔", "s": "斯", "t": "特",
    "v": "夫", "w": "", "x": "克斯", "y": "", "z": "兹", "ng": "恩", "th": "斯", "sh": "什",
    "ch": "奇", "ck": "克", "ll": "尔", "ss": "斯", "ts": "茨",
}
_VOWEL_INDEX = {"a": 0, "e": 1, "i": 2, "o": 3, "u": 4, "y": 2}

_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#@!$&'*+=%]+", re.I)
# Only real tags are dropped: a known HTML or reasoning tag, with name="value" attributes only, or a
# bare <name>/</name> of two or more letters (<tool_call>), or a chat token (<|im_end|>). Anything
# else between < and > is prose ("当 n<k 时，误差>0.1") and is spoken, comparisons included.
_TAG_NAMES = ("think|thinking|answer|reasoning|reflection|output|b|i|u|s|q|a|p|em|strong|br|hr|span|div|"
              "sup|sub|code|pre|img|mark|small|big|del|ins|tt|h[1-6]|li|ul|ol|font|blockquote|table|tr|"
              "td|th|center|cite|abbr|html|body|head|title|script|style|iframe|svg|math")
_ATTRS = r"""(?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>=]+))*"""
_THINK = re.compile(rf"</?\s*(?:{_TAG_NAMES})(?![\w-]){_ATTRS}\s*/?>|</?[A-Za-z][\w-]+/?>|<\|[^<>|\s]*\|>",
                    re.I)
_COMPARISON = re.compile(r"(?<=[\w)\]）%.′'])\s*(<=|>=|≤|≥|⩽|⩾|<|>)\s*(?=[\w(（\[+−$]|-\d)")
_COMPARISON_WORDS = {"<": "小于", ">": "大于", "<=": "小于等于", ">=": "大于等于", "≤": "小于等于",
                     "≥": "大于等于", "⩽": "小于等于", "⩾": "大于等于"}
_LATEX_CMD_ARG = re.compile(r"\\(?:textbf|textit|emph|text|mathrm|mathbf|texttt|underline)\{([^{}]*)\}")
_LATEX_CMD = re.compile(r"\\[A-Za-z]+\*?")
_MARKDOWN = re.compile(r"[*_`#>|\[\]{}$^\\]")
_BRACKETS = re.compile(r"[（(【\[「『《<〈“”\"'‘’)）】\]」』》>〉]")
_PUNCT_TO_COMMA = re.compile(r"[；;：:—–…·\-~/／]+")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


LONGEST_NUMBER = 16  # digits; 万亿 is the largest unit, so longer runs are read digit by digit


def int_to_chinese(n: int, *, two_for_leading_two: bool = True) -> str:
    """Read a non-negative integer as Mandarin (1050 -> 一千零五十, 12 -> 十二)."""
    if n == 0:
        return "零"
    if n < 0:
        return "负" + int_to_chinese(-n)
    if n >= 10**LONGEST_NUMBER:  # no unit above 万亿: an id or a hash, not a quantity
        return digits_to_chinese(str(n))
    groups: list[int] = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    parts: list[str] = []
    need_zero = False
    for gi in range(len(groups) - 1, -1, -1):
        g = groups[gi]
        if g == 0:
            need_zero = bool(parts)
            continue
        text = _four_digits(g, leading=not parts)
        if parts and (need_zero or g < 1000):
            text = "零" + text.lstrip("零")
        parts.append(text + _BIG_UNITS[gi])
        need_zero = False
    out = "".join(parts)
    if out.startswith("一十"):
        out = out[1:]
    if two_for_leading_two:
        out = re.sub(r"^二(?=[百千万亿])", "两", out)
        out = out.replace("二千", "两千")
    return out


def _four_digits(g: int, leading: bool) -> str:
    digits = f"{g:04d}"
    out = []
    zero = False
    started = False
    for i, ch in enumerate(digits):
        d = int(ch)
        unit = _SMALL_UNITS[3 - i]
        if d == 0:
            zero = started
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[d] + unit)
        started = True
    return "".join(out)


def digits_to_chinese(s: str) -> str:
    """Read digit by digit, as for years and ids (2025 -> 二零二五)."""
    return "".join(DIGITS[int(c)] for c in s if c.isdigit())


def number_to_chinese(s: str) -> str:
    """Read a decimal string: "58.8" -> 五十八点八, "1,000,000" -> 一百万."""
    s = s.replace(",", "")
    whole, _, frac = s.partition(".")
    if len(whole.lstrip("0")) > LONGEST_NUMBER:  # int() of thousands of digits would raise
        head = digits_to_chinese(whole)
    else:
        head = int_to_chinese(int(whole)) if whole else "零"
    return head + ("点" + digits_to_chinese(frac) if frac else "")


def spell(word: str) -> str:
    """Spell letters with their Chinese names (GPT -> 吉披踢)."""
    return "".join(LETTERS.get(c.upper(), "") for c in word)


def transliterate(word: str) -> str:
    """Approximate an English word with Chinese syllables, so it is not dropped."""
    w = word.lower()
    out: list[str] = []
    i = 0
    while i < len(w):
        onset = ""
        for size in (2, 1):
            cand = w[i : i + size]
            if cand in _CONSONANT_ROWS and cand and cand not in "aeiou":
                if size == 1 and cand == "y" and i + 1 < len(w) and w[i + 1] not in "aeiou":
                    break
                onset = cand
                break
        j = i + len(onset)
        if j < len(w) and w[j] in _VOWEL_INDEX and not (w[j] == "y" and onset == ""):
            row = _CONSONANT_ROWS[onset]
            width = len(row) // 5
            k = _VOWEL_INDEX[w[j]]
            out.append(row[k * width : (k + 1) * width])
            j += 1
            while j < len(w) and w[j] in "aeiou":
                j += 1
            i = j
            continue
        for size in (2, 1):
            cand = w[i : i + size]
            if cand in _CODA:
                out.append(_CODA[cand])
                i += size
                break
        else:
            i += 1
    return "".join(out)



@dataclass(frozen=True)
class Lexicon:
    """How terms are spoken: ``terms`` for every engine, ``sounds`` for engines
    without Latin letters, ``pinyin`` readings for engines that take pinyin,
    ``english`` respellings in plain English words for engines that pronounce
    English words (Kokoro: ``arXiv`` -> "archive", ``AIME`` -> "aim").
    Keys are stored lower-case; matching is case-insensitive."""

    terms: Mapping[str, str] = field(default_factory=dict)
    sounds: Mapping[str, str] = field(default_factory=dict)
    pinyin: Mapping[str, str] = field(default_factory=dict)
    english: Mapping[str, str] = field(default_factory=dict)

    def merged(self, other: Lexicon) -> Lexicon:
        return Lexicon({**self.terms, **other.terms}, {**self.sounds, **other.sounds},
                       {**self.pinyin, **other.pinyin}, {**self.english, **other.english})


_PINYIN_SYLLABLE = re.compile(r"[a-zü]+[1-5]")


class LexiconError(ValueError):
    """A bad lexicon entry; the message names the table and key."""


def read_lexicon(path: Path) -> Lexicon:
    """Parse one lexicon file. Raises ``LexiconError`` naming the table and key."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"invalid TOML: {exc}") from exc
    unknown = set(data) - {"terms", "sounds", "pinyin", "english"}
    if unknown:
        raise LexiconError(f"unknown table [{sorted(unknown)[0]}] (use terms, sounds, pinyin or english)")
    tables: dict[str, dict[str, str]] = {}
    for table in ("terms", "sounds", "pinyin", "english"):
        entries = data.get(table, {})
        if not isinstance(entries, dict):
            raise LexiconError(f"[{table}] must be a table of \"term\" = \"spoken\" entries")
        out: dict[str, str] = {}
        for key, value in entries.items():
            if not isinstance(value, str) or not value.strip():
                raise LexiconError(f"{table}.{key}: must be a non-empty string")
            if table == "pinyin":
                syllables = value.split()
                if not all(_PINYIN_SYLLABLE.fullmatch(x) for x in syllables):
                    raise LexiconError(f"pinyin.{key}: {value!r} is not tone-numbered pinyin like 'chong2'")
                if len(syllables) != len(key) or not all(_is_han(c) for c in key):
                    raise LexiconError(f"pinyin.{key}: give one syllable per Chinese character")
            out[key.lower()] = value.strip()
        tables[table] = out
    return Lexicon(**tables)


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@lru_cache(maxsize=1)
def builtin_lexicon() -> Lexicon:
    """The lexicon shipped in ``voices/lexicon.toml`` (or its copy in the wheel)."""
    here = Path(__file__).parent
    for folder in (here.parent / "voices", here / "_voices"):
        if (folder / "lexicon.toml").exists():
            return read_lexicon(folder / "lexicon.toml")
    return Lexicon()


def english_to_speech(token: str, sounds: Mapping[str, str]) -> str:
    """Say one Latin token: lexicon sounds, then acronym spelling, then transliteration."""
    low = token.lower()
    if low in sounds:
        return sounds[low]
    letters = re.sub(r"[^A-Za-z]", "", token)
    if not letters:
        return ""
    upper = sum(1 for c in letters if c.isupper())
    if len(letters) <= 3 or upper >= max(2, len(letters) - 1):
        return spell(letters)
    # CamelCase words such as "VideoRAG": speak each part on its own.
    parts = re.findall(r"[A-Z]{2,}(?=[A-Z][a-z]|$)|[A-Z]?[a-z]+|[A-Z]+", letters)
    if len(parts) > 1:
        return "".join(english_to_speech(p, sounds) for p in parts)
    return transliterate(letters)


@dataclass(frozen=True)
class SpeechProfile:
    """What one engine can say.

    ``latin`` False means Latin letters must become Chinese sounds; ``pinyin``
    True means the engine accepts ``字{zi4}`` reading marks for polyphones.
    """

    latin: bool = False
    pinyin: bool = False
    lexicon: Lexicon = field(default_factory=builtin_lexicon)
    # With ``latin`` False: Latin words for which this returns True are kept as they are
    # (an engine that pronounces some English words itself); all others become Chinese sounds.
    keep_latin: Callable[[str], bool] | None = None


_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_UNITS: Mapping[str, str] = {
    "khz": "千赫兹", "hz": "赫兹", "ghz": "吉赫兹", "ms": "毫秒", "fps": "帧每秒", "db": "分贝",
    "gb": "G", "tb": "T", "mb": "兆", "px": "像素", "°c": "摄氏度", "h": "小时", "min": "分钟",
}
_SIZE_CONTEXT = r"(?=\s*(?:个)?(?:参数|规模|量级|级别|条|token|托肯))"


def scaled_to_chinese(value: float) -> str:
    """Say a large quantity with 万 and 亿 (7e9 -> 七十亿, 1.5e6 -> 一百五十万)."""
    if value == int(value) and value < 1e12:
        return int_to_chinese(int(value))
    for unit, size in (("万亿", 1e12), ("亿", 1e8), ("万", 1e4)):
        if value >= size:
            head = _trim_number(value / size)
            return ("两" if head == "二" else head) + unit
    return _trim_number(value)


def _trim_number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return number_to_chinese(text)


def _scale(m: re.Match[str]) -> str:
    if len(m[1]) > LONGEST_NUMBER:  # float() of it could be inf; say the digits, then the letter
        return number_to_chinese(m[1]) + m[2]
    return scaled_to_chinese(float(m[1].replace(",", "")) * _SCALE[m[2].lower()])


def _money(amount: str) -> str:
    """2.50 -> 二点五: trailing zeros of a price are not said."""
    if "." in amount:
        amount = amount.rstrip("0").rstrip(".")
    return number_to_chinese(amount)


def _unit(m: re.Match[str]) -> str:
    return number_to_chinese(m[1]) + _UNITS[m[2].lower()]


_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    # 2025-01-09 -> 二零二五年一月九日 ; 2025年 -> 二零二五年
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
     lambda m: f"{digits_to_chinese(m[1])}年{int_to_chinese(int(m[2]))}月{int_to_chinese(int(m[3]))}日"),
    (re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)\s*[-~～到至]\s*(1[89]\d\d|20\d\d)(?=\s*年)"),
     lambda m: f"{digits_to_chinese(m[1])}到{digits_to_chinese(m[2])}"),
    (re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?=\s*年)"), lambda m: digits_to_chinese(m[1])),
    # a year after a name (AIME 2024, CVPR 2025) is read digit by digit
    (re.compile(r"(?<=[A-Za-z])(\s*)(19\d\d|20\d\d)(?![\d.%])"), lambda m: m[1] + digits_to_chinese(m[2])),
    # arXiv ids are read digit by digit
    (re.compile(r"(?<![\d.])(\d{4})\.(\d{4,5})(?![\d.])"),
     lambda m: f"{digits_to_chinese(m[1])}点{digits_to_chinese(m[2])}"),
    # a price per quantity: "$2.50/1M tokens" -> ... 每 ... (the slash is not a pause here)
    (re.compile(rf"((?:US)?\$\s*{_NUMBER}\s*(?:[kKmMbB](?![A-Za-z]))?)\s*/\s*"), lambda m: m[1] + "每"),
    # money: $5 / $1.2M / US$300
    (re.compile(rf"(?:US)?\$\s*({_NUMBER})\s*([kKmMbB])(?![A-Za-z])"), lambda m: _scale(m) + "美元"),
    (re.compile(rf"(?:US)?\$\s*({_NUMBER})"), lambda m: _money(m[1]) + "美元"),
    # +4.5% / 58.8% / 3-5%
    (re.compile(rf"[+＋]?({_NUMBER})\s*[%％]"), lambda m: "百分之" + number_to_chinese(m[1])),
    (re.compile(rf"({_NUMBER})\s*[-~～到至]\s*(?=百分之)"),
     lambda m: "百分之" + number_to_chinese(m[1]) + "到"),
    # 8/15 -> 十五分之八
    (re.compile(r"(?<![\d/])(\d+)\s*/\s*(\d+)(?![\d/])"),
     lambda m: f"{number_to_chinese(m[2])}分之{number_to_chinese(m[1])}"),
    # 3:4 -> 三比四
    (re.compile(r"(?<![\d:])(\d+)\s*[:：]\s*(\d+)(?![\d:])"),
     lambda m: f"{number_to_chinese(m[1])}比{number_to_chinese(m[2])}"),
    # Mixture-of-experts sizes. 8x7B -> 八个七十亿 (eight experts of 7B, not 八乘七必);
    # Qwen3-235B-A22B -> ...，激活两百二十亿 (the "A" is the activated size, 诶二十二必 means nothing)
    (re.compile(rf"(?<![A-Za-z\d.])(\d+)\s*[xX×]\s*({_NUMBER})\s*([BbMm])(?![A-Za-z\d])"),
     lambda m: number_to_chinese(m[1]) + "个" + scaled_to_chinese(float(m[2]) * _SCALE[m[3].lower()])),
    (re.compile(rf"(?<![A-Za-z\d.])A({_NUMBER})\s*([BbMm])(?![A-Za-z\d])"),
     lambda m: "，激活" + scaled_to_chinese(float(m[1]) * _SCALE[m[2].lower()]) + "，"),
    # 70B 参数 -> 七百亿参数 ; 1M tokens -> 一百万 ; 747k -> 七十四万七千
    (re.compile(rf"(?<![A-Za-z\d.])({_NUMBER})\s*([BbTt])" + _SIZE_CONTEXT), _scale),
    (re.compile(rf"(?<![A-Za-z])({_NUMBER})\s*([kKmM])(?![A-Za-z])"), _scale),
    # a model size: 37B, 8B, 1.5B (a bare B after a number is billions, 三十七必 means nothing)
    (re.compile(rf"(?<![A-Za-z\d.])({_NUMBER})\s*([Bb])(?![A-Za-z\d])"), _scale),
    # 12.5Hz, 200ms, 30fps
    (re.compile(rf"({_NUMBER})\s*(kHz|GHz|Hz|ms|fps|dB|GB|TB|MB|px|°C|h|min)(?![A-Za-z])", re.I), _unit),
    # 8x / 2.3× -> 八倍
    (re.compile(rf"({_NUMBER})\s*[xX×](?![A-Za-z\d])"), lambda m: number_to_chinese(m[1]) + "倍"),
    # 8x7B -> 八乘七B
    (re.compile(r"(\d+)\s*[xX×]\s*(?=\d)"), lambda m: number_to_chinese(m[1]) + "乘"),
    # 10-20 ranges
    (re.compile(rf"({_NUMBER})\s*[-~～]\s*({_NUMBER})"),
     lambda m: f"{number_to_chinese(m[1])}到{number_to_chinese(m[2])}"),
    # a leading zero is said (MiniMax-01 -> 零一), digit by digit
    (re.compile(r"(?<![\d.,])0\d+(?![\d.,])"), lambda m: digits_to_chinese(m[0])),
    (re.compile(r"\bv(\d+(?:\.\d+)*)", re.I),
     lambda m: "V" + "点".join(number_to_chinese(p) for p in m[1].split("."))),
]
_NAME = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9.]*(?:-[A-Za-z0-9.]+)+")
_PLAIN_NUMBER = re.compile(rf"[+＋]?({_NUMBER})")
_LATIN = re.compile(r"[A-Za-z][A-Za-z'’]*")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u20e3]")


def _replace_terms(text: str, table: Mapping[str, str]) -> str:
    """Replace lexicon keys (longest first) where they stand as whole words."""
    for key in sorted(table, key=len, reverse=True):
        if key.lower() not in text.lower():
            continue
        pattern = re.escape(key).replace(r"\ ", r"\s+")
        head = r"(?<![A-Za-z0-9])" if key[0].isalnum() else ""
        tail = r"(?![A-Za-z0-9])" if key[-1].isalnum() else ""
        text = re.sub(head + pattern + tail, lambda _m, v=table[key]: v, text, flags=re.I)  # type: ignore[misc]
    return text


def _mark_pinyin(text: str, readings: Mapping[str, str]) -> str:
    """Append ``{pinyin}`` after lexicon words: 重排序 -> 重排序{chong2 pai2 xu4}."""
    for word in sorted(readings, key=len, reverse=True):
        text = re.sub(rf"{re.escape(word)}(?!\{{)", lambda m, w=word: f"{m[0]}{{{readings[w]}}}",  # type: ignore[misc]
                      text)
    return text


def clean_markup(text: str) -> str:
    """Strip what no engine should read: URLs, tags like <think>, LaTeX, markdown, emoji.

    Comparison signs between two terms become words (n<k -> n小于k), since engines skip them.
    """
    text = _URL.sub(" ", text)
    text = _THINK.sub(" ", text)
    text = _COMPARISON.sub(lambda m: _COMPARISON_WORDS[m[1]], text)
    text = _EMOJI.sub("", text)
    text = text.replace("\\%", "%").replace("\\&", "和").replace("\\_", " ")
    text = _LATEX_CMD_ARG.sub(r"\1", text)
    text = _LATEX_CMD.sub(" ", text)
    money = re.sub(r"\$(?=\s*\d)", "\x01", text)  # keep $5, drop $x$ math
    return _MARKDOWN.sub(" ", money).replace("\x01", "$")


def to_speech(text: str, profile: SpeechProfile | None = None) -> str:
    """Normalise display ``text`` into what the engine described by ``profile`` can say.

    Returns "" when nothing speakable is left (a line of only punctuation).
    """
    profile = profile or SpeechProfile()
    lex = profile.lexicon
    text = clean_markup(text)
    text = _replace_terms(text, lex.terms)
    text = text.replace("&", "和")
    if not profile.latin:
        # whole names with digits or hyphens ("SWE-bench") before hyphens are split
        english = lex.english if profile.keep_latin else {}
        text = _replace_terms(text, {k: v for k, v in lex.sounds.items()
                                     if not k.isalpha() and k not in english})
    # hyphens inside names (GPT-4o, Llama-3.1-8B, SWE-Fixer) are not pauses or ranges
    text = _NAME.sub(lambda m: m[0].replace("-", " "), text)
    # a version then a size (Llama 3.1 8B): a short pause, or it reads as 三点一八
    text = re.sub(r"(?<=\d)\s+(?=\d+(?:\.\d+)?[BbMmKkTt](?![A-Za-z]))", "，", text)
    # symbols that no engine says on its own
    text = text.replace("±", "正负").replace("@", "艾特")
    text = re.sub(r"(?<=[\u4e00-\u9fff])-(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])-(?=[\u4e00-\u9fff])", "", text)
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    # A model name like Qwen2.5-Math-7B: split digits from letters before reading.
    text = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)
    text = _PLAIN_NUMBER.sub(lambda m: number_to_chinese(m[1]), text)
    if not profile.latin:
        keep = profile.keep_latin or (lambda _word: False)
        text = _LATIN.sub(lambda m: m[0] if keep(m[0]) else english_to_speech(m[0], lex.sounds), text)
    text = _punctuate(text, profile.latin or profile.keep_latin is not None)
    if profile.pinyin and lex.pinyin:
        text = _mark_pinyin(text, lex.pinyin)
    return text if any(_is_han(c) or c.isalnum() for c in text) else ""


def _punctuate(text: str, latin: bool) -> str:
    """Leave only the pauses engines honour (，。！？、) and no runs of them."""
    text = _SENTENCE_END.sub("。", text)
    text = _BRACKETS.sub("，", text)
    text = _PUNCT_TO_COMMA.sub("，", text)
    text = text.replace(",", "，").replace("!", "！").replace("?", "？").replace(".", "，")
    if latin:
        text = re.sub(r"\s+", " ", text)
        text = re.sub(r"(?<![A-Za-z]) | (?![A-Za-z])", "", text)  # spaces only between Latin words
    else:
        text = re.sub(r"\s+", "", text)
    text = re.sub(r"[，、]+([。！？])", r"\1", text)
    text = re.sub(r"([，、。！？])[，、]+", r"\1", text)
    text = re.sub(r"([。！？])[。！？]+", r"\1", text)
    return text.strip("，、 ")


def split_sentences(text: str, marks: str = "。！？", max_chars: int = 60) -> list[str]:
    """Split speech text into sentence chunks, keeping the mark, and cap the length.

    Long sentences are broken at commas so no single synthesis call gets a
    paragraph (the model's prosody degrades on very long inputs).
    """
    chunks = [c for c in re.split(rf"(?<=[{marks}])", text) if c.strip()]
    out: list[str] = []
    for chunk in chunks:
        while len(chunk) > max_chars:
            cut = max(chunk.rfind(p, 0, max_chars) for p in "，、")
            cut = cut + 1 if cut > 0 else max_chars
            out.append(chunk[:cut])
            chunk = chunk[cut:]
        if chunk.strip("，、。！？ "):
            out.append(chunk)
    return out


PINYIN_MARK = re.compile(r"\{([a-zü1-5 ]+)\}")


def without_pinyin_marks(text: str) -> str:
    """The words an engine says, without the ``{chong2 pai2 xu4}`` readings attached to them."""
    return PINYIN_MARK.sub("", text)


def iter_pinyin_marks(text: str) -> Iterable[tuple[str, list[str] | None]]:
    """Split ``重排序{chong2 pai2 xu4}好`` into ("重排序", [...]) and ("好", None) pieces."""
    pos = 0
    for m in PINYIN_MARK.finditer(text):
        syllables = m[1].split()
        head = text[pos : m.start()]
        k = len(syllables)
        if k <= len(head):
            if head[:-k]:
                yield head[:-k], None
            yield head[-k:], syllables
        pos = m.end()
    if text[pos:]:
        yield text[pos:], None
