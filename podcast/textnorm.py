"""Turns display text into text a given speech engine can say.

The offline Mandarin model only knows pinyin syllables: it silently drops every
Latin letter and pauses only at 、，。！？. So before synthesis we remove markup
and links, read numbers the way a host would, and turn English into Chinese
sounds (a glossary first, letter names for acronyms, a syllable
transliteration for the rest). Display text in scripts and transcripts is never
changed; this is applied only on the way into an engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

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

# Names and words that are better said the way Chinese listeners know them.
GLOSSARY: Mapping[str, str] = {
    "hugging face": "抱抱脸", "huggingface": "抱抱脸", "openai": "欧喷爱", "google": "谷歌",
    "microsoft": "微软", "deepseek": "深度求索", "qwen": "千问", "llama": "拉玛",
    "meta": "梅塔", "nvidia": "英伟达", "github": "吉特哈布", "arxiv": "阿卡夫",
    "transformer": "传思佛摩", "transformers": "传思佛摩", "diffusion": "迪菲由神",
    "agent": "艾真特", "agents": "艾真特", "chatgpt": "恰特吉披踢", "claude": "克劳德",
    "gemini": "杰米奈", "mistral": "米斯特拉尔", "kimi": "基米", "minimax": "迷你麦克斯",
    "benchmark": "本驰马克", "token": "托肯", "tokens": "托肯", "prompt": "普朗普特",
    "math": "麦斯", "star": "斯达", "search": "瑟驰", "chain": "千恩", "of": "欧夫",
    "thought": "搜特", "data": "代塔", "code": "扣德", "coder": "扣德", "vision": "维神",
    "video": "维迪欧", "world": "沃德", "mini": "迷你", "pro": "普若", "preview": "普瑞维优",
    "instruct": "因斯追克特", "base": "贝斯", "chat": "恰特", "the": "德", "and": "安德",
    "python": "派森", "web": "外波", "net": "奈特", "lab": "莱博", "bench": "本驰",
    "kernels": "科诺斯", "phi": "菲", "kernel": "科诺", "o1": "欧一", "o3": "欧三", "r1": "阿一",
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
_THINK = re.compile(r"</?\s*[A-Za-z][\w-]*(?:\s[^<>]*)?/?>")
_LATEX_CMD_ARG = re.compile(r"\\(?:textbf|textit|emph|text|mathrm|mathbf|texttt|underline)\{([^{}]*)\}")
_LATEX_CMD = re.compile(r"\\[A-Za-z]+\*?")
_MARKDOWN = re.compile(r"[*_`#>|~\[\]{}$^\\]")
_BRACKETS = re.compile(r"[（(【\[「『《<〈“”\"'‘’)）】\]」』》>〉]")
_PUNCT_TO_COMMA = re.compile(r"[；;：:—–…·\-~/／]+")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")


def int_to_chinese(n: int, *, two_for_leading_two: bool = True) -> str:
    """Read a non-negative integer as Mandarin (1050 -> 一千零五十, 12 -> 十二)."""
    if n == 0:
        return "零"
    if n < 0:
        return "负" + int_to_chinese(-n)
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


def english_to_speech(token: str, glossary: Mapping[str, str] = GLOSSARY) -> str:
    """Say one Latin token: glossary, then acronym spelling, then transliteration."""
    low = token.lower()
    if low in glossary:
        return glossary[low]
    letters = re.sub(r"[^A-Za-z]", "", token)
    if not letters:
        return ""
    upper = sum(1 for c in letters if c.isupper())
    if len(letters) <= 3 or upper >= max(2, len(letters) - 1):
        return spell(letters)
    # CamelCase words such as "VideoRAG": speak each part on its own.
    parts = re.findall(r"[A-Z]{2,}(?=[A-Z][a-z]|$)|[A-Z]?[a-z]+|[A-Z]+", letters)
    if len(parts) > 1:
        return "".join(english_to_speech(p, glossary) for p in parts)
    return transliterate(letters)


@dataclass(frozen=True)
class SpeechProfile:
    """What one engine can say. ``latin`` False means Latin letters must be rewritten."""

    latin: bool = False
    pause_marks: str = "、，。！？"
    glossary: Mapping[str, str] = field(default_factory=lambda: dict(GLOSSARY))


_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    # 2025年 -> 二零二五年 ; 2025-01-09 -> 二零二五年一月九日
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
     lambda m: f"{digits_to_chinese(m[1])}年{int_to_chinese(int(m[2]))}月{int_to_chinese(int(m[3]))}日"),
    (re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?=年)"), lambda m: digits_to_chinese(m[1])),
    # arXiv ids are read digit by digit
    (re.compile(r"(?<![\d.])(\d{4})\.(\d{4,5})(?![\d.])"),
     lambda m: f"{digits_to_chinese(m[1])}点{digits_to_chinese(m[2])}"),
    # +4.5% / 58.8% / 3-5%
    (re.compile(rf"[+＋]?({_NUMBER})\s*[%％]"), lambda m: "百分之" + number_to_chinese(m[1])),
    (re.compile(rf"({_NUMBER})\s*[-~～到至]\s*(?=百分之)"), lambda m: number_to_chinese(m[1]) + "到"),
    # 8/15 -> 十五分之八
    (re.compile(r"(?<![\d/])(\d+)\s*/\s*(\d+)(?![\d/])"),
     lambda m: f"{number_to_chinese(m[2])}分之{number_to_chinese(m[1])}"),
    # 3:4 -> 三比四
    (re.compile(r"(?<![\d:])(\d+)\s*[:：]\s*(\d+)(?![\d:])"),
     lambda m: f"{number_to_chinese(m[1])}比{number_to_chinese(m[2])}"),
    # 747k / 1.5M / 7B parameters
    (re.compile(rf"({_NUMBER})\s*[kK](?![A-Za-z])"),
     lambda m: number_to_chinese(str(round(float(m[1].replace(",", "")) * 1000)))),
    (re.compile(rf"({_NUMBER})\s*[mM](?![A-Za-z])"), lambda m: number_to_chinese(m[1]) + "百万"),
    (re.compile(rf"({_NUMBER})\s*[xX×](?![A-Za-z])"), lambda m: number_to_chinese(m[1]) + "倍"),
    # 10 to 20 ranges
    (re.compile(rf"({_NUMBER})\s*[-~～]\s*({_NUMBER})"),
     lambda m: f"{number_to_chinese(m[1])}到{number_to_chinese(m[2])}"),
    (re.compile(r"v(\d+(?:\.\d+)*)", re.I),
     lambda m: "V" + "点".join(number_to_chinese(p) for p in m[1].split("."))),
]
_PLAIN_NUMBER = re.compile(rf"[+＋]?({_NUMBER})")
_LATIN = re.compile(r"[A-Za-z][A-Za-z'’]*")


def _glossary_phrases(text: str, glossary: Mapping[str, str]) -> str:
    """Replace multi-word glossary entries ("Hugging Face") before tokenising."""
    for key, value in glossary.items():
        if " " in key:
            text = re.sub(r"(?<![A-Za-z])" + re.escape(key).replace(r"\ ", r"\s+") + r"(?![A-Za-z])",
                          value, text, flags=re.I)
    return text


def clean_markup(text: str) -> str:
    """Strip what no engine should read: URLs, tags like <think>, LaTeX, markdown."""
    text = _URL.sub(" ", text)
    text = _THINK.sub(" ", text)
    text = text.replace("\\%", "%").replace("\\&", "和").replace("\\_", " ")
    text = _LATEX_CMD_ARG.sub(r"\1", text)
    text = _LATEX_CMD.sub(" ", text)
    text = _MARKDOWN.sub(" ", text)
    return text


def to_speech(text: str, profile: SpeechProfile | None = None) -> str:
    """Normalise display ``text`` into what the engine described by ``profile`` can say."""
    profile = profile or SpeechProfile()
    text = clean_markup(text)
    text = text.replace("&", "和")
    text = _glossary_phrases(text, profile.glossary)
    # hyphens inside names (GPT-4o, SWE-Fixer) are not pauses
    text = re.sub(r"(?<=[A-Za-z0-9])-(?=[A-Za-z])|(?<=[A-Za-z])-(?=[0-9])", " ", text)
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    # A model name like Qwen2.5-Math-7B: split digits from letters before reading.
    text = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)
    text = _PLAIN_NUMBER.sub(lambda m: number_to_chinese(m[1]), text)
    if not profile.latin:
        text = _LATIN.sub(lambda m: english_to_speech(m.group(0), profile.glossary), text)
    text = _SENTENCE_END.sub("。", text)
    text = _BRACKETS.sub("，", text)
    text = _PUNCT_TO_COMMA.sub("，", text)
    text = text.replace(",", "，").replace("!", "！").replace("?", "？").replace(".", "，")
    text = re.sub(r"\s+", "" if not profile.latin else " ", text)
    # collapse runs of pauses and leading pauses
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
