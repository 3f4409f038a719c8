"""Script writers: turn a ``Digest`` into a two-host ``Script``.

Writers are registered by name (``template`` is the offline default) and the
script is saved as YAML a person can edit; ``load_script`` reads it back with
errors that name the file and field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Protocol

import yaml
from pydantic import ValidationError

from .errors import PodcastError, ScriptError
from .models import Digest, Host, Line, Paper, PaperRef, Script, Segment
from .textnorm import clean_markup

WEEKDAYS = "一二三四五六日"


class ScriptWriter(Protocol):
    """What every writer offers; capabilities are attributes, not name checks."""

    name: ClassVar[str]
    needs_network: ClassVar[bool]

    def write(self, digest: Digest, hosts: Sequence[Host], show_title: str) -> Script: ...


WRITERS: dict[str, type[ScriptWriter]] = {}


def register_writer(cls: type[ScriptWriter]) -> type[ScriptWriter]:
    WRITERS[cls.name] = cls
    return cls


def get_writer(name: str) -> ScriptWriter:
    try:
        return WRITERS[name]()
    except KeyError:
        raise PodcastError(
            f"unknown writer {name!r}; available: {', '.join(sorted(WRITERS))}"
        ) from None


# ---------------------------------------------------------------- rewriting

_PAREN = re.compile(r"（[^（）]*）|\([^()]*\)")
_FIRST_PERSON = [
    (re.compile(r"我们(?=提出|引入|设计|开发|构建|介绍|推出|展示|发现|证明|表明|提供|发布)"), "作者"),
    (re.compile(r"本文"), "这篇论文"),
    (re.compile(r"本研究"), "这项研究"),
    (re.compile(r"在这项工作中|在本工作中"), "在这项工作里"),
    (re.compile(r"我们的"), "他们的"),
    (re.compile(r"我们"), "作者"),
]
_ROLE_PATTERNS = {
    "release": re.compile(r"https?://|github|已开源|将开源|开源了|"
                          r"(代码|权重|数据集|数据和代码|资源)[^。，]{0,8}(开源|公开|发布|获取|可用)", re.I),
    "method": re.compile(r"提出|引入|设计了|开发了|构建了|介绍了|推出|框架|方法是"),
    "result": re.compile(r"(?<![A-Za-z\d.\-])\d+(?:\.\d+)?(?![A-Za-z\d])|优于|超越|提升|提高|达到|实现了"
                         r"|显著|表明|证明|领先"),
    "problem": re.compile(r"然而|但是|但|挑战|问题|难以|局限|瓶颈|不足|缺乏|昂贵"),
}


def third_person(text: str) -> str:
    """Rewrite an abstract's first person into the hosts' third person."""
    for pattern, repl in _FIRST_PERSON:
        text = pattern.sub(repl, text)
    return text


def speakable(sentence: str, name: str | None = None) -> str:
    """Make one abstract sentence fit for a host's mouth (display text).

    ``name`` replaces leftover LaTeX macros such as ``\\implname``, which in
    these abstracts stand for the paper's own system name.
    """
    s = _PAREN.sub("", sentence)
    s = re.sub(r"\\(?!textbf|textit|emph|text\b|%)[A-Za-z]+(?:\{\})?", "\x00", s)
    s = clean_markup(s).replace("\x00", name or "这个方法")
    s = re.sub(r"[“”\"'‘’「」『』]", "", s)
    s = re.sub(r"\s+", " ", s).strip(" ，,；;：:")
    s = _CONNECTIVE.sub("", s)
    return third_person(s)


def sentences(abstract: str) -> list[str]:
    parts = re.split(r"(?<=[。！？!?])", abstract)
    return [p.strip() for p in parts if p.strip()]


def shorten(sentence: str, limit: int = 90) -> str:
    """Cut at a clause boundary before ``limit`` characters, ending with 。."""
    s = sentence.rstrip("。！？!?")
    if len(s) > limit:
        cut = max(s.rfind(p, 0, limit) for p in "，；、")
        s = s[:cut] if cut > limit // 3 else s[:limit]
    return s.rstrip("，；、 ") + "。"


def condense(sentence: str, limit: int = 110) -> str:
    """Shorten a result sentence but keep its figures: lead clause plus numeric clauses."""
    s = sentence.rstrip("。！？!?")
    if len(s) <= limit:
        return s + "。"
    clauses = [c for c in re.split(r"(?<=[，；])", s) if c]
    kept = [clauses[0]]
    for clause in clauses[1:]:
        if _numbers(clause) and len("".join(kept)) + len(clause) <= limit:
            kept.append(clause)
    if len(kept) == 1 and len(clauses) > 1:
        return shorten(s, limit)
    return "".join(kept).rstrip("，；、 ") + "。"


def classify(sentence: str) -> str:
    """Give a sentence its role in the abstract: release, method, result, problem or context."""
    if _numbers(sentence) and _ROLE_PATTERNS["result"].search(sentence):
        return "result"
    for role in ("release", "method", "result", "problem"):
        if _ROLE_PATTERNS[role].search(sentence):
            return role
    return "context"


_QUANTITY = re.compile(r"(?<![A-Za-z\d.\-])\d+(?:[.,]\d+)*\s*[%％倍kKM]?(?![A-Za-z\d])")
_CONNECTIVE = re.compile(r"^(?:最后|此外|同时|然而|但是|另外|因此|总之|具体来说|具体而言|首先|其次)[，,]?")


def _numbers(text: str) -> int:
    """Count quantities a listener cares about, not digits inside names like URSA-7B."""
    return len(_QUANTITY.findall(re.sub(r"[（(]\s*(?:\d+|[ivx]+)\s*[)）]", "", text)))


# ---------------------------------------------------------------- phrase banks

_INTRO_FIRST = [
    "我们先从今天热度最高的一篇说起：{title}。",
    "第一篇就很有分量，{title}。",
    "开头这篇是今天榜单的头名，{title}。",
]
_INTRO_NEXT = [
    "接下来这篇叫{title}。",
    "我们换个方向，看看{title}。",
    "下面要聊的是{title}。",
    "说完这个，再来看{title}。",
    "下一篇的标题是{title}。",
    "紧接着这篇也挺有意思，{title}。",
    "再看一篇，{title}。",
]
_ASK_PROBLEM = [
    "这篇主要想解决什么问题？",
    "听名字挺有意思，它在做什么？",
    "嗯，先说说背景吧，为什么要做这个？",
    "它的出发点是什么？",
]
_ASK_RESULT_NUM = [
    "那效果怎么样，有具体数字吗？",
    "听起来不错，实验结果如何？",
    "那具体提升了多少？",
    "实际跑出来的效果呢？",
]
_ASK_RESULT_PLAIN = [
    "那它的效果怎么样？",
    "这个思路最后验证了吗？",
    "和以前的方法比有什么不同？",
]
_REACT = [
    "嗯，这个结果挺扎实的。",
    "原来如此，思路很清楚。",
    "这个方向值得持续关注。",
    "对，这种做法在实际应用里很有价值。",
    "嗯，我觉得这是今天比较实用的一篇。",
    "有意思，相当于换了一个角度看老问题。",
]
_RELEASE = [
    "而且代码已经开源，感兴趣的听众可以去看看。",
    "作者还公开了代码和数据，上手成本不高。",
]


class Rng:
    """Deterministic choices seeded by the date and a key, so rebuilds match."""

    def __init__(self, date: dt.date, key: str) -> None:
        seed = hashlib.sha256(f"{date.isoformat()}|{key}".encode()).digest()
        self._r = random.Random(int.from_bytes(seed[:8], "big"))

    def pick(self, bank: Sequence[str]) -> str:
        return self._r.choice(list(bank))


def display_title(title: str) -> str:
    """A title as hosts and notes show it: tags and URLs go, symbols like ^ stay."""
    return re.sub(r"\s+", " ", re.sub(r"</?[A-Za-z][^<>]*>|https?://\S+", "", title)).strip()


def _title_phrase(paper: Paper) -> str:
    name = paper.short_name
    title = f"《{display_title(paper.title_zh)}》"
    if name and name.lower() not in paper.title_zh.lower():
        return f"{title}，英文名叫{name}"
    return title


def _join(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return "、".join(items[:-1]) + "和" + items[-1]


@register_writer
class TemplateWriter:
    """Offline writer: builds each segment from the roles of the abstract's sentences."""

    name: ClassVar[str] = "template"
    needs_network: ClassVar[bool] = False

    def write(self, digest: Digest, hosts: Sequence[Host], show_title: str) -> Script:
        if len(hosts) < 2:
            raise PodcastError("the template writer needs two hosts in the voice preset")
        a, b = hosts[0], hosts[1]
        segments = [self._opening(digest, a, b, show_title)]
        for i, paper in enumerate(digest.papers):
            segments.append(self._paper(digest.date, paper, i == 0, a, b))
        segments.append(self._closing(digest, a, b))
        return Script(date=digest.date, title=episode_title(digest), writer=self.name,
                      topics=list(digest.hot_topics), hosts=list(hosts), segments=segments)

    def _opening(self, digest: Digest, a: Host, b: Host, show_title: str) -> Segment:
        d = digest.date
        n = len(digest.papers)
        topics = _join(list(digest.hot_topics[:4])) or "多个方向"
        top = digest.papers[0]
        lines = [
            Line(speaker=a.id, text=f"大家好，欢迎收听{show_title}，我是{a.name}。"),
            Line(speaker=b.id, text=f"我是{b.name}。今天是{d.year}年{d.month}月{d.day}日，"
                                    f"星期{WEEKDAYS[d.weekday()]}。"),
            Line(speaker=a.id, text=f"今天抱抱脸的每日论文榜上一共有{n}篇论文，"
                                    f"热门领域集中在{topics}。"),
            Line(speaker=b.id, text=f"我们会从热度最高的《{display_title(top.title_zh)}》聊起，"
                                    + ("然后一篇一篇往下看。" if n > 1 else "今天就专心聊这一篇。")),
        ]
        return Segment(id="opening", title="开场", kind="opening", lines=lines)

    def _paper(self, date: dt.date, paper: Paper, first: bool, a: Host, b: Host) -> Segment:
        rng = Rng(date, f"paper-{paper.rank}-{paper.title_en or paper.title_zh}")
        roles: dict[str, list[str]] = {}
        order = sentences(paper.abstract_zh)
        for s in order:
            roles.setdefault(classify(s), []).append(s)
        problem = (roles.get("problem") or roles.get("context") or [""])[0]
        method = (roles.get("method") or [""])[0]
        results = sorted(roles.get("result", []), key=_numbers, reverse=True)
        if not method and not results:
            method = (roles.get("context") or sentences(paper.abstract_zh))[-1]

        title = _title_phrase(paper)
        intro = rng.pick(_INTRO_FIRST if first else _INTRO_NEXT).format(title=title)
        lines = [Line(speaker=a.id, text=intro),
                 Line(speaker=b.id, text=rng.pick(_ASK_PROBLEM))]
        picked = sorted({problem, method} - {""}, key=order.index) or order[:1]
        name = paper.short_name
        explain = [shorten(speakable(x, name), 110 if x == method else 90) for x in picked]
        explain_text = "".join(e for e in explain if len(e) > 1)
        if explain_text:
            lines.append(Line(speaker=a.id, text=explain_text))
        if results:
            best = results[0]
            has_numbers = _numbers(best) > 0
            lines.append(Line(speaker=b.id,
                              text=rng.pick(_ASK_RESULT_NUM if has_numbers else _ASK_RESULT_PLAIN)))
            said = condense(speakable(best, name), 120)
            if len(results) > 1 and _numbers(results[1]) and len(said) < 70:
                said += condense(speakable(results[1], name), 70)
            lines.append(Line(speaker=a.id, text=said))
        reaction = rng.pick(_REACT)
        if roles.get("release"):
            reaction += rng.pick(_RELEASE)
        lines.append(Line(speaker=b.id, text=reaction))
        lines = _merge_turns([ln for ln in lines if ln.text.strip("。，")])
        return Segment(id=f"paper-{paper.rank}", title=display_title(paper.title_zh),
                       kind="paper", url=paper.url, lines=lines,
                       paper=PaperRef(rank=paper.rank, title_en=paper.title_en, hf_url=paper.hf_url,
                                      arxiv_url=paper.arxiv_url, arxiv_id=paper.arxiv_id))

    def _closing(self, digest: Digest, a: Host, b: Host) -> Segment:
        n = len(digest.papers)
        top = digest.papers[0]
        lines = [
            Line(speaker=a.id, text=f"好了，今天的{n}篇论文就聊到这里。"),
            Line(speaker=b.id, text=f"如果只记住一件事，我会选《{display_title(top.title_zh)}》，"
                                    "它是今天讨论最多的一篇。"),
            Line(speaker=a.id, text="每篇论文的链接和文字稿都在节目简介里。我们明天见！"),
            Line(speaker=b.id, text="明天见！"),
        ]
        return Segment(id="closing", title="结束语", kind="closing", lines=lines)


