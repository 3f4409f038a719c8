"""Episodes -> feed/feed.xml, the cover and the show page; the episodes are read once."""

from __future__ import annotations

from pathlib import Path

from . import site
from .cover import cover_bytes
from .feed import publish_feed
from .project import Project
from .store import atomic_write_bytes


def publish(project: Project) -> Path:
    """Rebuild the feed, the cover and feed/index.html from every published episode."""
    show = project.settings.show
    layout = project.layout
    cover = cover_bytes(project.root, show.cover, show.title)
    episodes = layout.published()
    path = publish_feed(layout, episodes, cover)
    page = site.show_page(layout, episodes, f"cover.{cover[1]}")
    atomic_write_bytes(layout.show_page_file, page.encode("utf-8"))
    site.write_site_font(layout)
    return path
