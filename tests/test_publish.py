"""The publish side as a listener's app, a directory and a browser see it: nothing but the site is
published, one bad episode never blocks the feed, the show keeps its identity, show notes link
the papers, and every page carries the glyphs it uses."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from PIL import Image

from podcast.cli import main
from podcast.digest import read_digest, research_fields
from podcast.episode.transcripts import description
from podcast.feed import check_feed
from podcast.models import Digest, Paper, Script
from podcast.project import FONT
from podcast.site import digest_files
from podcast.visuals import keywords, trend_gaps

from .conftest import FAST_BUILD

DATE = "2026-11-20"


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in ("episodes", "feed") for p in sorted((root / folder).rglob("*")) if p.is_file()}


def publish(root: Path, *extra: str) -> CliRunner:
    return CliRunner().invoke(main, ["publish", "--out", str(root), *extra])


def channel_guid(root: Path) -> str:
    return feedparser.parse(str(root / "feed" / "feed.xml")).feed["podcast_guid"]


# ---------------------------------------------------------------- what is published


def test_published_folders_hold_only_the_site(built: Path) -> None:
    hidden = [p for folder in ("episodes", "feed") for p in (built / folder).rglob(".*")]
    assert hidden == []
    assert (built / ".podcast" / f"lock-{DATE}").is_file() and (built / ".podcast" / "lock-feed").is_file()
    assert "/.podcast/" in (Path(__file__).parents[1] / ".gitignore").read_text("utf-8")


def test_publish_removes_the_state_older_versions_left(built_copy: Path) -> None:
    for leftover in (built_copy / "episodes" / f".lock-{DATE}", built_copy / "feed" / ".lock",
                     built_copy / "feed" / f".{FONT}.sha256"):
        leftover.write_text("1", "utf-8")
    assert publish(built_copy).exit_code == 0
    assert [p for folder in ("episodes", "feed") for p in (built_copy / folder).rglob(".*")] == []


def covered(page: Path, font: Path) -> set[str]:
    """The characters of ``page`` that ``font`` has no glyph for (whitespace aside)."""
    cmap = TTFont(str(font)).getBestCmap()
    return {c for c in page.read_text("utf-8") if not c.isspace() and ord(c) not in cmap}


def test_every_page_has_its_own_font_subset_with_every_glyph(built: Path) -> None:
    folder = built / "episodes" / DATE
    for page in ("index.html", "digest.html"):
        text = (folder / page).read_text("utf-8")
        assert f'url("{FONT}")' in text
        assert covered(folder / page, folder / FONT) == set(), page  # no emoji or tofu left
    assert covered(built / "feed" / "index.html", built / "feed" / FONT) == set()
    # the show's subset is the show page's, not the union of every episode's pages
    episode_only = {c for p in folder.glob("*.html") for c in p.read_text("utf-8")} - set(
        (built / "feed" / "index.html").read_text("utf-8"))
    show_cmap = TTFont(str(built / "feed" / FONT)).getBestCmap()
    assert any(ord(c) not in show_cmap for c in episode_only)
    assert (folder / FONT).stat().st_size < 200_000


# ---------------------------------------------------------------- one bad episode never blocks the feed


def test_an_unreadable_episode_is_named_and_the_others_published(built_copy: Path) -> None:
    broken = built_copy / "episodes" / "2026-11-23"
    broken.mkdir()
    (broken / "episode.json").write_text('{"date": "2026-11-23", "title": ', "utf-8")
    result = publish(built_copy)
    assert result.exit_code == 0, result.output
    warning = [ln for ln in result.output.splitlines() if ln.startswith("warning:")]
    assert len(warning) == 1 and str(broken / "episode.json") in warning[0] and "left out" in warning[0]
    entries = feedparser.parse(str(built_copy / "feed" / "feed.xml")).entries
    assert [e.published_parsed[:3] for e in entries] == [(2026, 11, 20)]


def test_an_episode_the_feed_cannot_carry_is_not_swapped_in(built_copy: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import podcast.publish

    before = snapshot(built_copy)
    monkeypatch.setattr(podcast.publish, "build_feed", lambda *a, **k: b"<rss><channel></channel></rss>")
    result = CliRunner().invoke(main, ["speak", *FAST_BUILD, DATE, "--out", str(built_copy)])
    assert result.exit_code == 1 and "the feed has 0 items for 1 episodes" in result.output
    assert snapshot(built_copy) == before


def test_check_feed_parses_back() -> None:
    from podcast.errors import PublishError

    with pytest.raises(PublishError, match="would not parse"):
        check_feed(b"<rss><channel>", [])
    check_feed(b"<rss><channel></channel></rss>", [])


# ---------------------------------------------------------------- identity and placeholders


def test_channel_guid_survives_a_new_base_url(built_copy: Path) -> None:
    first = channel_guid(built_copy)
    (built_copy / "podcast.toml").write_text('[show]\nbase_url = "https://pod.example.net/show/"\n', "utf-8")
    assert publish(built_copy).exit_code == 0
    feed = feedparser.parse(str(built_copy / "feed" / "feed.xml"))
    assert feed.entries[0].enclosures[0].href.startswith("https://pod.example.net/show/")
    assert channel_guid(built_copy) == first
    pinned = "5e2c9d0e-4b7f-4a51-9c3e-2f8a6b1d7c40"
    (built_copy / "podcast.toml").write_text(f'[show]\nguid = "{pinned}"\n', "utf-8")
    assert publish(built_copy).exit_code == 0 and channel_guid(built_copy) == pinned


def test_placeholder_email_warns_on_a_real_url_and_doctor_lists_rejections(built_copy: Path) -> None:
    result = publish(built_copy)
    assert result.exit_code == 0 and "warning:" not in result.output  # a local preview is fine
    doctor = CliRunner().invoke(main, ["doctor", "--out", str(built_copy)])
    assert doctor.exit_code == 1
    assert "email 'podcast@example.com' is a placeholder" in doctor.output
    assert "base_url http://127.0.0.1:8000/ is this machine" in doctor.output

    (built_copy / "podcast.toml").write_text('[show]\nbase_url = "https://pod.example.net/"\n', "utf-8")
    result = publish(built_copy)
    assert result.exit_code == 0
    assert "warning: [show] email is the placeholder podcast@example.com" in result.output

    (built_copy / "podcast.toml").write_text(
        '[show]\nbase_url = "https://pod.example.net/"\nemail = "host@pod.cn"\n', "utf-8")
    assert publish(built_copy).exit_code == 0
    doctor = CliRunner().invoke(main, ["doctor", "--out", str(built_copy)])
    assert doctor.exit_code == 0 and "ok" in doctor.output, doctor.output

    mp3 = next((built_copy / "episodes" / DATE).glob("*.mp3"))
    mp3.unlink()
    Image.new("RGB", (800, 600)).save(built_copy / "feed" / "cover.jpg")
    doctor = CliRunner().invoke(main, ["doctor", "--out", str(built_copy)])
    assert doctor.exit_code == 1
    assert f"{DATE}: the audio {mp3} is missing" in doctor.output
    assert "the cover is 800x600 px; it must be square, 1400-3000 px" in doctor.output


def test_a_configured_cover_is_re_encoded_as_jpeg(built_copy: Path) -> None:
    Image.new("RGBA", (1600, 1600), (200, 40, 40, 120)).save(built_copy / "mine.png")
    (built_copy / "podcast.toml").write_text('[show]\ncover = "mine.png"\n', "utf-8")
    assert publish(built_copy).exit_code == 0
    with Image.open(built_copy / "feed" / "cover.jpg") as img:
        assert (img.format, img.mode, img.size) == ("JPEG", "RGB", (1600, 1600))
    assert not (built_copy / "feed" / "cover.png").exists()


def test_a_failing_publish_leaves_the_cover(built_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import podcast.feed
    from podcast.errors import PublishError

    before = snapshot(built_copy)
    Image.new("RGB", (1500, 1500), "red").save(built_copy / "red.jpg")
    (built_copy / "podcast.toml").write_text('[show]\ncover = "red.jpg"\n', "utf-8")

    def broken(*args: object, **kwargs: object) -> bytes:
        raise PublishError("cannot build the feed: broken on purpose")

    monkeypatch.setattr(podcast.feed, "build_feed", broken)
    result = publish(built_copy)
    assert result.exit_code == 1 and "broken on purpose" in result.output
    assert snapshot(built_copy) == before


# ---------------------------------------------------------------- show notes


def test_show_notes_and_chapters_link_every_paper(built: Path) -> None:
    entry = feedparser.parse(str(built / "feed" / "feed.xml")).entries[0]
    notes = entry.content[0].value
    chapters = json.loads((built / "episodes" / DATE / "chapters.json").read_text("utf-8"))["chapters"]
    papers = [c for c in chapters if "url" in c]
    assert len(papers) == 4
    for chapter in papers:
        arxiv_id = chapter["url"].rsplit("/", 1)[-1]
        assert chapter["url"].startswith("https://")
        assert f">https://arxiv.org/abs/{arxiv_id}</a>" in notes  # the URL itself is visible text
        assert f">https://huggingface.co/papers/{arxiv_id}</a>" in notes


# ---------------------------------------------------------------- one source for the fields


def test_hot_fields_come_from_the_digest_and_gpt_is_not_one(built: Path) -> None:
    from podcast.project import Project

    sample = read_digest(built / "episodes" / DATE / "source.md")
    digest = Digest(date=sample.date, papers=sample.papers, stated_count=4, hot_topics=("LLM", "RL", "GPT"))
    markdown, html = digest_files(Project.open(built).layout, digest, "a.mp3", {})
    assert "热门领域：LLM, RL</li>" in html and "GPT" not in html.split("论文详情")[0]
    assert "- 热门领域：LLM, RL\n" in markdown
    script = Script.model_validate({
        "date": DATE, "title": "t", "topics": ["LLM", "RL", "GPT"], "hosts": [{"id": "a", "name": "A"}],
        "segments": [{"id": "o", "title": "开场", "kind": "opening",
                      "lines": [{"speaker": "a", "text": "好"}]}]})
    assert description(script).startswith("热门领域：LLM、RL。")
    assert research_fields(["GPT", "综合领域", "LLM", "LLM"]) == ["LLM"]


# ---------------------------------------------------------------- pictures


def test_keywords_drop_boilerplate_and_keep_terms_whole() -> None:
    paper = Paper(rank=1, title_zh="长度外推到百万词元的多模态智能体", title_en="x",
                  abstract_zh="结果表明，该方法包含新引入的模块，可外推到更长上下文，优于基于检索的基线；"
                              "项目页面已公开。")
    words = keywords(Digest(date=dt.date(2026, 11, 20), papers=(paper,)))
    for bad in ("结果表明", "包含", "引入", "优于", "基于", "推到", "项目", "页面", "模态"):
        assert bad not in words, bad
    for good in ("外推", "多模态", "智能体"):
        assert good in words, good


def test_trend_chart_marks_breaks() -> None:
    days = [(dt.date(2025, 1, 9), 5), (dt.date(2025, 1, 10), 7), (dt.date(2026, 3, 2), 9),
            (dt.date(2026, 3, 3), 4)]
    assert trend_gaps(days) == [(2, 416)]
    weekdays = [(dt.date(2026, 11, 20), 1), (dt.date(2026, 11, 23), 2)]  # a weekend is no break
    assert trend_gaps(weekdays) == []


# ---------------------------------------------------------------- audio served apart from the pages


MEDIA = "https://media.example.net/pod"  # no trailing slash: it is added, as for base_url


def test_media_base_url_moves_only_the_enclosures(built_copy: Path) -> None:
    feed = built_copy / "feed" / "feed.xml"
    before = feed.read_text("utf-8")
    old = feedparser.parse(before).entries
    result = CliRunner(env={"PODCAST_MEDIA_BASE_URL": MEDIA}).invoke(
        main, ["publish", "--root", str(built_copy)])
    assert result.exit_code == 0, result.output
    after = feed.read_text("utf-8")
    new = feedparser.parse(after).entries
    assert [e.id for e in new] == [e.id for e in old]  # the GUIDs stay: apps see no new episodes
    moved = {o.enclosures[0].href: n.enclosures[0].href for o, n in zip(old, new, strict=True)}
    audio = next((built_copy / "episodes" / DATE).glob("*.mp3")).name
    assert moved == {f"http://127.0.0.1:8000/episodes/{DATE}/{audio}": f"{MEDIA}/episodes/{DATE}/{audio}"}
    for url_before, url_after in moved.items():
        after = after.replace(url_after, url_before)
    assert after == before  # nothing else changed: pages, transcripts, chapters stay on base_url
    show_page = (built_copy / "feed" / "index.html").read_text("utf-8")
    assert f'<audio controls preload="metadata" src="{MEDIA}/episodes/{DATE}/{audio}">' in show_page


def test_a_day_respoken_with_media_apart_links_the_media_url(built_copy: Path) -> None:
    (built_copy / "podcast.toml").write_text(f'[show]\nmedia_base_url = "{MEDIA}/"\n', "utf-8")
    result = CliRunner().invoke(main, ["speak", DATE, "--root", str(built_copy), *FAST_BUILD])
    assert result.exit_code == 0, result.output
    folder = built_copy / "episodes" / DATE
    url = f"{MEDIA}/episodes/{DATE}/{next(folder.glob('*.mp3')).name}"
    assert f'src="{url}"' in (folder / "index.html").read_text("utf-8")
    assert f"[收听今日论文解读]({url})" in (folder / "digest.md").read_text("utf-8")
    assert f'<a href="{url}">' in (folder / "digest.html").read_text("utf-8")
    assert read_digest(folder / "digest.md").papers == read_digest(folder / "source.md").papers


def test_the_feed_is_rebuilt_from_manifests_when_the_mp3s_live_in_the_bucket(built_copy: Path) -> None:
    """A checkout that keeps no MP3 (they are uploaded) still publishes each episode's exact length
    and duration, and the doctor does not ask for the audio on this disk."""
    mp3 = next((built_copy / "episodes" / DATE).glob("*.mp3"))
    size = mp3.stat().st_size
    old = feedparser.parse(str(built_copy / "feed" / "feed.xml")).entries[0]
    mp3.unlink()
    (built_copy / "podcast.toml").write_text(
        '[show]\nbase_url = "https://pod.example.net/"\nemail = "host@pod.cn"\n'
        f'media_base_url = "{MEDIA}/"\n', "utf-8")
    assert publish(built_copy).exit_code == 0
    new = feedparser.parse(str(built_copy / "feed" / "feed.xml")).entries[0]
    assert int(new.enclosures[0].length) == size and new.itunes_duration == old.itunes_duration
    assert new.enclosures[0].href == f"{MEDIA}/episodes/{DATE}/{mp3.name}"
    doctor = CliRunner().invoke(main, ["doctor", "--root", str(built_copy)])
    assert doctor.exit_code == 0 and "ok" in doctor.output, doctor.output
    (built_copy / "podcast.toml").write_text(
        '[show]\nbase_url = "https://pod.example.net/"\nemail = "host@pod.cn"\n'
        'media_base_url = "http://127.0.0.1:9000/media/"\n', "utf-8")
    doctor = CliRunner().invoke(main, ["doctor", "--root", str(built_copy)])
    assert doctor.exit_code == 1
    assert "media_base_url http://127.0.0.1:9000/media/ is this machine" in doctor.output
