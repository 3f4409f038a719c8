"""Fetch stage: the day's papers from the Hugging Face daily-papers API.

``GET {HF_ENDPOINT}/api/daily_papers?date=D`` (``HF_ENDPOINT`` defaults to
https://huggingface.co, as in huggingface_hub). Answers are cached per date so
a re-run does not hit the network; today's list is fetched again because
papers are still being added during the day. Titles and abstracts were
hard-wrapped until late 2025, so lines are joined.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .errors import ApiFormatError, FetchError, PodcastError
from .store import atomic_write_bytes, cache_root

log = logging.getLogger(__name__)
DEFAULT_ENDPOINT = "https://huggingface.co"
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class NoPapers:
    """The API lists no papers for the day (a weekend or holiday): nothing to build, not an error."""

    day: dt.date

    def __str__(self) -> str:
        why = "a weekend" if self.day.weekday() >= 5 else "a holiday, or not published yet"
        return f"no papers are listed for {self.day.isoformat()} ({why}); nothing to build"


class NoPapersError(PodcastError):
    """``Fetcher.fetch``'s way of saying ``NoPapers`` to a caller that wants a list or nothing."""

    exit_code = 0

    def __init__(self, result: NoPapers) -> None:
        self.result = result
        super().__init__(str(result))


@dataclass(frozen=True)
class ApiPaper:
    """One listed paper, as the API gives it, with wrapped text joined."""

    id: str
    title: str
    summary: str
    upvotes: int = 0
    authors: tuple[str, ...] = ()
    published_at: str | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = field(default=())

    @property
    def hf_url(self) -> str:
        return f"https://huggingface.co/papers/{self.id}"

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"


def unwrap(text: str) -> str:
    """Join hard-wrapped lines ("Deep\\n  Thinking" -> "Deep Thinking")."""
    return re.sub(r"\s*\n\s*", " ", text).strip()


def parse_daily_papers(data: Any, source: str) -> list[ApiPaper]:
    """Validate one API answer and return its papers, most upvoted first.

    Anything that is not a list of ``{paper: {id, title, summary, ...}}``
    objects is refused with a message naming ``source`` and the entry.
    """
    if isinstance(data, dict):
        keys = ", ".join(sorted(data)[:5])
        raise ApiFormatError(source, f"expected a JSON list of papers, got an object with keys {keys}")
    if not isinstance(data, list):
        raise ApiFormatError(source, f"expected a JSON list of papers, got {type(data).__name__}")
    papers = []
    for i, entry in enumerate(data):
        where = f"entry {i}"
        if not isinstance(entry, dict):
            raise ApiFormatError(source, f"{where}: expected an object, got {type(entry).__name__} "
                                               "(a stored Python repr is not an API answer)")
        raw = entry.get("paper")
        if not isinstance(raw, dict):
            raise ApiFormatError(source, f"{where}: missing 'paper' object")
        for key in ("id", "title", "summary"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise ApiFormatError(source, f"{where}.paper.{key}: missing or empty")
        authors = tuple(a["name"] for a in raw.get("authors") or [] if isinstance(a, dict) and a.get("name"))
        keywords = raw.get("ai_keywords") or []
        papers.append(ApiPaper(
            id=raw["id"].strip(), title=unwrap(raw["title"]), summary=unwrap(raw["summary"]),
            upvotes=int(raw.get("upvotes") or 0), authors=authors,
            published_at=raw.get("publishedAt") or entry.get("publishedAt"),
            ai_summary=unwrap(raw["ai_summary"]) if isinstance(raw.get("ai_summary"), str) else None,
            ai_keywords=tuple(str(k) for k in keywords if isinstance(k, str)),
        ))
    # the API sorts by upvotes; keep that order (stable for ties) even if an answer is not sorted
    return sorted(papers, key=lambda p: -p.upvotes)


def read_api_file(path: Path) -> list[ApiPaper]:
    """Parse a saved API answer; errors name the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise ApiFormatError(path, f"cannot read: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiFormatError(path, f"not valid JSON: {exc}") from exc
    return parse_daily_papers(data, str(path))


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


@dataclass(frozen=True)
class Fetcher:
    """Gets a day's list with timeouts, retries with backoff, and a per-date cache."""

    base_url: str = field(default_factory=endpoint)
    timeout: float = 20.0
    retries: int = 4
    backoff: float = 1.0
    cache: Path = field(default_factory=lambda: cache_root() / "hf_api")
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date()  # the list of today still grows

    def fetch(self, day: dt.date, refresh: bool = False) -> list[ApiPaper]:
        """The day's papers; raises ``NoPapersError`` for an empty day (see ``listing``)."""
        found = self.listing(day, refresh)
        if isinstance(found, NoPapers):
            raise NoPapersError(found)
        return found

    def listing(self, day: dt.date, refresh: bool = False) -> list[ApiPaper] | NoPapers:
        """The day's papers, or ``NoPapers`` for an empty day."""
        cached = self.cache / f"{day.isoformat()}.json"
        if cached.exists() and not refresh and day < self.today():
            papers = read_api_file(cached)
        else:
            data = self._get(day)
            papers = parse_daily_papers(data, self._url(day))
            if papers:
                atomic_write_bytes(cached, json.dumps(data, ensure_ascii=False).encode())
        if not papers:
            return NoPapers(day)
        return papers

    def _url(self, day: dt.date) -> str:
        return f"{self.base_url}/api/daily_papers?date={day.isoformat()}"

    def _get(self, day: dt.date) -> Any:
        url = self._url(day)
        last = ""
        with httpx.Client(timeout=self.timeout, transport=self.transport, follow_redirects=True,
                          headers={"User-Agent": "ai-paper-podcast"}) as client:
            for attempt in range(self.retries + 1):
                try:
                    response = client.get(url)
                except httpx.TransportError as exc:
                    last = f"{type(exc).__name__}: {exc}"
                else:
                    if response.status_code == 200:
                        try:
                            return response.json()
                        except json.JSONDecodeError as exc:
                            raise ApiFormatError(url, f"answer is not JSON: {exc}") from exc
                    if response.status_code not in RETRY_STATUS:
                        raise FetchError(f"{url}: HTTP {response.status_code}")
                    last = f"HTTP {response.status_code}"
                    wait = _retry_after(response)
                    if wait is not None:
                        self.sleep(min(wait, 60.0))
                        continue
                if attempt < self.retries:
                    delay = self.backoff * 2**attempt
                    log.info("fetch %s failed (%s); retrying in %.1f s", url, last, delay)
                    self.sleep(delay)
        raise FetchError(f"{url}: gave up after {self.retries + 1} attempts ({last})")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
