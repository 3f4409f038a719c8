"""Reads the daily digest Markdown (both template variants) into a ``Digest``.

The format is line-oriented, so we scan lines with a tiny state machine rather
than a Markdown parser: that keeps exact line numbers for error messages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import DigestError
from .models import Digest, Paper, modern_date

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TITLE = re.compile(r"^#\s+.*?(\d{4}-\d{2}-\d{2})\s*论文日报")
_PAPER = re.compile(r"^###\s+(\d+)\s*[.、．]\s*(.*\S)\s*$")
_FIELD = re.compile(r"^\*\*(原文标题|摘要|论文链接)[：:]\*\*\s*(.*)$")
_COUNT = re.compile(r"^-\s*总论文数[：:]\s*(\d+)")
_TOPICS = re.compile(r"^-\s*热门领域[：:]\s*(.*)$")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
_ARXIV_ID = re.compile(r"(?:arxiv\.org/(?:abs|pdf)/|huggingface\.co/papers/)(\d{4}\.\d{4,5})")
_SECTION = re.compile(r"^##\s")
# Characters XML 1.0 forbids (and DEL): one in a title would make every later feed unreadable.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_HTTP_URL = re.compile(r"https?://[^\s\"'<>\\]+", re.I)
_FINAL = tuple("。！？.!?…”\"’'）)」』】]")  # how a complete abstract ends
MAX_BYTES = 5 * 10**6  # a real day is under 200 KB
MAX_ABSTRACT = 20_000  # characters; real abstracts stay under about 2,000


def read_digest(path: str | Path, allow_partial: bool = False) -> Digest:
    """Read and parse a digest file; decoding problems become ``DigestError``.

    ``allow_partial`` accepts a digest cut off inside its last paper, without that paper.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DigestError(path, f"cannot read digest: {exc.strerror or exc}") from exc
    if len(raw) > MAX_BYTES:
        raise DigestError(path, f"{len(raw) / 1e6:.1f} MB is not a daily digest "
                                f"(limit {MAX_BYTES // 10**6} MB)")
    text: str | None
    try:
        text = raw.decode("utf-8-sig")
        note = None
    except UnicodeDecodeError as exc:
        text = _legacy_chinese(raw)
        if text is None:
            line = raw[: exc.start].count(b"\n") + 1
            raise DigestError(path, "not valid UTF-8 text (nor GBK/GB18030)", line) from exc
        note = f"{path}: read as GB18030 (GBK), not UTF-8"
    digest = parse_digest(text, source=str(path), allow_partial=allow_partial)
    if note:
        digest = replace(digest, warnings=(note, *digest.warnings))
    return digest


def _legacy_chinese(raw: bytes) -> str | None:
    """Decode a GBK/GB18030 file when that is clearly what it is (mostly Chinese text)."""
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        return None
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    return text if han >= 10 and han >= 0.05 * len(text) else None


