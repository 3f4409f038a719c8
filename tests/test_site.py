"""The digest, pictures, web pages and preview server, as a listener's browser and app see them."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import urllib.request
import warnings
from pathlib import Path
from urllib.error import HTTPError

import pytest
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops, ImageDraw, ImageFont

from podcast.cli import SAMPLE, main
from podcast.cover import MAX_BYTES, generate_cover
from podcast.digest import read_digest
from podcast.serve import PreviewServer
from podcast.visuals import cjk_font, is_blank, keywords, trend_chart

DATE = "2026-11-20"


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET"):
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def site(built: Path):
    with PreviewServer(built, port=0) as server:
        yield server.url, built


# ---------------------------------------------------------------- serve


def test_byte_ranges_head_and_types(site) -> None:
    url, root = site
    mp3 = root / "episodes" / DATE / f"ai-paper-daily-{DATE}.mp3"
    data = mp3.read_bytes()
    base = f"{url}episodes/{DATE}/{mp3.name}"
    status, headers, body = fetch(base, {"Range": "bytes=100-1099"})
    assert status == 206 and body == data[100:1100]
    assert headers["Content-Range"] == f"bytes 100-1099/{len(data)}" and headers["Content-Length"] == "1000"
    status, headers, body = fetch(base, {"Range": "bytes=-500"})
    assert status == 206 and body == data[-500:]
    status, headers, body = fetch(base, {"Range": f"bytes={len(data) - 10}-"})
    assert status == 206 and body == data[-10:]
    status, headers, _ = fetch(base, {"Range": f"bytes={len(data)}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(data)}"
    status, headers, body = fetch(base, method="HEAD")
    assert status == 200 and body == b"" and headers["Content-Length"] == str(len(data))
    assert headers["Accept-Ranges"] == "bytes" and headers["Content-Type"] == "audio/mpeg"
    types = {"feed/feed.xml": "application/rss+xml", f"episodes/{DATE}/transcript.vtt": "text/vtt",
             f"episodes/{DATE}/chapters.json": "application/json+chapters", "feed/index.html": "text/html",
             f"episodes/{DATE}/wordcloud.png": "image/png", "feed/cover.jpg": "image/jpeg"}
    for path, kind in types.items():
        status, headers, _ = fetch(url + path, method="HEAD")
        assert status == 200 and headers["Content-Type"].startswith(kind), path


def test_only_the_site_is_served(site) -> None:
    url, root = site
    (root / "podcast.toml").write_text("", "utf-8")  # the shared build: removed again below
    try:
        for path in ("podcast.toml", "feed/../podcast.toml", "episodes/%2e%2e/podcast.toml",
                     "scripts/x.yaml", "episodes/nope.mp3"):
            assert fetch(url + path)[0] == 404, path
    finally:
        (root / "podcast.toml").unlink()
    status, _, body = fetch(f"{url}episodes/{DATE}/")
    assert status == 200 and b"<audio" in body
    request = urllib.request.Request(url)
    opener = urllib.request.build_opener(type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                              {"redirect_request": lambda *a, **k: None}))
    with pytest.raises(HTTPError) as caught:
        opener.open(request, timeout=10)
    assert caught.value.code == 302 and caught.value.headers["Location"] == "/feed/index.html"


# ---------------------------------------------------------------- pictures and digest


def glyph(char: str, font: ImageFont.FreeTypeFont) -> Image.Image:
    image = Image.new("L", (80, 80), 0)
    ImageDraw.Draw(image).text((10, 5), char, font=font, fill=255)
    return image


def test_the_cjk_font_draws_chinese_not_tofu() -> None:
    font = ImageFont.truetype(str(cjk_font()), 60)
    notdef = glyph("\ue000", font)  # a private-use code point: the font's missing-glyph box
    mo, xing = glyph("模", font), glyph("型", font)
    for image in (mo, xing):
        assert ImageChops.difference(image, notdef).getbbox() is not None
    assert ImageChops.difference(mo, xing).getbbox() is not None


def test_keyword_cloud_and_trend_chart(built: Path) -> None:
    folder = built / "episodes" / DATE
    cloud = (folder / "wordcloud.png").read_bytes()
    chart = (folder / "trend.png").read_bytes()
    assert Image.open(io.BytesIO(cloud)).size == (1200, 600) and not is_blank(cloud)
    assert Image.open(io.BytesIO(chart)).size == (1200, 504) and not is_blank(chart)
    words = keywords(read_digest(SAMPLE))
    assert not {"标题", "摘要", "模型", "方法", "我们"} & set(words)
    chinese = [w for w in words if any("\u4e00" <= c <= "\u9fff" for c in w)]
    assert len(chinese) >= 20 and {"TinyProver", "EchoBench"} <= set(words)  # English names kept whole
    cmap = TTFont(str(cjk_font()), fontNumber=0).getBestCmap()
    assert all(ord(c) in cmap for w in words for c in w)  # every drawn character has a glyph
    import datetime as dt

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trend_chart([(dt.date(2026, 11, d), n) for d, n in ((16, 9), (17, 12), (18, 7), (19, 15), (20, 4))])
    assert not [w for w in caught if "missing from" in str(w.message)]  # matplotlib's tofu warning


def test_digest_parses_back_with_its_own_pictures_audio_and_channels(built: Path) -> None:
    folder = built / "episodes" / DATE
    digest = read_digest(folder / "digest.md")
    assert digest.papers == read_digest(SAMPLE).papers
    text = (folder / "digest.md").read_text("utf-8")
    for needle in ("## 📊 今日论文统计", "- 热门领域：", "](wordcloud.png)", "](trend.png)",
                   f"](ai-paper-daily-{DATE}.mp3)", "http://127.0.0.1:8000/feed/feed.xml",
                   "[arXiv](https://arxiv.org/abs/2611.10001)"):
        assert needle in text, needle
    manifest = json.loads((folder / "episode.json").read_text("utf-8"))
    assert manifest["pictures"] == {"trend": "trend.png", "wordcloud": "wordcloud.png"}


def test_generated_cover_carries_the_chinese_name() -> None:
    data = generate_cover("AI论文早班车")
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (3000, 3000) and len(data) <= MAX_BYTES
    title_band = image.crop((300, 500, 2700, 950)).convert("L")
    assert title_band.getextrema()[1] > 240  # white lettering is there
    assert data != generate_cover("另一个节目")


# ---------------------------------------------------------------- escaping


HOSTILE = "<script>window.__pwned=1</script>带<think>标签</think>的标题"


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory: pytest.TempPathFactory, built: Path) -> Path:
    """The sample root plus an episode whose paper title carries markup."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(built, root, dirs_exist_ok=True)
    text = SAMPLE.read_text("utf-8").replace("2026-11-20", "2026-11-23", 1)
    text = text.replace("### 1. TinyProver：小模型通过可验证自博弈学会形式化证明", f"### 1. {HOSTILE}", 1)
    source = root / "hostile_daily_paper.md"
    source.write_text(text, "utf-8")
    # escaping is the pages' business, not the voice's: the fake engine speaks it
    result = CliRunner().invoke(main, ["build", str(source), "--out", str(root), "--engine", "fake"])
    assert result.exit_code == 0, result.output
    return root


