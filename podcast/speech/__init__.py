"""Speech engines behind one small interface, found through the plug-in registry, and a clip cache.

An engine turns one line of display text into a ``Clip``. Engines declare what
they can do (network, word timings) as attributes so callers never branch on a
name. ``synthesize_lines`` runs an engine over a script through the cache: a
clip is keyed by engine, engine revision, voice settings and the normalised
text, so a re-run, or a run after a one-line edit, only synthesizes what changed.
It also bounds concurrency per engine, checks every fresh clip (empty, too
short, silent, clipped), and takes each failing line down a fallback chain,
or the whole script to another engine when the first one is unavailable.

The engine plug-in contract
---------------------------
An engine is a class with these class attributes and methods (see ``Engine``)::

    name: str                 registry key, the [NAME] table of podcast.toml and
                              the [engines.NAME.HOST] tables of a voice preset
    revision: str             change it whenever the audio for a text would change
    needs_network: bool       capability: talks to a service
    word_timings: bool        capability: sentences are timed by the engine itself
    vocoder_ticks: bool       optional capability: its vocoder leaves short high-band clicks,
                              which mastering then suppresses (default False)
    pace: Pace                how fast it speaks, for length planning
    settings_model            optional: a pydantic model (subclass ``EngineSettings``)
                              for its podcast.toml table; validated by the config loader
    voice_model               optional: a pydantic model of one host's voice table
    __init__(lexicon, settings)   settings is an instance of settings_model (or None)
    concurrency: int          lines spoken at once (class or instance attribute)
    speech_text(text) -> str  the normalised text it is fed for display text
    synthesize(text, voice: dict) -> Clip   speak normalised text with one host's voice
    list_voices(show_all) -> list[str]      optional: lines describing its voices

Adding an engine is one module, one entry point in pyproject.toml and its voice
presets in ``voices/*.toml``::

    [project.entry-points."podcast.engines"]
    kokoro = "podcast.speech.kokoro:KokoroEngine"

or, in-process, ``podcast.plugins.register_engine(KokoroEngine)``. Failures are
``EngineError`` (this line; a fallback may take it) or ``EngineUnavailable``
(the whole engine; the run switches to the first engine of the chain that works).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .. import faults, plugins
from ..errors import ConfigError, EngineError, EngineUnavailable
from ..length import ZHTTS_PACE, Pace
from ..models import Clip, Sentence
from ..store import atomic_write_bytes, cache_root
from ..textnorm import Lexicon, without_pinyin_marks

__all__ = ["Clip", "EngineError", "EngineUnavailable", "Sentence", "atomic_write_bytes", "cache_root",
           "register_engine"]


class EngineSettings(BaseModel):
    """Base of an engine's podcast.toml table. ``fallback`` is the chain a failing line takes:
    "voice" (the host's ``fallback_voice`` of the same engine), then an engine's name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fallback: list[str] = []

    @field_validator("fallback")
    @classmethod
    def _known_steps(cls, value: list[str]) -> list[str]:
        known = plugins.engines.names()
        unknown = [v for v in value if v != "voice" and v not in known]
        if unknown:
            raise ValueError(f"unknown fallback step {unknown[0]!r} (use 'voice' and/or an engine: "
                             f"{', '.join(known)})")
        return value


class Engine(Protocol):
    """A speech backend. ``revision`` changes whenever its output for a text would."""

    name: ClassVar[str]
    revision: ClassVar[str]
    needs_network: ClassVar[bool]
    word_timings: ClassVar[bool]
    pace: ClassVar[Pace]  # how fast it speaks, for length planning

    def speech_text(self, text: str) -> str:
        """The normalised text this engine is fed for display ``text``."""
        ...

    def synthesize(self, text: str, voice: dict[str, Any]) -> Clip:
        """Speak already-normalised ``text`` with ``voice`` settings."""
        ...


EngineFactory = Callable[..., Engine]  # (lexicon, settings) -> Engine


def register_engine(factory: Any) -> Any:
    """In-process registration (``podcast.plugins.register_engine``), kept for engine modules."""
    return plugins.register_engine(factory)


def engine_class(name: str) -> Any:
    """The registered engine ``name``; ``UnknownPlugin`` (exit 2) lists the known ones."""
    return plugins.engines.get(name)


def engine_pace(name: str) -> Pace:
    """An engine's speaking pace without constructing it (the writer plans with it)."""
    return getattr(engine_class(name), "pace", ZHTTS_PACE)


def settings_for(name: str, settings: Any) -> Any:
    """Engine ``name``'s own settings from the project's ``Settings`` (or as given, or None)."""
    section = getattr(settings, "engine_settings", None)
    return section(name) if callable(section) else settings


def get_engine(name: str, lexicon: Lexicon | None = None, settings: Any = None) -> Engine:
    """Construct engine ``name``; ``lexicon`` overrides the built-in pronunciation lexicon and
    ``settings`` is the project's ``Settings`` (its ``[name]`` table goes to the engine)."""
    engine: Engine = engine_class(name)(lexicon, settings_for(name, settings))
    return engine


def check_voice(engine: Any, voice: dict[str, Any], where: Path | str) -> dict[str, Any]:
    """A host's voice table, validated by the engine's ``voice_model`` when it has one."""
    model = getattr(engine, "voice_model", None)
    if model is not None:
        try:
            model.model_validate(voice)
        except ValidationError as exc:
            err = exc.errors()[0]
            field_name = ".".join(str(p) for p in err["loc"]) or "(table)"
            raise ConfigError(where, f"engines.{engine.name}: {field_name}: {err['msg']}") from exc
    return voice


class ClipCache:
    """Content-addressed store of synthesized clips (raw float32 + JSON timings).

    The JSON names the sha256 of the samples, so a damaged entry (flipped bytes,
    NaNs, an old format) is a miss and the line is synthesized again instead of
    going into an episode: one bad float can make a whole episode 20 dB quieter.
    """

    FORMAT = 2  # entries without the sha256 of their samples are from before it was kept

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or cache_root() / "clips"

    @staticmethod
    def key(engine: Engine, voice: dict[str, Any], speech_text: str) -> str:
        blob = json.dumps([engine.name, engine.revision, voice, speech_text],
                          sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def _paths(self, key: str) -> tuple[Path, Path]:
        base = self.folder / key[:2] / key
        return base.with_suffix(".f32"), base.with_suffix(".json")

    def get(self, key: str) -> Clip | None:
        raw, meta = self._paths(key)
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
            payload = raw.read_bytes()
            if info.get("format") != self.FORMAT or hashlib.sha256(payload).hexdigest() != info.get("sha256"):
                return None  # damaged, torn by an old crash, or written before hashes were kept
            samples = np.frombuffer(payload, dtype="<f4").copy()
            clip = Clip(samples, int(info["rate"]), tuple(Sentence(**s) for s in info["sentences"]))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None  # missing or damaged: just a miss
        if samples.size != info.get("samples") or damaged_samples(samples) is not None:
            return None
        return clip

    def put(self, key: str, clip: Clip) -> None:
        """Raw little-endian float32 plus JSON; the JSON is written last and names the length
        and the hash of the samples."""
        raw, meta = self._paths(key)
        payload = np.ascontiguousarray(clip.samples, dtype="<f4").tobytes()
        atomic_write_bytes(raw, payload)
        info = {"format": self.FORMAT, "rate": clip.sample_rate, "samples": int(clip.samples.size),
                "sha256": hashlib.sha256(payload).hexdigest(),
                "sentences": [s.__dict__ for s in clip.sentences]}
        atomic_write_bytes(meta, json.dumps(info, ensure_ascii=False, allow_nan=False).encode())


def damaged_samples(samples: np.ndarray) -> str | None:
    """Why samples cannot be speech at all (not finite, or far beyond full scale), or None."""
    if not np.all(np.isfinite(samples)):
        return "samples that are not numbers"
    if samples.size and float(np.max(np.abs(samples))) > 4.0:
        return "samples far beyond full scale"
    return None


SILENT_LINE_RATE = 24000
SILENCE = "silence"  # the record of a line with nothing to say (only punctuation)


@dataclass(frozen=True)
class LineRequest:
    """One line to speak: who speaks it and the display text."""

    speaker: str
    text: str


@dataclass(frozen=True)
class LineRecord:
    """Which engine and voice spoke a line, and why when it was not the chosen one."""

    engine: str
    voice: str
    cached: bool = False
    retries: int = 0
    why: str | None = None


@dataclass(frozen=True)
class SpeechStats:
    synthesized: int
    cached: int
    audio_seconds: float
    synth_seconds: float
    retried: int = 0
    fallbacks: int = 0


@dataclass(frozen=True)
class Fallback:
    """Where a failing line goes: another voice of the same engine, then ``engine``.

    ``later`` holds the chain's further engines with their voices: when ``engine`` is
    unavailable too, the whole script moves on to the first of them that works."""

    engine: Engine | None = None
    voices: dict[str, dict[str, Any]] = field(default_factory=dict)
    other_voice: bool = True  # try the host's ``fallback_voice`` of the same engine first
    strict: bool = False  # any fallback is an error instead
    later: tuple[tuple[Engine, dict[str, dict[str, Any]]], ...] = ()

    def engines(self) -> list[tuple[Engine, dict[str, dict[str, Any]]]]:
        """Every engine of the chain, in order, with each host's voice for it."""
        first = [(self.engine, self.voices)] if self.engine is not None else []
        return [*first, *self.later]


@dataclass(frozen=True)
class Progress:
    """One finished line, for progress bars."""

    cached: bool
    retried: bool
    fallback: bool
    chars: int = 0  # characters of speech text: the work the line was, for time-left estimates


def check_clip(clip: Clip, text: str, pace: Pace) -> str | None:
    """Why a clip must not go into an episode (empty, far too short, silent, clipped), or None."""
    samples = clip.samples
    if samples.size == 0:
        return "empty clip"
    damaged = damaged_samples(samples)
    if damaged:
        return damaged
    expected = pace.seconds(without_pinyin_marks(text))  # a reading is not said on top of its word
    if expected > 1.0 and clip.duration < 0.3 * expected:
        return f"too short for its text ({clip.duration:.2f} s, expected about {expected:.1f} s)"
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms < 1e-3:
        return "silent"
    if float(np.mean(np.abs(samples) >= 0.999)) > 0.002:
        return "clipped"
    return None


def _voice_label(voice: dict[str, Any], engine: Engine) -> str:
    return str(voice.get("voice") or engine.name)


class _Run:
    """One script through one engine, with the cache, checks, retries and fallbacks."""

    def __init__(self, engine: Engine, voices: dict[str, dict[str, Any]], cache: ClipCache,
                 fallback: Fallback, on_progress: Callable[[Progress], None] | None) -> None:
        self.engine = engine
        self.voices = voices
        self.cache = cache
        self.fallback = fallback
        self.on_progress = on_progress
        self.lock = threading.Lock()
        self.spent = 0.0
        self.audio = 0.0

    def speak(self, engine: Engine, line: LineRequest, voice: dict[str, Any]) -> tuple[Clip, bool, int]:
        """(clip, cached, retries) for one line through the cache; checks every fresh clip."""
        text = engine.speech_text(line.text)
        if not text:
            # nothing speakable (a line of only punctuation): a short breath, never an engine call
            return Clip(np.zeros(SILENT_LINE_RATE // 4, np.float32), SILENT_LINE_RATE), True, 0
        key = self.cache.key(engine, voice, text)
        clip = self.cache.get(key)
        if clip is not None:
            return clip, True, 0
        retries = 0
        while True:
            t0 = time.perf_counter()
            clip = engine.synthesize(text, voice)
            problem = check_clip(clip, text, engine.pace)  # what it was asked to say, not the display
            with self.lock:
                self.spent += time.perf_counter() - t0
            if problem is None:
                break
            if retries >= 1:
                raise EngineError(f"{engine.name}: {problem}")
            retries += 1
        with self.lock:
            self.audio += clip.duration
        self.cache.put(key, clip)
        faults.reached("synthesis")
        return clip, False, retries

    def line(self, line: LineRequest) -> tuple[Clip, LineRecord]:
        voice = self.voices.get(line.speaker, {})
        if not self.engine.speech_text(line.text):
            clip, _, _ = self.speak(self.engine, line, voice)
            return clip, LineRecord(SILENCE, "-", cached=True)
        try:
            clip, cached, retries = self.speak(self.engine, line, voice)
            return clip, LineRecord(self.engine.name, _voice_label(voice, self.engine), cached,
                                    retries + clip.retries)
        except EngineUnavailable:
            raise
        except EngineError as exc:
            if self.fallback.strict:
                raise EngineError(f"line {line.text[:30]!r}: {exc} (--strict forbids a fallback)") from exc
            return self.rescue(line, voice, str(exc))

    def rescue(self, line: LineRequest, voice: dict[str, Any], why: str) -> tuple[Clip, LineRecord]:
        """The line's fallback chain: the host's other voice, then the fallback engine."""
        other = voice.get("fallback_voice")
        if self.fallback.other_voice and other:
            second = {**voice, "voice": other}
            second.pop("fallback_voice", None)
            try:
                clip, cached, _ = self.speak(self.engine, line, second)
                return clip, LineRecord(self.engine.name, str(other), cached, why=why)
            except EngineUnavailable:
                raise
            except EngineError as exc:
                why = f"{why}; {other}: {exc}"
        engine = self.fallback.engine
        if engine is None:
            raise EngineError(f"line {line.text[:30]!r}: {why}, and no fallback engine")
        backup = self.fallback.voices.get(line.speaker, {})
        clip, cached, _ = self.speak(engine, line, backup)
        return clip, LineRecord(engine.name, _voice_label(backup, engine), cached, why=why)


def synthesize_lines(
    engine: Engine,
    lines: Iterable[LineRequest],
    voices: dict[str, dict[str, Any]],
    cache: ClipCache,
    on_progress: Callable[[Progress], None] | None = None,
    fallback: Fallback | None = None,
) -> tuple[list[Clip], SpeechStats, list[LineRecord]]:
    """Speak every line through the cache, ``engine.concurrency`` lines at a time.

    Each fresh clip is checked and stored as soon as it is made, so a crashed
    run resumes from the first line that was not finished. A line that keeps
    failing takes the fallback chain; if the engine is unavailable altogether,
    the whole script is spoken by the fallback engine so that no host changes
    voice in the middle of the dialogue.
    """
    fallback = fallback or Fallback()
    requests = list(lines)
    run = _Run(engine, voices, cache, fallback, on_progress)
    workers = max(1, int(getattr(engine, "concurrency", 1)))
    results: list[tuple[Clip, LineRecord] | None] = [None] * len(requests)

    def work(i: int) -> None:
        results[i] = run.line(requests[i])
        record = results[i][1]  # type: ignore[index]
        if on_progress:
            on_progress(Progress(record.cached, record.retries > 0, record.why is not None,
                                 len(requests[i].text)))

    try:
        if workers == 1:
            for i in range(len(requests)):
                work(i)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(work, i) for i in range(len(requests))]
                try:
                    for future in as_completed(futures):
                        future.result()
                except BaseException:
                    for f in futures:
                        f.cancel()
                    raise
    except EngineUnavailable as exc:
        if fallback.strict or fallback.engine is None:
            raise
        return _switch(requests, cache, on_progress, fallback, f"{engine.name} unavailable: {exc}")
    done = [r for r in results if r is not None]
    records = [r for _, r in done]
    stats = SpeechStats(sum(not r.cached for r in records), sum(r.cached for r in records), run.audio,
                        run.spent, sum(r.retries > 0 for r in records),
                        sum(r.why is not None for r in records))
    return [c for c, _ in done], stats, records


def _switch(requests: list[LineRequest], cache: ClipCache, on_progress: Callable[[Progress], None] | None,
            fallback: Fallback, why: str) -> tuple[list[Clip], SpeechStats, list[LineRecord]]:
    """The whole script to the chain's next engine, so both hosts switch together.

    The rest of the chain stays behind it: a line failing there takes the engine after
    it, and if it is unavailable too, the run moves on again (to the first that works)."""
    (backup, voices), *rest = fallback.engines()
    if rest:
        (after, after_voices), *later = rest
        then = Fallback(engine=after, voices=after_voices, other_voice=fallback.other_voice,
                        later=tuple(later))
    else:
        then = Fallback(strict=True)
    clips, stats, records = synthesize_lines(backup, requests, voices, cache, on_progress, then)
    return clips, stats, [LineRecord(r.engine, r.voice, r.cached, r.retries,
                                     why if r.why is None else f"{why}; {r.why}") for r in records]
