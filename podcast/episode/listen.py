"""Listen back: hear a sample of the spoken lines, speak the ones that went wrong again, report the rest.

A recogniser costs about 0.3 CPU-s per audio second (Whisper-base, measured), so
hearing every line would cost twice the issue's budget of 0.15x real time. The
sample is chosen where synthesis goes wrong, then by chance:

1. always: lines whose ending was cut off, and lines the run loop retried or
   took down a fallback chain (the engine already struggled with them);
2. then lines with Latin letters or digits (names, versions, figures: where the
   text normaliser and the engine disagree most often);
3. then the rest in an order shuffled by the date (reproducible for a day,
   different between days, so every kind of line is heard over a week),

until the recogniser's estimated CPU time reaches ``[listen] budget`` times the
programme length. The estimate starts from the recogniser's declared
``cpu_per_second`` and follows the measured rate after the first line.

A line above the threshold is spoken again, first in shorter pieces (cut at
every clause mark), then with the host's other voice of the same engine, each
heard again; the first that passes is kept, else the best one and a report.
The recogniser is a plug-in (``podcast.recognisers``): anything with
``transcribe(samples, sample_rate) -> str``.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .. import plugins
from ..errors import ListenFailed
from ..listen.asr import LineCheck, cer, prompt_echo, spoken_han
from ..models import Clip, HostListening, ListenSummary, WorstLine

DEFAULT_THRESHOLD = 0.5  # for an engine that declares no ``asr_threshold``
DEFAULT_COST = 0.35  # CPU-s per audio second for a recogniser that declares no ``cpu_per_second``
WORST = 5  # lines listed in episode.json and by ``podcast check``
_LATIN = re.compile(r"[A-Za-z0-9]")
_CLAUSE = re.compile(r"(?<=[，；：。！？、,;:!?])")


class Recogniser(Protocol):
    def transcribe(self, samples: np.ndarray, sample_rate: int) -> str: ...


def recogniser_missing(name: str) -> str | None:
    """Why recogniser ``name`` cannot run here (one line), or None."""
    factory = plugins.recognisers.get(name)
    check = getattr(factory, "missing", None)
    return check() if callable(check) else None


def make_recogniser(name: str) -> Recogniser:
    """The registered recogniser ``name``, constructed with its defaults."""
    recogniser: Recogniser = plugins.recognisers.get(name)()
    return recogniser


def threshold_for(engine: Any, configured: float | None) -> float | None:
    """The CER above which a line fails: configured, else the engine's ``asr_threshold`` capability.

    An engine whose audio a recogniser cannot judge (a test tone) declares ``asr_threshold = None``.
    """
    if configured is not None:
        return configured
    return getattr(engine, "asr_threshold", DEFAULT_THRESHOLD)


def clause_pieces(text: str) -> list[str]:
    """``text`` cut after every clause mark: the shortest pieces an engine still speaks naturally."""
    return [p for p in _CLAUSE.split(text) if p.strip()]


@dataclass(frozen=True)
class HeardLine:
    """One line of the programme as the stage sees it."""

    segment: str
    index: int
    speaker: str
    text: str
    clip: Clip  # unmastered: levelling does not change what is heard
    profile: Any  # the speaking engine's speech profile, for numbers in spoken form
    threshold: float
    must: str | None = None  # why it is always heard ("cut-off", "retried"), else None


@dataclass
class LineResult:
    check: LineCheck
    repair: str | None = None  # "split" or "voice" when a new take replaced the line


@dataclass
class Listening:
    """What the stage heard, before the episode's times are known."""

    recogniser: str
    threshold: float
    budget: float
    results: dict[int, LineResult] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    resynthesized: int = 0

    @property
    def failed(self) -> list[int]:
        return [i for i, r in self.results.items() if not r.check.ok]


def order(lines: Sequence[HeardLine], seed: str) -> list[int]:
    """Indices in the order they are heard: must-hear, then Latin/digits, then a date-seeded shuffle."""
    must = [i for i, line in enumerate(lines) if line.must]
    latin = [i for i, line in enumerate(lines) if not line.must and _LATIN.search(line.text)]
    rest = [i for i, line in enumerate(lines) if not line.must and not _LATIN.search(line.text)]
    random.Random(f"listen:{seed}").shuffle(rest)
    return must + latin + rest