def parse_digest(text: str, source: str = "<digest>", allow_partial: bool = False) -> Digest:
    """Parse digest Markdown. Raises ``DigestError`` naming the line that is wrong.

    A failed download ends inside a paper; when fewer papers are found than the digest
    states and the last one looks cut off, that is refused (the episode would stop
    mid-sentence) unless ``allow_partial`` drops that paper with a warning and a note.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text.removeprefix("\ufeff"))  # stray control characters cannot reach XML
    lines = text.split("\n")
    date = _find_date(lines, source)
    stated: int | None = None
    topics: tuple[str, ...] = ()
    papers: list[Paper] = []
    current: dict | None = None
    mode = ""  # which multi-line field we are inside
    warnings: list[str] = []
    notes: list[str] = []

    def finish() -> None:
        if current is not None:
            papers.append(_make_paper(current, source, warnings))

    for no, line in enumerate(lines, start=1):
        stripped = line.strip()
        if m := _COUNT.match(stripped):
            stated = int(m.group(1))
            continue
        if m := _TOPICS.match(stripped):
            topics = tuple(t.strip() for t in re.split(r"[,，、/]", m.group(1)) if t.strip())
            continue
        if m := _PAPER.match(stripped):
            finish()
            current = {"rank": int(m.group(1)), "title_zh": m.group(2), "line": no,
                       "title_en": [], "abstract": [], "links": "", "abstract_line": None}
            mode = ""
            continue
        if current is None:
            continue
        if _SECTION.match(stripped) or stripped == "---":
            finish()
            current, mode = None, ""
            continue
        if m := _FIELD.match(stripped):
            name, rest = m.groups()
            mode = {"原文标题": "title_en", "摘要": "abstract", "论文链接": "links"}[name]
            if mode == "abstract":
                current["abstract_line"] = no
            if mode == "links":
                current["links"] += rest
            elif rest:
                current[mode].append(rest)
            continue
        if not stripped:
            if mode == "title_en":
                mode = ""
            continue
        if mode in ("title_en", "abstract"):
            current[mode].append(stripped)
        elif mode == "links":
            current["links"] += " " + stripped
    if current is not None:
        last = _last_paper(current, stated, len(papers) + 1, lines, source, warnings, allow_partial)
        if last is None:
            notes.append(f"paper {current['rank']} was left out: the digest ends inside it")
        else:
            papers.append(last)

    if not papers:
        raise DigestError(source, "no papers found (expected '### 1. 标题' headings)",
                          _first_line(lines, "## 📝") or len(lines))
    seen: dict[str, int] = {}
    unique = []
    for p in papers:
        key = p.arxiv_id or re.sub(r"\s+", "", p.title_zh)
        if key in seen:
            warnings.append(f"{source}:{p.line}: paper {p.rank} repeats paper {seen[key]}; left out")
            continue
        seen[key] = p.rank
        unique.append(p)
    papers = unique
    if stated is not None and stated != len(papers):
        warnings.append(f"{source}: states {stated} papers but {len(papers)} were found")
    return Digest(date=date, papers=tuple(papers), stated_count=stated, hot_topics=topics,
                  source=source, warnings=tuple(warnings), notes=tuple(notes))


def _last_paper(raw: dict, stated: int | None, found: int, lines: list[str], source: str,
                warnings: list[str], allow_partial: bool) -> Paper | None:
    """The last paper, unless the file was cut off inside it (then refused, or None if allowed)."""
    cut = None
    if stated is not None and found < stated:
        abstract = "".join(raw["abstract"]).strip()
        if abstract and not abstract.endswith(_FINAL):
            cut = "its 摘要 stops mid-sentence"
        elif not _LINK.search(raw["links"]):
            cut = "it has no link line"
    try:
        paper = _make_paper(raw, source, warnings)
    except DigestError as exc:
        if cut is None:
            raise
        cut += f"; {exc.message}"
        paper = None
    if cut is None:
        return paper
    end = max((i for i, ln in enumerate(lines, start=1) if ln.strip()), default=len(lines))
    problem = (f"the file ends inside paper {raw['rank']} ({cut}; {found} of the {stated} papers "
               f"it states were found: a cut-off download?)")
    if not allow_partial:
        raise DigestError(source, f"{problem}; --allow-partial builds without that paper", end)
    warnings.append(f"{source}:{end}: {problem}; left out (--allow-partial)")
    return None


def _find_date(lines: list[str], source: str) -> dt.date:
    for no, line in enumerate(lines, start=1):
        if line.startswith("# "):
            m = _TITLE.match(line.strip())
            if not m:
                raise DigestError(source, "title has no date (expected '# … YYYY-MM-DD 论文日报')",
                                  no)
            return _to_date(m.group(1), source, no)
    if m := _DATE.search(Path(source).name):
        return _to_date(m.group(0), source, None)
    raise DigestError(source, "no date: no '# … YYYY-MM-DD 论文日报' title and none in the file name",
                      1)


def _to_date(value: str, source: str, line: int | None) -> dt.date:
    try:
        return modern_date(dt.date.fromisoformat(value))
    except ValueError as exc:
        why = str(exc) if "1970" in str(exc) else f"invalid date {value!r}"
        raise DigestError(source, why, line) from exc


def _first_line(lines: list[str], prefix: str) -> int | None:
    return next((i for i, ln in enumerate(lines, start=1) if ln.startswith(prefix)), None)


def _make_paper(raw: dict, source: str, warnings: list[str]) -> Paper:
    rank, line = raw["rank"], raw["line"]
    if not raw["title_zh"].strip():
        raise DigestError(source, f"paper {rank}: empty title", line)
    abstract = "".join(raw["abstract"]).strip()
    if raw["abstract_line"] is None:
        raise DigestError(source, f"paper {rank} has no '**摘要：**' section", line)
    if not abstract:
        raise DigestError(source, f"paper {rank}: the 摘要 is empty", raw["abstract_line"])
    if len(abstract) > MAX_ABSTRACT:
        raise DigestError(source, f"paper {rank}: the 摘要 has {len(abstract):,} characters "
                                  f"(limit {MAX_ABSTRACT:,})", raw["abstract_line"])
    if not re.search(r"[\u4e00-\u9fffA-Za-z0-9]", abstract):
        raise DigestError(source, f"paper {rank}: the 摘要 has no words (only symbols or emoji)",
                          raw["abstract_line"])
    if not re.search(r"[\u4e00-\u9fffA-Za-z0-9]", raw["title_zh"]):
        raise DigestError(source, f"paper {rank}: the title has no words (only symbols or emoji)", line)
    title_en = " ".join(raw["title_en"]).strip()
    hf = arxiv = None
    for label, url in _LINK.findall(raw["links"]):
        if not url:
            continue
        if not _HTTP_URL.fullmatch(url):  # javascript: or data: must never reach an href
            warnings.append(f"{source}:{line}: paper {rank}: link {url[:60]!r} is not an http(s) URL; "
                            "left out")
            continue
        if "huggingface" in label.lower() or "huggingface.co" in url:
            hf = url
        elif "arxiv" in label.lower() or "arxiv.org" in url:
            arxiv = url
    ids = {m.group(1) for u in (hf, arxiv) if u for m in [_ARXIV_ID.search(u)] if m}
    return Paper(rank=rank, title_zh=raw["title_zh"].strip(), title_en=title_en,
                 abstract_zh=abstract, hf_url=hf, arxiv_url=arxiv,
                 arxiv_id=min(ids) if ids else None, line=line)


_HF_LOGO = "https://huggingface.co/datasets/huggingface/brand-assets/resolve/main/hf-logo.png"


@dataclass(frozen=True)
class DigestExtras:
    """The sections after the papers: this day's pictures, its audio, where to subscribe."""

    wordcloud: str | None = None  # relative paths, so the digest works wherever it is served
    trend: str | None = None
    audio: str | None = None
    channels: tuple[tuple[str, str], ...] = ()


