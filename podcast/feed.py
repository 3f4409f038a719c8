"""The RSS feed: RSS 2.0 + iTunes tags via feedgen, plus our own extension for the
Podcasting 2.0 ``podcast:`` namespace and Podlove Simple Chapters.

The feed is rebuilt from every published ``Episode`` (publish reads them once),
so it can never lose an episode that is on disk, and it is written atomically.
Every URL comes from the project's ``Layout``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import lxml.etree as etree  # must be imported before feedgen.util (feedgen extension rule)
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator

from .config import ShowSettings
from .episode.transcripts import short_stamp, stamp
from .errors import PublishError
from .models import Episode, EpisodeChapter
from .project import Layout
from .render import render
from .store import atomic_write_bytes

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
PSC_NS = "http://podlove.org/simple-chapters"
PODCAST_GUID_NS = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
GUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def podcast_guid(feed_url: str) -> str:
    """Podcasting 2.0 channel GUID: UUIDv5 of the feed URL without scheme and trailing slash."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NS, bare))


def show_guid(layout: Layout) -> str:
    """The channel's ``podcast:guid``, which identifies the show and so must survive a move.

    ``[show] guid`` when set; else the one the published feed already carries (a feed moved to
    a new ``base_url`` keeps it); else, for a first publish, the spec's default: UUIDv5 of the
    feed URL. Pin the value in podcast.toml to make it independent of the published files."""
    if layout.show.guid:
        return layout.show.guid
    try:
        found = etree.parse(str(layout.feed_file)).findtext(f"channel/{{{PODCAST_NS}}}guid")
    except (OSError, etree.XMLSyntaxError):
        found = None
    if found and GUID_PATTERN.fullmatch(found.strip()):
        return found.strip()
    return podcast_guid(layout.feed_url)


class PodcastIndexExtension(BaseExtension):
    """Channel-level ``podcast:guid``, ``podcast:locked`` and ``podcast:person``."""

    def __init__(self) -> None:
        self.guid: str | None = None
        self.locked: tuple[str, str] | None = None  # (yes|no, owner email)
        self.persons: list[tuple[str, str]] = []  # (role, name)

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS, "psc": PSC_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        if self.guid:
            etree.SubElement(channel, f"{{{PODCAST_NS}}}guid").text = self.guid
        if self.locked:
            el = etree.SubElement(channel, f"{{{PODCAST_NS}}}locked", owner=self.locked[1])
            el.text = self.locked[0]
        for role, name in self.persons:
            etree.SubElement(channel, f"{{{PODCAST_NS}}}person", role=role).text = name
        return rss_feed

    def extend_atom(self, atom_feed: Any) -> Any:
        return atom_feed


class PodcastIndexEntryExtension(BaseEntryExtension):
    """Item-level transcripts, JSON chapters and Podlove Simple Chapters."""

    def __init__(self) -> None:
        self.transcripts: list[dict[str, str]] = []
        self.chapters_url: str | None = None
        self.psc: list[tuple[float, str, str | None]] = []

    def extend_rss(self, entry: Any) -> Any:
        for t in self.transcripts:
            etree.SubElement(entry, f"{{{PODCAST_NS}}}transcript", **t)
        if self.chapters_url:
            etree.SubElement(entry, f"{{{PODCAST_NS}}}chapters", url=self.chapters_url,
                             type="application/json+chapters")
        if self.psc:
            root = etree.SubElement(entry, f"{{{PSC_NS}}}chapters", version="1.2")
            for start, title, href in self.psc:
                attrs = {"start": stamp(start, millis=True), "title": title}
                if href:
                    attrs["href"] = href
                etree.SubElement(root, f"{{{PSC_NS}}}chapter", **attrs)
        return entry

    def extend_atom(self, entry: Any) -> Any:
        return entry


_ARXIV = re.compile(r"https?://arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?/?")
_HF = re.compile(r"https?://huggingface\.co/papers/(\d{4}\.\d{4,5})/?")


def paper_links(chapters: Sequence[EpisodeChapter]) -> list[dict[str, Any]]:
    """Each paper chapter's links for the show notes, written out as visible URLs: many apps
    show notes as text and link bare URLs, but drop or hide anchors. A paper on arXiv is also
    on Hugging Face Papers under the same id, so both are given."""
    rows = []
    for c in chapters:
        if not c.url:
            continue
        m = _ARXIV.fullmatch(c.url) or _HF.fullmatch(c.url)
        links = ([("arXiv", f"https://arxiv.org/abs/{m[1]}"), ("HF", f"https://huggingface.co/papers/{m[1]}")]
                 if m else [("链接", c.url)])
        rows.append({"title": c.title, "links": links})
    return rows


def pub_date(date: dt.date, show: ShowSettings) -> dt.datetime:
    """Publication time comes from the episode's date, never from "now"."""
    return dt.datetime.combine(date, dt.time(show.publish_hour), tzinfo=ZoneInfo(show.timezone))