class Listener:
    """Hears lines within a CPU budget and repairs failing ones through ``respeak``."""

    def __init__(self, recogniser: Recogniser, name: str, threshold: float, budget: float,
                 respeak: Callable[[int, str], Clip | None],
                 repairs: Sequence[str] = ("split", "voice")) -> None:
        self.recogniser = recogniser
        self.respeak = respeak
        self.repairs = tuple(repairs)
        self.cost = float(getattr(recogniser, "cpu_per_second", DEFAULT_COST))
        self.heard_audio = 0.0
        self.listening = Listening(name, threshold, budget)

    def hear(self, line: HeardLine, clip: Clip) -> LineCheck:
        t0 = time.process_time()
        heard = self.recogniser.transcribe(clip.samples, clip.sample_rate)
        self.listening.cpu_seconds += time.process_time() - t0
        self.heard_audio += clip.duration
        rate = cer(line.text, heard, line.profile)
        echo = prompt_echo(heard) and not prompt_echo(line.text)
        return LineCheck(spoken_han(line.text, line.profile), heard, rate, echo,
                         ok=rate <= line.threshold and not echo)

    def rate(self) -> float:
        """CPU-s per audio second: declared until something was heard, then measured."""
        if self.heard_audio > 5.0:
            return self.listening.cpu_seconds / self.heard_audio
        return self.cost

    def run(self, lines: Sequence[HeardLine], seed: str, programme_seconds: float,
            replace: Callable[[int, Clip, str], None]) -> Listening:
        """Hear lines in ``order`` until the budget is spent; ``replace`` takes a repaired take."""
        allowed = self.listening.budget * programme_seconds
        for i in order(lines, seed):
            line = lines[i]
            if not spoken_han(line.text, line.profile):
                continue  # nothing a listener could mishear
            if not line.must and self.listening.cpu_seconds + self.rate() * line.clip.duration > allowed:
                continue  # a shorter line further on may still fit
            result = LineResult(self.hear(line, line.clip))
            for repair in self.repairs if not result.check.ok else ():
                take = self.respeak(i, repair)
                if take is None:
                    continue
                self.listening.resynthesized += 1
                again = self.hear(line, take)
                if again.ok or again.cer < result.check.cer:
                    result = LineResult(again, repair)
                    replace(i, take, repair)
                if again.ok:
                    break
            self.listening.results[i] = result
        return self.listening


def summarise(listening: Listening, lines: Sequence[HeardLine], spans: Sequence[tuple[float, float]],
              programme_seconds: float) -> ListenSummary:
    """episode.json's ``listening``: per host CER, the worst lines with their times, and the cost."""
    hosts: dict[str, HostListening] = {}
    for speaker in dict.fromkeys(line.speaker for line in lines):
        rates = [r.check.cer for i, r in listening.results.items() if lines[i].speaker == speaker]
        hosts[speaker] = HostListening(
            checked=len(rates),
            failed=sum(not r.check.ok for i, r in listening.results.items() if lines[i].speaker == speaker),
            median_cer=round(statistics.median(rates), 3) if rates else None,
            mean_cer=round(statistics.fmean(rates), 3) if rates else None)
    worst = sorted(listening.results.items(), key=lambda item: -item[1].check.cer)[:WORST]
    return ListenSummary(
        recogniser=listening.recogniser, threshold=listening.threshold, budget=listening.budget,
        lines_checked=len(listening.results), lines_failed=len(listening.failed),
        resynthesized=listening.resynthesized,
        repaired=sum(r.repair is not None and r.check.ok for r in listening.results.values()),
        cpu_seconds=round(listening.cpu_seconds, 2),
        realtime_factor=round(listening.cpu_seconds / programme_seconds, 3) if programme_seconds else 0.0,
        hosts=hosts,
        worst=[WorstLine(segment=lines[i].segment, line=lines[i].index, speaker=lines[i].speaker,
                         start=round(spans[i][0], 2), end=round(spans[i][1], 2), cer=round(r.check.cer, 3),
                         text=lines[i].text, heard=r.check.heard) for i, r in worst if r.check.cer > 0])


