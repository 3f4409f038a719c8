"""Episodes -> feed/feed.xml, the cover and the show page; the episodes are read once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import site
from .cover import cover_bytes
from .doctor import placeholder_email
from .feed import build_feed, check_feed, publish_feed
from .models import Episode
from .project import Layout, Project
from .store import atomic_write_bytes


def _quiet(_message: str) -> None:
    pass


def placeholders(layout: Layout) -> list[str]:
    """What a real publication must not carry: the example owner email on a public URL."""
    if layout.is_local or not placeholder_email(layout.show.email):
        return []
    return [f"[show] email is the placeholder {layout.show.email} but the feed is published at "
            f"{layout.show.base_url}: directories mail the owner there (set your own; see 'podcast doctor')"]


def check_with(layout: Layout, episode: Episode) -> None:
    """Build and parse back the feed as it will be once ``episode`` is in, before it is swapped in:
    an episode the feed cannot carry fails its own build instead of every later publish."""
    others = [e for e in layout.published() if e.date != episode.date]
    episodes = sorted([*others, episode], key=lambda e: e.date, reverse=True)
    check_feed(build_feed(episodes, layout, "cover.jpg"), episodes)


def publish(project: Project, warn: Callable[[str], None] = _quiet) -> Path:
    """Rebuild the feed, the cover and feed/index.html from every readable published episode;
    an unreadable one is named in a warning and left out."""
    show = project.settings.show
    layout = project.layout
    for message in placeholders(layout):
        warn(message)
    cover = cover_bytes(project.root, show.cover, show.title)
    unreadable: list[str] = []
    episodes = layout.published(unreadable)
    for message in unreadable:
        warn(message)
    path = publish_feed(layout, episodes, cover)
    page = site.show_page(layout, episodes, f"cover.{cover[1]}")
    atomic_write_bytes(layout.show_page_file, page.encode("utf-8"))
    site.write_site_font(layout)
    for leftover in layout.legacy_state():
        leftover.unlink(missing_ok=True)
    return path
