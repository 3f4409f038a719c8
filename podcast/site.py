"""The show's web pages: one page per episode and the show page beside the feed.

Plain HTML, CSS and a little JavaScript (no CDN), rendered with jinja2 with
autoescaping, so a title carrying ``<script>`` or ``<think>`` shows as text.
Episode pages are written with their episode (their pictures and links are
that day's); the show page is rewritten on every publish.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .digest import DigestExtras, render_digest, research_fields
from .episode.transcripts import short_stamp
from .models import ChapterMark, Cue, Digest, Episode
from .project import FONT, Layout
from .render import render
from .store import atomic_write_bytes, cached_artifact
from .visuals import cjk_font


def chapter_spans(chapters: Sequence[dict[str, Any]], duration: float) -> list[dict[str, Any]]:
    """Chapters with start, end and a clock stamp, from a manifest's chapter list."""
    starts = [float(c["start"]) for c in chapters]
    ends = [*starts[1:], duration]
    return [{"start": round(s, 2), "end": round(e, 2), "stamp": short_stamp(s), "title": c["title"],
             "url": c.get("url")} for c, s, e in zip(chapters, starts, ends, strict=True)]


def episode_page(layout: Layout, title: str, date: dt.date, duration: float, description: str,
                 audio: str, hosts: str, chapters: Sequence[ChapterMark], cues: Sequence[Cue],
                 papers: list[dict[str, Any]], digest: bool, pictures: dict[str, str]) -> str:
    rows = chapter_spans([{"start": c.start, "title": c.title, "url": c.url} for c in chapters], duration)
    return render("episode.html.j2", font_url=Layout.FONT_FROM_EPISODE, show_title=layout.show.title,
                  feed_url=layout.feed_url, title=title, date=date.isoformat(),
                  duration=short_stamp(duration), description=description,
                  audio=layout.audio_link(date, audio), hosts=hosts,
                  chapters=rows, cues=cues, papers=papers, digest=digest,
                  wordcloud=pictures.get("wordcloud"), trend=pictures.get("trend"))


def digest_files(layout: Layout, digest: Digest, audio: str, pictures: dict[str, str]) -> tuple[str, str]:
    """The day's digest as Markdown (the daily format, parsed back by the reader) and HTML."""
    channels = (("RSS", layout.feed_url), ("网站", layout.show_page_url))
    audio = layout.audio_link(digest.date, audio)
    extras = DigestExtras(wordcloud=pictures.get("wordcloud"), trend=pictures.get("trend"), audio=audio,
                          channels=channels)
    topics = research_fields(digest.hot_topics)  # as stated, like the audio and the feed
    markdown = render_digest(digest.date, list(digest.papers), topics, extras)
    html = render("digest.html.j2", font_url=Layout.FONT_FROM_EPISODE, show_title=layout.show.title,
                  date=digest.date.isoformat(), papers=digest.papers, topics=", ".join(topics) or "综合领域",
                  audio=audio, wordcloud=pictures.get("wordcloud"), trend=pictures.get("trend"),
                  channels=channels)
    return markdown, html


def show_page(layout: Layout, episodes: Sequence[Episode], cover_name: str) -> str:
    """feed/index.html: cover, subscribe box, and every episode with a player and chapters."""
    show = layout.show
    rows = []
    for e in sorted(episodes, key=lambda e: e.date, reverse=True):
        folder = Layout.episode_from_show(e.date)
        rows.append({"title": e.title, "date": e.date.isoformat(), "duration": short_stamp(e.duration),
                     "description": e.description, "page": folder + e.page,
                     "audio": layout.audio_link(e.date, e.audio, from_show=True),
                     "chapters": chapter_spans([c.model_dump() for c in e.chapters], e.duration)})
    return render("show.html.j2", font_url=Layout.FONT_FROM_SHOW, show_title=show.title,
                  feed_url=layout.feed_url,
                  author=show.author, description=show.description, cover=cover_name, episodes=rows)


FONT_VERSION = 1  # bump when the subsetting options change, to refresh the cached subsets
LEGACY_FONT_LINK = f'url("../../feed/{FONT}")'  # pages of older episodes link the show's subset


def subset_font(text: str) -> bytes:
    """The CJK font cut down to the characters of ``text`` (WOFF), cached by those characters."""
    chars = "".join(sorted(set(text)))

    def make() -> bytes:
        from fontTools import subset
        options = subset.Options()
        options.flavor = "woff"
        options.layout_features = ["*"]
        options.notdef_outline = True
        font = subset.load_font(str(cjk_font()), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        buf = io.BytesIO()
        subset.save_font(font, buf, options)
        return buf.getvalue()

    return cached_artifact("font", [FONT_VERSION, chars], make)


def write_folder_font(folder: Path) -> Path:
    """``folder/cjk-subset.woff`` for the pages of one folder only: an episode's subset stays the
    size of its own pages instead of growing with every episode of the feed."""
    out = folder / FONT
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.html")))
    data = subset_font(text)
    if not out.exists() or out.read_bytes() != data:
        atomic_write_bytes(out, data)
    return out


def write_site_font(layout: Layout) -> Path:
    """feed/cjk-subset.woff: the show page's characters, plus those of older episode pages that
    still link this file. Listed last in the pages' font stack, it is only downloaded by
    readers whose system has no Chinese font."""
    pages = sorted(layout.feed_dir.glob("*.html")) + [
        p for p in sorted(layout.episodes.glob("*/*.html"))
        if not p.parent.name.startswith(".") and LEGACY_FONT_LINK in p.read_text(encoding="utf-8")]
    text = "".join(p.read_text(encoding="utf-8") for p in pages)
    out = layout.feed_dir / FONT
    data = subset_font(text)
    if not out.exists() or out.read_bytes() != data:
        atomic_write_bytes(out, data)
    return out