def refuse(listening: Listening, lines: Sequence[HeardLine]) -> None:
    """``--strict``: a line still above the threshold stops the episode before anything is written."""
    failed = listening.failed
    if failed:
        first = lines[failed[0]]
        check = listening.results[failed[0]].check
        raise ListenFailed(
            f"{len(failed)} line(s) still unintelligible after speaking them again (--strict); first: "
            f"{first.segment} line {first.index + 1} {first.text[:24]!r} heard as {check.heard[:24]!r} "
            f"(CER {check.cer:.2f} > {first.threshold})")


@dataclass(frozen=True)
class DayCheck:
    """``podcast check DATE``: every spoken line of a built day heard again from its MP3."""

    lines: list[HeardLine]
    listening: Listening
    summary: ListenSummary


def decode(path: Any, rate: int = 16_000) -> np.ndarray:
    """The MP3 as mono float32 at ``rate`` (what a listener's player decodes)."""
    import subprocess

    from ..audio import ffmpeg_exe
    from ..errors import AudioError

    done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), "-f", "f32le",
                           "-ac", "1", "-ar", str(rate), "-"], capture_output=True)
    if done.returncode:
        raise AudioError(f"ffmpeg could not decode {path}: {done.stderr.decode(errors='replace')[-200:]}")
    return np.frombuffer(done.stdout, dtype="<f4").copy()


def recheck_day(project: Any, day: Any) -> DayCheck:
    """Hear every line of a built day again, cut from the episode's MP3 by the line times it recorded.

    Nothing is spoken again or written: this is the producer listening to what went out.
    """
    from ..errors import UsageError
    from ..models import Episode
    from ..speech import get_engine
    from ..writer import load_script

    folder = project.layout.episode(day)
    episode = Episode.read(project.layout.manifest(day))
    script = load_script(folder / "script.yaml")
    spoken = episode.speech.lines if episode.speech else []
    if not spoken or spoken[0].start is None:
        raise UsageError(f"{day}: episode.json has no line times (built before listening); build it again")
    engines: dict[str, Any] = {}
    for line in spoken:
        if line.engine not in engines:
            try:
                engines[line.engine] = get_engine(line.engine, project.lexicon(), project.settings)
            except Exception:  # an engine renamed or removed since: judge with defaults
                engines[line.engine] = None
    settings = project.settings.listen
    rate = 16_000
    audio = decode(folder / episode.audio, rate)
    texts = {(seg.id, i): line.text for seg in script.segments for i, line in enumerate(seg.lines)}
    lines = []
    for line in spoken:
        engine = engines[line.engine]
        threshold = threshold_for(engine, settings.threshold) or DEFAULT_THRESHOLD
        a, b = int((line.start or 0) * rate), int((line.end or 0) * rate)
        text = texts.get((line.segment, line.line), "")
        lines.append(HeardLine(line.segment, line.line, line.speaker, text, Clip(audio[a:b], rate),
                               getattr(engine, "profile", None), threshold))
    main = engines.get(episode.engine)
    listener = Listener(make_recogniser(settings.recogniser), settings.recogniser,
                        threshold_for(main, settings.threshold) or DEFAULT_THRESHOLD, float("inf"),
                        lambda _i, _how: None, ())
    listening = listener.run(lines, str(day), episode.duration, lambda _i, _c, _h: None)
    times = [(line.start or 0.0, line.end or 0.0) for line in spoken]
    return DayCheck(lines, listening, summarise(listening, lines, times, episode.duration))


def format_summary(summary: ListenSummary, names: dict[str, str] | None = None) -> list[str]:
    """Lines for the terminal: per host CER, the cost, the worst lines with their times."""
    out = [f"heard    {summary.lines_checked} lines, {summary.lines_failed} above CER {summary.threshold}"
           f" ({summary.recogniser}); {summary.resynthesized} spoken again, {summary.repaired} repaired; "
           f"{summary.cpu_seconds} CPU-s, {summary.realtime_factor}x real time"]
    for host, h in summary.hosts.items():
        out.append(f"         {(names or {}).get(host, host)}: {h.checked} checked, {h.failed} failed, "
                   f"CER median {h.median_cer} mean {h.mean_cer}")
    for w in summary.worst:
        minutes, seconds = divmod(w.start, 60)
        out.append(f"  {int(minutes):02d}:{seconds:05.2f}  CER {w.cer:.2f}  {w.segment}#{w.line + 1} "
                   f"{w.speaker}: {w.text[:30]}  | heard: {w.heard[:30]}")
    return out
