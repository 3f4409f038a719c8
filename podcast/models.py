"""Values passed between stages: Digest -> Script -> Performance -> Episode.

Digest values are frozen dataclasses (we build them ourselves). The script is a
pydantic model because people edit it by hand and we must validate it with
errors that name the field. ``Episode`` is what ``episode.json`` holds: written
and read only here, validated on read, so a renamed key fails where it is read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from .errors import PublishError

# Characters XML 1.0 forbids: one in a title would make the feed, and every later publish, fail.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_HTTP_URL = re.compile(r"https?://[^\s\"'<>\\]+", re.I)
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"


def http_url(value: str | None) -> str | None:
    """Only http(s) links may reach an href: ``javascript:`` or ``data:`` would run in a listener's page."""
    if value is not None and not _HTTP_URL.fullmatch(value):
        raise ValueError(f"{value[:60]!r} is not an http(s) URL")
    return value


FIRST_DAY = dt.date(1970, 1, 1)


def modern_date(value: dt.date) -> dt.date:
    """Feeds carry RFC 822 dates; a year like 0001 renders as an invalid ``pubDate``, and no
    paper predates 1970, so earlier dates are refused where they enter."""
    if value < FIRST_DAY:
        raise ValueError(f"{value.isoformat()} is before 1970; an episode needs a real date")
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

    _date = field_validator("date")(modern_date)

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


@dataclass(frozen=True)
class Sentence:
    """A span of a clip: the spoken text and where it sits in the clip, in seconds."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Clip:
    """Mono float32 audio for one line, plus sentence timings inside it."""

    samples: np.ndarray
    sample_rate: int
    sentences: tuple[Sentence, ...] = ()
    retries: int = 0  # attempts the engine needed beyond the first (not cached)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


# ------------------------------------------------------------------ the episode manifest

MANIFEST = "episode.json"


class _Record(BaseModel):
    """A part of ``episode.json``: unknown keys are kept (older or newer writers), ``None``
    values named in ``_omit_none`` are left out, exactly as the file has always been written."""

    model_config = ConfigDict(extra="allow")
    _omit_none: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in self._omit_none:
            if data.get(key, 0) is None:
                del data[key]
        return data


class EpisodeChapter(_Record):
    _omit_none: ClassVar[tuple[str, ...]] = ("url",)
    start: float
    title: str
    url: str | None = None


class EpisodeHost(_Record):
    id: str
    name: str
    median_f0_hz: float | None = None


class SpokenLine(_Record):
    """Which engine and voice spoke one line, and why when it was not the chosen one."""

    _omit_none: ClassVar[tuple[str, ...]] = ("retries", "why", "cut_off", "pieces", "cer", "heard", "listen",
                                                "start", "end")
    segment: str
    line: int
    speaker: str
    engine: str
    voice: str
    retries: int | None = None
    why: str | None = None
    pieces: int | None = None  # engine calls the line was split into for breathing pauses
    cut_off: int | None = None  # endings the engine cut off at speech level (faded): speak again split
    cer: float | None = None  # heard back: character error rate (absent: the line was not checked)
    heard: str | None = None  # what the recogniser heard, kept for a line above the threshold
    listen: str | None = None  # "split" or "voice": the listen-back stage spoke the line again so
    start: float | None = None  # seconds into the episode (absent in episodes built before listening)
    end: float | None = None


class HostListening(_Record):
    checked: int = 0
    failed: int = 0
    median_cer: float | None = None
    mean_cer: float | None = None


class WorstLine(_Record):
    segment: str
    line: int
    speaker: str
    start: float  # seconds into the episode
    end: float
    cer: float
    text: str
    heard: str


class ListenSummary(_Record):
    """What the listen-back stage heard: per host CER, the worst lines, and what it cost."""

    recogniser: str
    threshold: float
    budget: float  # CPU-s allowed per programme second
    lines_checked: int
    lines_failed: int  # still above the threshold after the repairs
    resynthesized: int = 0
    repaired: int = 0
    cpu_seconds: float = 0.0
    realtime_factor: float = 0.0  # cpu_seconds / programme seconds
    hosts: dict[str, HostListening] = {}
    worst: list[WorstLine] = []


class SpeechSummary(_Record):
    engines: dict[str, int]
    fallbacks: int
    lines: list[SpokenLine]


class MasteringFigures(_Record):
    """What the producer's pass measured and fixed, per episode (see ``podcast.mastering``)."""

    cue_loudness_sd_lu: float
    cue_loudness_max_jump_lu: float
    cue_loudness_sd_before_lu: float | None = None  # the same cues without line levelling
    cue_loudness_max_jump_before_lu: float | None = None
    cut_off_endings_found: int = 0
    cut_off_endings_fixed: int = 0
    ticks_per_speech_minute_before: float = 0.0
    ticks_per_speech_minute_after: float = 0.0
    ticks_suppressed: bool = False  # the engine declares vocoder ticks
    longest_unpaused_s: float = 0.0  # inside a line, with no pause of 120 ms or more
    breath_splits: int = 0  # lines spoken in several pieces with a breathing pause between
    gap_after_question_s: float | None = None  # mean turn gaps by context
    gap_between_turns_s: float | None = None
    gap_before_segment_s: float | None = None
    music: bool = False


class SegmentMinutes(_Record):
    id: str
    budget_minutes: float | None
    planned_minutes: float
    actual_minutes: float


class Episode(_Record):
    """One published episode, as ``episodes/DATE/episode.json`` holds it; the feed, the site,
    the CLI, the daily script and the report read these and nothing else."""

    _omit_none: ClassVar[tuple[str, ...]] = ("digest", "mastering", "listening")
    date: dt.date
    title: str
    description: str = ""
    guid: str
    audio: str
    bytes: int
    duration: float
    chapters: list[EpisodeChapter] = []
    papers: int = 0
    engine: str = ""
    writer: str = ""
    hosts: list[EpisodeHost] = []
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None
    lines: int = 0
    speech: SpeechSummary | None = None
    mastering: MasteringFigures | None = None  # absent in episodes built before mastering
    listening: ListenSummary | None = None  # absent when the episode was not heard back
    segments: list[SegmentMinutes] = []
    transcripts: dict[str, str] = {}
    chapters_file: str = "chapters.json"
    page: str = "index.html"
    pictures: dict[str, str] = {}
    digest: str | None = None  # the day's digest Markdown in the folder, when the digest was known

    _date = field_validator("date")(modern_date)

    def to_json(self) -> str:
        """The manifest; NaN and Infinity are not JSON, and a reader would choke on them."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=2, allow_nan=False) + "\n"

    @classmethod
    def read(cls, path: Path) -> Episode:
        """The episode of ``path`` (an ``episode.json``), validated; errors name the file."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PublishError(f"{path}: cannot read episode manifest: {exc}") from exc
        if not isinstance(data, dict):
            raise PublishError(f"{path}: episode manifest is not a JSON object")
        for key in ("date", "title", "audio", "bytes", "duration", "guid"):
            if key not in data:
                raise PublishError(f"{path}: episode manifest lacks {key!r}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise PublishError(f"{path}: episode manifest: {where}: {err['msg']}") from exc