_NOT_A_FIELD = re.compile(r"GPT|综合|其他|其它", re.I)


def research_fields(topics: Sequence[str]) -> list[str]:
    """The digest's stated 热门领域 that are research fields: the one source the audio, the feed
    and the pages say. A model name ("GPT") or "综合领域" is not a field."""
    seen: list[str] = []
    for topic in topics:
        if topic and not _NOT_A_FIELD.search(topic) and topic not in seen:
            seen.append(topic)
    return seen


def render_digest(date: dt.date, papers: list[Paper], hot_topics: list[str],
                  extras: DigestExtras | None = None) -> str:
    """Write a digest in the daily format this module reads (the later, linked variant).

    Long original titles are wrapped with an indented continuation line, as
    the published digests do; ``parse_digest`` joins them back.
    """
    out = ["", f'# <img src="{_HF_LOGO}" width="30"/> Hugging Face {date.isoformat()} 论文日报', "",
           "## 📊 今日论文统计", f"- 总论文数：{len(papers)}",
           f"- 热门领域：{', '.join(hot_topics) or '综合领域'}", "", "## 📝 论文详情", "", ""]
    for i, p in enumerate(papers, start=1):
        links = []
        if p.hf_url:
            links.append(f"[HuggingFace]({p.hf_url})")
        if p.arxiv_url:
            links.append(f"[arXiv]({p.arxiv_url})")
        out += [f"### {i}. {p.title_zh}", "", f"**原文标题：** {_wrap_title(p.title_en)}", "",
                "**摘要：**", p.abstract_zh, "", f"**论文链接：** {' | '.join(links) or '[]()'}",
                "", "", "", "---", ""]
    if extras is not None:
        if extras.wordcloud:
            out += ["", "## 🔍 关键词云图", f"![关键词云图]({extras.wordcloud})"]
        if extras.trend:
            out += ["", "## 📈 近期论文趋势", f"![论文趋势]({extras.trend})"]
        if extras.audio:
            out += ["", "## 🎙️ 语音播报", f"- [收听今日论文解读]({extras.audio})"]
        if extras.channels:
            out += ["", "## 📱 订阅渠道", *(f"- {label}: [{url}]({url})" for label, url in extras.channels)]
        out.append("")
    return "\n".join(out)


def _wrap_title(title: str, width: int = 72) -> str:
    if len(title) <= width:
        return title
    cut = title.rfind(" ", 0, width)
    return title if cut <= 0 else title[:cut] + "\n  " + title[cut + 1 :]