def build_feed(episodes: Sequence[Episode], layout: Layout, cover_name: str) -> bytes:
    """The RSS document of ``episodes`` (newest first)."""
    show = layout.show
    feed_url = layout.feed_url
    site = layout.site_url
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcast_index", PodcastIndexExtension, PodcastIndexEntryExtension)
    fg.title(show.title)
    fg.description(show.description)
    fg.language(show.language)
    fg.link(href=feed_url, rel="self", type="application/rss+xml")
    fg.link(href=site, rel="alternate")  # added last: feedgen's <link> is the last one
    fg.author({"name": show.author, "email": show.email})
    fg.generator("podcast (daily AI paper podcast generator)")
    fg.image(url=layout.feed_asset_url(cover_name), title=show.title, link=site)
    if episodes:
        fg.lastBuildDate(pub_date(episodes[0].date, show))
    it = fg.podcast
    it.itunes_author(show.author)
    it.itunes_owner(name=show.author, email=show.email)
    it.itunes_image(layout.feed_asset_url(cover_name))
    it.itunes_explicit("yes" if show.explicit else "no")
    category: dict[str, str] = {"cat": show.category}
    if show.subcategory:
        category["sub"] = show.subcategory
    it.itunes_category([category])
    it.itunes_summary(show.description)
    it.itunes_type("episodic")
    pi = fg.podcast_index
    pi.guid = show_guid(layout)
    pi.locked = ("no", show.email)
    pi.persons = []

    # oldest first with order="append" keeps the document newest-first after reversing
    for number, e in enumerate(sorted(episodes, key=lambda e: e.date), start=1):
        folder = layout.episode_url(e.date)
        fe = fg.add_entry(order="prepend")
        fe.title(e.title)
        fe.guid(e.guid, permalink=False)
        fe.link(href=folder)
        fe.enclosure(layout.enclosure_url(e.date, e.audio), str(e.bytes), "audio/mpeg")
        fe.pubDate(pub_date(e.date, show))
        fe.description(e.description)
        rows = [{"stamp": short_stamp(c.start), "title": c.title, "url": c.url} for c in e.chapters]
        fe.content(render("content.html.j2", description=e.description, chapters=rows,
                          papers=paper_links(e.chapters),
                          hosts="、".join(h.name for h in e.hosts), notes_url=folder), type="CDATA")
        fe.podcast.itunes_duration(round(e.duration))
        fe.podcast.itunes_episode_type("full")
        fe.podcast.itunes_episode(number)
        fe.podcast.itunes_explicit("yes" if show.explicit else "no")
        ext = fe.podcast_index
        # VTT last: gPodder and feedparser keep only the last transcript they see
        ext.transcripts = [
            {"url": folder + "transcript.srt", "type": "application/x-subrip",
             "language": show.language, "rel": "captions"},
            {"url": folder + "transcript.vtt", "type": "text/vtt", "language": show.language},
        ]
        ext.chapters_url = folder + "chapters.json"
        ext.psc = [(c.start, c.title, c.url) for c in e.chapters]
    try:
        return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    except (ValueError, TypeError) as exc:
        raise PublishError(f"cannot build the feed: {exc}") from exc


def check_feed(xml: bytes, episodes: Sequence[Episode]) -> None:
    """Parse ``xml`` back as a podcast app would and check that every episode is in it, with its
    enclosure and a valid RFC 822 date; a feed that fails is never written."""
    try:
        channel = etree.fromstring(xml).find("channel")
    except etree.XMLSyntaxError as exc:
        raise PublishError(f"the feed would not parse: {exc}") from exc
    items = [] if channel is None else channel.findall("item")
    if len(items) != len(episodes):
        raise PublishError(f"the feed has {len(items)} items for {len(episodes)} episodes")
    for item in items:
        title = item.findtext("title") or "?"
        enclosure = item.find("enclosure")
        if enclosure is None or not enclosure.get("url") or not (enclosure.get("length") or "").isdigit():
            raise PublishError(f"the feed item {title!r} has no valid enclosure")
        try:
            email.utils.parsedate_to_datetime(item.findtext("pubDate") or "")
        except (TypeError, ValueError) as exc:
            raise PublishError(f"the feed item {title!r} has an invalid pubDate") from exc


def publish_feed(layout: Layout, episodes: Sequence[Episode], cover: tuple[bytes, str]) -> Path:
    """Write ``feed/feed.xml`` and the cover for ``episodes``: both are built and checked
    before either replaces what is published."""
    data, ext = cover
    cover_name = f"cover.{ext}"
    xml = build_feed(episodes, layout, cover_name)
    check_feed(xml, episodes)
    atomic_write_bytes(layout.feed_dir / cover_name, data)
    out = layout.feed_file
    atomic_write_bytes(out, xml)
    return out
