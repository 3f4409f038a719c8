"""A local stand-in for the edge-tts websocket service, on 127.0.0.1.

It speaks the protocol edge-tts expects (speech.config and ssml frames in;
turn.start, binary audio frames, audio.metadata word boundaries and turn.end
out) and answers with real MP3 made by the project's own ffmpeg: a voiced
tone whose length follows the text, so clip checks see speech-like audio.
Knobs make it fail requests, stall silently or refuse the handshake, and it
records how many connections were open at once.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import subprocess
import threading
import uuid
from dataclasses import dataclass, field

import numpy as np
from aiohttp import WSMsgType, web

from podcast.audio import ffmpeg_exe

SECONDS_PER_CHAR = 0.16
LEAD = 0.05
TICKS = 10_000_000


def words_of(text: str) -> list[str]:
    """Latin words whole, Chinese in pairs of characters, punctuation dropped."""
    out = []
    for token in re.findall(r"[A-Za-z0-9]+|[\u4e00-\u9fff]+", text):
        if token[0].isascii():
            out.append(token)
        else:
            out += [token[i : i + 2] for i in range(0, len(token), 2)]
    return out


_MP3_CACHE: dict[int, bytes] = {}


def mp3_for(seconds: float, silent: bool = False) -> bytes:
    """A voiced, gently modulated tone of ``seconds`` as 24 kHz 48 kbps mono MP3 (or silence)."""
    key = round(seconds * 20) * (-1 if silent else 1)
    if key not in _MP3_CACHE:
        rate = 24000
        t = np.arange(int(abs(key) / 20 * rate)) / rate
        f0 = 180 + 30 * np.sin(2 * np.pi * 0.7 * t)
        phase = 2 * np.pi * np.cumsum(f0) / rate
        wave = sum(np.sin(k * phase) / k for k in range(1, 6))
        envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 3.1 * t) ** 2
        pcm = (0.18 * wave * envelope * (0.0 if silent else 1.0)).astype(np.float32)
        command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "f32le", "-ar", "24000",
                   "-ac", "1", "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3", "pipe:1"]
        proc = subprocess.run(command, input=pcm.tobytes(), capture_output=True, check=True)
        _MP3_CACHE[key] = proc.stdout
    return _MP3_CACHE[key]


def text_frame(request_id: str, path: str, body: str) -> str:
    return (f"X-RequestId:{request_id}\r\nContent-Type:application/json; charset=utf-8\r\n"
            f"Path:{path}\r\n\r\n{body}")


@dataclass
class FakeEdge:
    """Behaviour knobs and what the server saw."""

    fail_every: int = 0  # close every N-th request without audio (NoAudioReceived)
    fail_texts: set[str] = field(default_factory=set)  # always fail requests containing these
    stall_every: int = 0  # hold every N-th request silent until the client gives up
    silent_texts: set[str] = field(default_factory=set)  # answer these with digital silence
    forbid: bool = False  # answer the handshake with 403
    delay: float = 0.05  # seconds before answering, so concurrent requests overlap
    requests: int = 0
    texts: list[str] = field(default_factory=list)
    voices: list[str] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.forbid:
            return web.Response(status=403, text="forbidden")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        with self.lock:
            self.requests += 1
            number = self.requests
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            ssml = ""
            async for message in ws:
                if message.type == WSMsgType.TEXT and "Path:ssml" in message.data:
                    ssml = message.data
                    break
            text = html.unescape(re.search(r"<prosody[^>]*>(.*)</prosody>", ssml, re.S).group(1))
            voice = re.search(r"<voice name='([^']+)'", ssml).group(1)
            with self.lock:
                self.texts.append(text)
                self.voices.append(voice)
            await asyncio.sleep(self.delay)
            rid = uuid.uuid4().hex
            await ws.send_str(text_frame(rid, "turn.start", "{}"))
            if self.stall_every and number % self.stall_every == 0:
                await asyncio.sleep(3600)  # silent until the client's own timeout closes us
            if (self.fail_every and number % self.fail_every == 0) or any(t in text for t in self.fail_texts):
                await ws.send_str(text_frame(rid, "turn.end", "{}"))
                return ws
            words = words_of(text)
            seconds = LEAD + SECONDS_PER_CHAR * sum(len(w) for w in words) + 0.1
            header = f"X-RequestId:{rid}\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n".encode()
            audio = mp3_for(max(seconds, 0.4), silent=any(t in text for t in self.silent_texts))
            for i in range(0, len(audio), 4096):
                await ws.send_bytes(len(header).to_bytes(2, "big") + header + audio[i : i + 4096])
            offset = LEAD
            for word in words:
                duration = SECONDS_PER_CHAR * len(word)
                meta = {"Metadata": [{"Type": "WordBoundary", "Data": {
                    "Offset": round(offset * TICKS), "Duration": round(duration * TICKS),
                    "text": {"Text": word, "Length": len(word), "BoundaryType": "WordBoundary"}}}]}
                await ws.send_str(text_frame(rid, "audio.metadata", json.dumps(meta, ensure_ascii=False)))
                offset += duration
            await ws.send_str(text_frame(rid, "turn.end", "{}"))
            return ws
        finally:
            with self.lock:
                self.active -= 1
            await ws.close()

    async def voice_list(self, request: web.Request) -> web.Response:
        voices = [{"Name": f"Microsoft Server Speech Text to Speech Voice ({n})", "ShortName": n, "Gender": g,
                   "Locale": n[:5], "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3", "FriendlyName": n,
                   "Status": "GA", "VoiceTag": {}}
                  for n, g in (("zh-CN-XiaoxiaoNeural", "Female"), ("zh-CN-YunxiNeural", "Male"),
                               ("zh-CN-XiaoyiNeural", "Female"), ("en-US-AriaNeural", "Female"))]
        return web.json_response(voices)


class EdgeServer:
    """Runs a ``FakeEdge`` in a background thread; ``endpoint`` and ``voices_url`` point at it."""

    def __init__(self, fake: FakeEdge) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get("/edge/v1", self.fake.handle)
        app.router.add_get("/voices/list", self.fake.voice_list)
        # a stalled handler is cancelled at once on exit instead of holding the shutdown
        # (and the test's teardown) until the thread join gives up
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.2)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._runner = runner
        self._ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())

    def __enter__(self) -> EdgeServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def endpoint(self) -> str:
        return f"ws://127.0.0.1:{self.port}/edge/v1"

    @property
    def voices_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/voices/list"
