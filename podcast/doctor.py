"""``podcast doctor``: what a podcast directory (Apple Podcasts, 小宇宙) would reject, before submitting.

It reads what is published (feed/ and episodes/) and the settings, and writes nothing. The
rules are the directories' documented minimums: a reachable owner email, public URLs, a
1400-3000 px square JPEG/PNG cover, a category and an explicit flag, a feed small enough to
be read in full, and every episode's files where the feed says they are.
"""

from __future__ import annotations

import io
from pathlib import Path

import lxml.etree as etree

from .feed import PODCAST_NS
from .project import Layout

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
MAX_FEED_BYTES = 512 * 1024  # larger feeds are truncated or refused by some directories
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net", ".invalid", ".test", ".example",
                       ".localhost")


def placeholder_email(email: str) -> bool:
    """An address on a reserved example domain (RFC 2606) cannot receive a directory's mail."""
    domain = email.rpartition("@")[2].lower()
    return "@" not in email or any(domain == d.lstrip(".") or domain.endswith(d if d[0] == "." else "." + d)
                                   for d in PLACEHOLDER_DOMAINS)


def _cover_problem(path: Path) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            fmt, size, mode = img.format, img.size, img.mode
    except (OSError, UnidentifiedImageError):
        return f"the cover {path.name} is not a readable image"
    if fmt not in ("JPEG", "PNG") or (fmt == "JPEG") != (path.suffix.lower() in (".jpg", ".jpeg")):
        return f"the cover {path.name} is {fmt}; it must be a JPEG or PNG named as one"
    if size[0] != size[1] or not 1400 <= size[0] <= 3000:
        return f"the cover is {size[0]}x{size[1]} px; it must be square, 1400-3000 px"
    if mode != "RGB":
        return f"the cover is in {mode} colour; it must be RGB"
    return None


def problems(layout: Layout) -> list[str]:
    """One line for each thing a directory would reject; an empty list means ready to submit."""
    show = layout.show
    found: list[str] = []
    if placeholder_email(show.email):
        found.append(f"[show] email {show.email!r} is a placeholder: directories send the owner's "
                     "verification mail there")
    if not show.author.strip():
        found.append("[show] author (the owner's name) is empty")
    if layout.is_local:
        found.append(f"[show] base_url {show.base_url} is this machine: no directory can fetch the feed "
                     "or the audio (set the public URL the folders are served from)")
    if layout.media_apart and not layout.is_local and Layout(
            layout.root, show.model_copy(update={"base_url": layout.media_base_url})).is_local:
        found.append(f"[show] media_base_url {show.media_base_url} is this machine: "
                     "no app can fetch the audio")
    if show.website and Layout(layout.root, show.model_copy(update={"base_url": show.website})).is_local:
        found.append(f"[show] website {show.website} is this machine")
    feed = layout.feed_file
    try:
        data = feed.read_bytes()
    except OSError:
        return [*found, f"{feed} is missing: run 'podcast publish' first"]
    if len(data) > MAX_FEED_BYTES:
        found.append(f"the feed is {len(data) // 1024} KB; directories may stop reading past "
                     f"{MAX_FEED_BYTES // 1024} KB")
    try:
        channel = etree.parse(io.BytesIO(data)).find("channel")
    except etree.XMLSyntaxError as exc:
        return [*found, f"{feed} does not parse: {exc}"]
    if channel is None:
        return [*found, f"{feed} has no <channel>"]
    image = channel.find(f"{{{ITUNES_NS}}}image")
    if image is None or not image.get("href"):
        found.append("the feed names no cover (itunes:image)")
    else:
        cover = layout.feed_dir / image.get("href", "").rsplit("/", 1)[-1]
        if not cover.is_file():
            found.append(f"the cover {cover} is missing")
        elif problem := _cover_problem(cover):
            found.append(problem)
    if channel.find(f"{{{ITUNES_NS}}}category") is None:
        found.append("the feed has no itunes:category")
    if channel.findtext(f"{{{ITUNES_NS}}}explicit") not in ("yes", "no", "true", "false"):
        found.append("the feed has no itunes:explicit flag")
    if not channel.findtext(f"{{{PODCAST_NS}}}guid"):
        found.append("the feed has no podcast:guid")
    if not channel.findall("item"):
        found.append("the feed has no episodes")
    unreadable: list[str] = []
    for episode in layout.published(unreadable):
        folder = layout.episode(episode.date)
        audio = folder / episode.audio
        if not audio.is_file():
            if not layout.media_apart:  # served from a bucket, the MP3 need not be kept here
                found.append(f"{episode.date}: the audio {audio} is missing")
        elif audio.stat().st_size != episode.bytes:
            found.append(f"{episode.date}: the audio is {audio.stat().st_size} bytes, the feed says "
                         f"{episode.bytes}")
        for name in [*episode.transcripts.values(), episode.chapters_file]:
            if not (folder / name).is_file():
                found.append(f"{episode.date}: {name} is missing")
    found += unreadable
    return found