def _merge_turns(lines: list[Line]) -> list[Line]:
    """Join consecutive lines of one speaker so the hosts always alternate."""
    merged: list[Line] = []
    for line in lines:
        if merged and merged[-1].speaker == line.speaker:
            merged[-1] = Line(speaker=line.speaker, text=merged[-1].text + line.text)
        else:
            merged.append(line)
    return merged


def episode_title(digest: Digest) -> str:
    d = digest.date
    return f"{d.year}年{d.month}月{d.day}日 · {len(digest.papers)}篇AI热门论文"


# ---------------------------------------------------------------- script files


def script_path(root: Path, date: dt.date) -> Path:
    return root / "scripts" / f"{date.isoformat()}.yaml"


def dump_script(script: Script) -> str:
    """YAML with Chinese kept readable and one line of dialogue per entry."""
    data = script.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def load_script(path: Path) -> Script:
    """Read a (possibly hand-edited) script; any problem names the file and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ScriptError(path, f"cannot read script: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ScriptError(path, "not valid UTF-8 text") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ScriptError(path, f"invalid YAML: {getattr(exc, 'problem', exc)}", line) from exc
    if not isinstance(data, dict):
        raise ScriptError(path, "expected a mapping with date, title, hosts and segments")
    try:
        return Script.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ScriptError(path, f"{where}: {msg}" if where else msg) from exc

