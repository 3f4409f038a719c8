"""Values passed between stages: Digest -> Script -> Episode.

Digest values are frozen dataclasses (we build them ourselves). The script is a
pydantic model because people edit it by hand and we must validate it with
errors that name the field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Characters XML 1.0 forbids: one in a title would make the feed, and every later publish, fail.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_HTTP_URL = re.compile(r"https?://[^\s\"'<>\\]+", re.I)
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"


def http_url(value: str | None) -> str | None:
    """Only http(s) links may reach an href: ``javascript:`` or ``data:`` would run in a listener's page."""
    if value is not None and not _HTTP_URL.fullmatch(value):
        raise ValueError(f"{value[:60]!r} is not an http(s) URL")
    return value


@dataclass(frozen=True)
class Paper:
    """One paper as the digest presents it."""

    rank: int
    title_zh: str
    title_en: str
    abstract_zh: str
    hf_url: str | None = None
    arxiv_url: str | None = None
    arxiv_id: str | None = None
    line: int = 0  # where the paper starts in the source, for error messages

    @property
    def short_name(self) -> str | None:
        """The system name before a colon in the English title, e.g. "rStar-Math"."""
        head, sep, _ = self.title_en.partition(":")
        head = head.strip()
        if sep and head and len(head) <= 32 and " " not in head.strip():
            return head
        return None

    @property
    def url(self) -> str | None:
        return self.arxiv_url or self.hf_url


@dataclass(frozen=True)
class Digest:
    """A day's digest: the papers in list order plus the header stats."""

    date: dt.date
    papers: tuple[Paper, ...]
    stated_count: int | None = None
    hot_topics: tuple[str, ...] = ()
    source: str = ""
    warnings: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = ()  # what was knowingly left out (--allow-partial); goes into the script's notes


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _xml_legal(cls, value: Any) -> Any:
        """Drop characters XML cannot carry. They are invisible and mean nothing, so removing them
        is kinder than refusing a hand-edited or model-written script over a character nobody can see."""
        if isinstance(value, str):
            return XML_ILLEGAL.sub("", value)
        if isinstance(value, list):
            return [XML_ILLEGAL.sub("", v) if isinstance(v, str) else v for v in value]
        return value


class Host(_Strict):
    """A host persona; ``id`` is what script lines refer to."""

    id: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=16)
    role: str = ""

    @field_validator("name")
    @classmethod
    def _cue_safe(cls, value: str) -> str:
        """The name labels every transcript cue (``<v NAME>`` in VTT): a line break or <>& would
        break the cue, or in SRT start a new one."""
        if re.search(r"[\r\n\t<>&]", value) or value != value.strip():
            raise ValueError(f"host name {value!r} cannot contain a line break, tab, <, > or &, "
                             "or start or end with a space")
        return value


class Line(_Strict):
    """One spoken turn. ``text`` is display text; engines get a normalised copy."""

    speaker: str = Field(min_length=1)
    text: str = Field(min_length=1, max_length=50_000)  # longer than 300 is split on loading

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        """One turn is one paragraph: a blank line would end a VTT cue or start an SRT one early."""
        if not value.strip():
            raise ValueError("text is empty")
        value = re.sub(rf"(?<=[{_CJK}])[ \t]*[\r\n]\s*(?=[{_CJK}])", "", value.strip())
        return re.sub(r"\s*[\r\n]\s*", " ", value)


class PaperRef(_Strict):
    """What the show notes need to know about a segment's paper."""

    rank: int
    title_zh: str | None = None  # as the digest wrote it (pages escape it; speech uses the segment title)
    title_en: str = ""
    hf_url: str | None = None
    arxiv_url: str | None = None
    arxiv_id: str | None = None

    _links = field_validator("hf_url", "arxiv_url")(http_url)


class Segment(_Strict):
    """A chapter of the show: the opening, one paper, or the closing."""

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    kind: str = Field(pattern=r"^(opening|paper|closing)$")
    url: str | None = None
    paper: PaperRef | None = None
    budget_seconds: float | None = Field(default=None, ge=0)  # the writer's time budget
    lines: list[Line] = Field(min_length=1)

    _link = field_validator("url")(http_url)


class Script(_Strict):
    """The whole dialogue of one episode, as written to ``scripts/DATE.yaml``."""

    date: dt.date
    title: str = Field(min_length=1)
    writer: str = "template"
    topics: list[str] = []
    hosts: list[Host] = Field(min_length=1, max_length=4)
    segments: list[Segment] = Field(min_length=1)
    notes: list[str] = []  # what the writer's guards changed (dropped lines, fallbacks)

    @model_validator(mode="after")
    def _speakers_known(self) -> Script:
        known = {h.id for h in self.hosts}
        for si, seg in enumerate(self.segments):
            for li, line in enumerate(seg.lines):
                if line.speaker not in known:
                    raise ValueError(
                        f"segments.{si}.lines.{li}.speaker: unknown speaker {line.speaker!r}"
                        f" (hosts are {', '.join(sorted(known))})"
                    )
        ids = [s.id for s in self.segments]
        if len(ids) != len(set(ids)):
            raise ValueError("segments: segment ids must be unique")
        return self

    def host(self, host_id: str) -> Host:
        return next(h for h in self.hosts if h.id == host_id)

    @property
    def paper_count(self) -> int:
        return sum(1 for s in self.segments if s.kind == "paper")


@dataclass(frozen=True)
class ChapterMark:
    """A chapter as placed on the episode's timeline."""

    start: float
    end: float
    title: str
    url: str | None = None


@dataclass(frozen=True)
class Cue:
    """A transcript cue: who said what, when."""

    start: float
    end: float
    speaker: str
    text: str