def test_markup_in_titles_is_escaped_in_every_page(hostile_root: Path) -> None:
    pages = [hostile_root / "feed" / "index.html", hostile_root / "episodes" / "2026-11-23" / "index.html",
             hostile_root / "episodes" / "2026-11-23" / "digest.html"]
    for page in pages:
        html = page.read_text("utf-8")
        assert "<script>window.__pwned" not in html and "<think>" not in html, page
    episode_page = pages[1].read_text("utf-8")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in episode_page


# ---------------------------------------------------------------- a real browser

CHROMIUM = shutil.which("chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required"]
PLAYWRIGHT = importlib.util.find_spec("playwright") is not None  # the `browser` dependency group
browser_only = pytest.mark.skipif(CHROMIUM is None or not PLAYWRIGHT,
                                  reason="needs Debian's chromium and the browser group (.ci/run has both)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@browser_only
def test_chapters_seek_and_the_transcript_follows(site, browser) -> None:
    url, root = site
    page = browser.new_page()
    page.goto(f"{url}episodes/{DATE}/")
    page.wait_for_function("document.querySelector('audio').readyState >= 1")
    duration = page.evaluate("document.querySelector('audio').duration")
    assert duration > 60
    chapters = json.loads((root / "episodes" / DATE / "chapters.json").read_text("utf-8"))["chapters"]
    target = chapters[3]["startTime"]
    page.locator("ol.chapters button.seek").nth(3).click()
    page.wait_for_function(f"Math.abs(document.querySelector('audio').currentTime - {target}) < 2")
    page.wait_for_function("document.querySelector('.transcript p.now') !== null")
    state = page.evaluate("""() => {
        const a = document.querySelector('audio'), cue = document.querySelector('.transcript p.now');
        return {t: a.currentTime, paused: a.paused, start: +cue.dataset.start, end: +cue.dataset.end,
                chapter: document.querySelector('ol.chapters li.now').dataset.start};
    }""")
    assert state["start"] - 0.5 <= state["t"] <= state["end"] + 0.5 and not state["paused"]
    assert abs(float(state["chapter"]) - target) < 0.01
    page.wait_for_timeout(1500)  # playback moves on and the highlight follows
    later = page.evaluate("document.querySelector('audio').currentTime")
    assert later > state["t"] + 0.5
    start = page.evaluate("+document.querySelector('.transcript p.now').dataset.start")
    end = page.evaluate("+document.querySelector('.transcript p.now').dataset.end")
    assert start - 0.5 <= page.evaluate("document.querySelector('audio').currentTime") <= end + 0.75
    page.close()


@browser_only
def test_show_page_subscribe_box_and_players(site, browser) -> None:
    url, _ = site
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{url}feed/index.html")
    assert page.input_value("#rss") == "http://127.0.0.1:8000/feed/feed.xml"
    page.click("button[data-copy=rss]")
    page.wait_for_function("document.querySelector('button[data-copy=rss]').textContent === '已复制'")
    assert page.locator("section.episode audio").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    page.close()


@browser_only
def test_injected_script_does_not_run(hostile_root: Path, browser) -> None:
    with PreviewServer(hostile_root, port=0) as server:
        page = browser.new_page()
        for path in ("episodes/2026-11-23/", "episodes/2026-11-23/digest.html", "feed/index.html"):
            page.goto(server.url + path)
            assert page.evaluate("window.__pwned") is None
            if path != "feed/index.html":  # the show page lists the spoken titles, tags removed
                assert HOSTILE in page.inner_text("body")
        page.close()


def test_a_feed_pointed_at_serve_plays_end_to_end(built_copy: Path) -> None:
    import feedparser

    with PreviewServer(built_copy, port=0) as server:
        (built_copy / "podcast.toml").write_text(f'[show]\nbase_url = "{server.url}"\n', "utf-8")
        assert CliRunner().invoke(main, ["publish", "--out", str(built_copy)]).exit_code == 0
        status, headers, body = fetch(server.url + "feed/feed.xml")
        assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
        feed = feedparser.parse(body)
        enclosure = feed.entries[0].enclosures[0]
        assert enclosure.href.startswith(server.url)
        status, headers, _ = fetch(enclosure.href, method="HEAD")
        assert status == 200 and headers["Content-Length"] == str(enclosure.length)
        for link in (feed.entries[0].link, feed.feed.image.href):
            assert fetch(link)[0] == 200, link
