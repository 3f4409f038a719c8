"""The stages wired together: write -> speak -> publish, and ``build`` = all three.

Each stage reads its input from disk and leaves its output on disk, so a user can
stop after any stage, edit the script, and go on. File I/O stays here and in the
stage modules' small read/write helpers; the CLI only parses arguments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import audio as audio_mod
from . import episode as ep
from . import faults, site, visuals
from .config import Settings, VoicePreset, load_lexicon, load_settings, load_voices
from .cover import generate_cover, load_cover
from .digest import read_digest, render_digest
from .errors import ConfigError, PodcastError
from .feed import publish_feed, read_manifests
from .hfapi import ApiPaper, Fetcher, NoPapersError
from .length import LENGTH_PRESETS, LengthPlan
from .llm import LLM, LLMConfig, LLMUnavailable, estimate_tokens
from .locks import day_lock, feed_lock
from .models import Digest, Host, Script
from .phrases import load_phrases
from .report import SegmentReport, segment_reports
from .speech import (
    ClipCache,
    Engine,
    Fallback,
    LineRecord,
    LineRequest,
    SpeechStats,
    atomic_write_bytes,
    cached_artifact,
    engine_pace,
    get_engine,
    synthesize_lines,
)
from .translate import build_digest, translate
from .writer import WriterOptions, dump_script, get_writer, load_script, script_path

ProgressFactory = Callable[[int], Callable[[bool], None]]
PAGE = "index.html"  # the episode's web page inside its folder
PICTURES = 1  # bump when pictures or the cover are drawn differently, to refresh their cache


@dataclass(frozen=True)
class Project:
    """A project root (where scripts/, episodes/ and feed/ live) and its settings."""

    root: Path
    settings: Settings
    voices: VoicePreset

    @property
    def hosts(self) -> list[Host]:
        """The hosts a new script gets: the preset's first one or two ([script] hosts)."""
        return self.voices.hosts[: self.settings.script.hosts]

    @classmethod
    def open(cls, root: Path, voices: str | None = None) -> Project:
        settings = load_settings(root)
        return cls(root, settings, load_voices(root, voices or settings.voices))

    def with_length(self, preset: str | None) -> Project:
        """The project with a length preset (short, default, long) applied to minutes per paper."""
        minutes = LENGTH_PRESETS.get(preset or "default")
        if minutes is None:
            return self
        script = self.settings.script.model_copy(update={"minutes_per_paper": minutes})
        return dataclasses.replace(self, settings=self.settings.model_copy(update={"script": script}))


@dataclass(frozen=True)
class SpeakResult:
    folder: Path
    manifest: dict[str, Any]
    stats: SpeechStats
    host_f0: dict[str, float] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for benchmarks


def length_plan(project: Project, engine_name: str | None = None) -> LengthPlan:
    """Budgets from the settings, timed with the pace of the engine that will speak."""
    s = project.settings
    return LengthPlan(pace=engine_pace(engine_name or s.engine), minutes_per_paper=s.script.minutes_per_paper,
                      max_minutes=s.script.max_minutes, turn_pause=s.audio.turn_pause)


def make_llm(project: Project) -> LLM:
    """The configured chat model; ``LLMUnavailable`` says what is missing."""
    return LLM(LLMConfig.resolve(project.settings.llm))


def writer_options(project: Project, writer_name: str, strict: bool = False,
                   warn: Callable[[str], None] = lambda _m: None) -> WriterOptions:
    llm: LLM | LLMUnavailable | None = None
    if writer_name == "llm":
        try:
            llm = make_llm(project)
        except LLMUnavailable as exc:
            llm = exc
    return WriterOptions(llm=llm, strict=strict, warn=warn, phrases=load_phrases(project.root))


def write_script(project: Project, digest: Digest) -> Script:
    """The script the configured writer makes for ``digest``, in memory (for report and lint)."""
    writer = get_writer(project.settings.writer, writer_options(project, project.settings.writer))
    return writer.write(digest, project.hosts, project.settings.show.title, length_plan(project))


def write(project: Project, digest: Digest, writer_name: str | None = None,
          engine_name: str | None = None, strict: bool = False,
          warn: Callable[[str], None] = lambda _m: None) -> tuple[Script, Path]:
    """Digest -> scripts/DATE.yaml."""
    name = writer_name or project.settings.writer
    writer = get_writer(name, writer_options(project, name, strict, warn))
    hosts = project.hosts
    with day_lock(project.root, digest.date.isoformat()):
        script = writer.write(digest, hosts, project.settings.show.title, length_plan(project, engine_name))
        path = script_path(project.root, script.date)
        atomic_write_bytes(path, dump_script(script).encode("utf-8"))
    return script, path


def cover_bytes(project: Project) -> tuple[bytes, str]:
    cfg = project.settings.show.cover
    if cfg:
        path = Path(cfg) if Path(cfg).is_absolute() else project.root / cfg
        if not path.exists():
            raise ConfigError(project.root / "podcast.toml", f"show.cover: {path} does not exist")
        return load_cover(path)
    title = project.settings.show.title
    return cached_artifact("cover", [PICTURES, title], lambda: generate_cover(title)), "jpg"


class _Clock:
    """Accumulates wall time per named step."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now


def speech_fallback(project: Project, engine: Engine, hosts: Sequence[str], strict: bool) -> Fallback:
    """The fallback chain of ``[edge] fallback`` for a network engine; none for the offline one."""
    steps = project.settings.edge.fallback if engine.needs_network else []
    backup = None
    voices: dict[str, dict[str, Any]] = {}
    if "offline" in steps:
        backup = get_engine("offline", load_lexicon(project.root), project.settings)
        voices = {h: project.voices.voice(backup.name, h) for h in hosts}
    return Fallback(engine=backup, voices=voices, other_voice="voice" in steps, strict=strict)


def speak(project: Project, script: Script, engine_name: str | None = None,
          progress: ProgressFactory | None = None, source_digest: Path | None = None,
          strict: bool = False) -> SpeakResult:
    """Script -> episodes/DATE/ (MP3, transcripts, chapters, notes, episode.json)."""
    with day_lock(project.root, script.date.isoformat()):
        return _speak(project, script, engine_name, progress, source_digest, strict)


def _speak(project: Project, script: Script, engine_name: str | None,
           progress: ProgressFactory | None, source_digest: Path | None, strict: bool) -> SpeakResult:
    settings = project.settings
    engine = get_engine(engine_name or settings.engine, load_lexicon(project.root), settings)
    voices = {h.id: project.voices.voice(engine.name, h.id) for h in script.hosts}
    requests = [LineRequest(line.speaker, line.text) for seg in script.segments for line in seg.lines]
    tick = progress(len(requests)) if progress else None
    fallback = speech_fallback(project, engine, [h.id for h in script.hosts], strict)
    clock = _Clock()
    clips, stats, records = synthesize_lines(engine, requests, voices, ClipCache(), tick, fallback)
    clock.lap("synthesis")
    spoke = {engine.name: engine, **({fallback.engine.name: fallback.engine} if fallback.engine else {})}

    cue_texts = []
    for req, clip, record in zip(requests, clips, records, strict=True):
        sentences = ep.display_sentences(req.text)
        speaker = spoke.get(record.engine, engine)
        display = [(s, len(speaker.speech_text(s))) for s in sentences]
        spans = [(len(s.text), s.start, s.end) for s in clip.sentences]
        cue_texts.append(ep.align_sentences(display, spans))
    timeline = audio_mod.assemble(script, clips, cue_texts, settings.audio.turn_pause,
                                  settings.audio.segment_pause)
    del clips  # the timeline holds the audio now; the clips would double the memory of a long day
    clock.lap("assemble")
    mastered = audio_mod.master(timeline.samples, timeline.sample_rate, settings.audio.loudness,
                                settings.audio.true_peak)
    clock.lap("master")
    host_f0 = {}
    rate = timeline.sample_rate
    for host in script.hosts:
        mine = [timeline.samples[int(a * rate) : int(b * rate)]
                for speaker, a, b in timeline.line_spans if speaker == host.id]
        if mine:
            host_f0[host.name] = round(audio_mod.median_f0(np.concatenate(mine), rate), 1)

    episodes = project.root / "episodes"
    ep.recover(episodes, script.date)
    final = episodes / script.date.isoformat()
    previous = final / ep.MANIFEST
    guid = ep.episode_guid(settings.show.slug, script.date)
    if previous.exists():
        guid = ep.Manifest.read(previous).data.get("guid", guid)  # GUIDs never change
    stage = ep.staging_dir(episodes, script.date)
    try:
        digest = _day_digest(project, script.date, source_digest)
        manifest = _write_episode(project, script, stage, timeline, mastered, guid, engine, clock,
                                  host_f0, stats, source_digest, digest, records)
        ep.swap_in(stage, final)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    clock.lap("files")
    return SpeakResult(final, manifest, stats, host_f0, clock.laps)


def encoded_mp3(mastered: audio_mod.Mastered, bitrate: int, out_rate: int) -> bytes:
    """The MP3 of the mastered programme; identical audio is not encoded twice."""
    import hashlib
    import tempfile

    samples = np.ascontiguousarray(mastered.samples, dtype="<f4")
    pcm = hashlib.sha256(memoryview(samples).cast("B")).hexdigest()

    def encode() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "episode.mp3"
            audio_mod.encode_mp3(mastered.samples, mastered.sample_rate, path, bitrate, out_rate)
            return path.read_bytes()

    return cached_artifact("mp3", [pcm, mastered.sample_rate, bitrate, out_rate], encode)


def _day_digest(project: Project, day: dt.date, given: Path | None) -> Digest | None:
    """The digest behind an episode, for its digest page and keyword cloud, if we can find it."""
    for path in (given, digest_path(project, day), project.root / "episodes" / day.isoformat() / "source.md"):
        if path is not None and path.exists():
            try:
                digest = read_digest(path)
            except PodcastError:
                continue
            if digest.date == day:
                return digest
    return None


def _write_episode(project: Project, script: Script, stage: Path, timeline: audio_mod.Timeline,
                   mastered: audio_mod.Mastered, guid: str, engine: Engine, clock: _Clock,
                   host_f0: dict[str, float],
                   stats: SpeechStats, source_digest: Path | None, digest: Digest | None,
                   records: Sequence[LineRecord]) -> dict[str, Any]:
    show = project.settings.show
    name = ep.audio_name(show.slug, script.date)
    mp3 = stage / name
    clock.lap("files")
    atomic_write_bytes(mp3, encoded_mp3(mastered, project.settings.audio.bitrate,
                                        project.settings.audio.sample_rate))
    clock.lap("encode")
    faults.reached("encoding")
    cover, ext = cover_bytes(project)
    desc = ep.description(script)
    audio_mod.write_id3(mp3, audio_mod.Tags(
        title=script.title, artist=show.author, album=show.title, date=script.date,
        comment=desc, cover=cover, cover_mime="image/png" if ext == "png" else "image/jpeg"),
        timeline.chapters)
    duration = audio_mod.mp3_duration(mp3)
    ep.write_text(stage / "transcript.vtt", ep.to_vtt(timeline.cues))
    ep.write_text(stage / "transcript.srt", ep.to_srt(timeline.cues))
    ep.write_json(stage / "chapters.json", ep.chapters_json(timeline.chapters))
    papers = []
    for seg in script.segments:
        if seg.paper:
            papers.append({"rank": seg.paper.rank, "title_zh": seg.paper.title_zh or seg.title,
                           "title_en": seg.paper.title_en,
                           "hf_url": seg.paper.hf_url, "arxiv_url": seg.paper.arxiv_url})
    # this day's pictures and digest, kept with the episode so old digests keep their own
    pictures = {"trend": "trend.png"}
    earlier = [m.data for m in read_manifests(project.root / "episodes")]
    days = visuals.recent_days(earlier, script.date, script.paper_count)
    atomic_write_bytes(stage / "trend.png", cached_artifact(
        "trend", [PICTURES, [(d.isoformat(), n) for d, n in days]], lambda: visuals.trend_chart(days)))
    if digest is not None:
        pictures["wordcloud"] = "wordcloud.png"
        text = [(p.title_zh, p.abstract_zh) for p in digest.papers]
        atomic_write_bytes(stage / "wordcloud.png", cached_artifact(
            "wordcloud", [PICTURES, text], lambda: visuals.word_cloud(digest)))
        markdown, html = site.digest_files(show, digest, name, pictures)
        ep.write_text(stage / "digest.md", markdown)
        ep.write_text(stage / "digest.html", html)
    hosts = "、".join(h.name for h in script.hosts)
    ep.write_text(stage / PAGE, site.episode_page(
        show, script.title, script.date, duration, desc, name, hosts, timeline.chapters, timeline.cues,
        papers, digest is not None, pictures))
    ep.write_text(stage / "script.yaml", dump_script(script))
    if source_digest is not None:
        ep.write_text(stage / "source.md", source_digest.read_text(encoding="utf-8-sig"))
    manifest = {
        "date": script.date.isoformat(),
        "title": script.title,
        "description": desc,
        "guid": guid,
        "audio": name,
        "bytes": mp3.stat().st_size,
        "duration": round(duration, 3),
        "chapters": [{"start": c.start, "title": c.title, **({"url": c.url} if c.url else {})}
                     for c in timeline.chapters],
        "papers": script.paper_count,
        "engine": engine.name,
        "writer": script.writer,
        "hosts": [{"id": h.id, "name": h.name, "median_f0_hz": host_f0.get(h.name)} for h in script.hosts],
        "loudness_lufs": round(mastered.loudness, 2),
        "true_peak_dbtp": round(mastered.true_peak, 2),
        "lines": stats.synthesized + stats.cached,
        "speech": speech_record(script, records),
        "segments": segment_minutes(script, timeline, length_plan(project, engine.name)),
        "transcripts": {"vtt": "transcript.vtt", "srt": "transcript.srt"},
        "chapters_file": "chapters.json",
        "page": PAGE,
        "pictures": pictures,
        **({"digest": "digest.md"} if digest is not None else {}),
    }
    ep.write_json(stage / ep.MANIFEST, manifest)
    return manifest


def speech_record(script: Script, records: Sequence[LineRecord]) -> dict[str, Any]:
    """Which engine and voice spoke each line, and why a line was not spoken as planned."""
    where = [(seg.id, i, line.speaker) for seg in script.segments for i, line in enumerate(seg.lines)]
    lines = []
    for (segment, index, speaker), r in zip(where, records, strict=True):
        row: dict[str, Any] = {"segment": segment, "line": index, "speaker": speaker, "engine": r.engine,
                               "voice": r.voice}
        if r.retries:
            row["retries"] = r.retries
        if r.why:
            row["why"] = r.why
        lines.append(row)
    return {"engines": dict(Counter(r.engine for r in records)),
            "fallbacks": sum(r.why is not None for r in records), "lines": lines}


def segment_minutes(script: Script, timeline: audio_mod.Timeline, plan: LengthPlan) -> list[dict[str, Any]]:
    """Budget, planned (estimated from the text) and measured minutes per segment."""
    rows = []
    for seg, chapter in zip(script.segments, timeline.chapters, strict=True):
        rows.append({
            "id": seg.id,
            "budget_minutes": round(seg.budget_seconds / 60, 2) if seg.budget_seconds is not None else None,
            "planned_minutes": round(plan.lines_seconds([line.text for line in seg.lines]) / 60, 2),
            "actual_minutes": round((chapter.end - chapter.start) / 60, 2),
        })
    return rows


def voice_listing(project: Project, engine_name: str, show_all: bool = False) -> list[str]:
    """Lines describing an engine's voices (online list when it has one) and the preset's choice."""
    import asyncio

    engine = get_engine(engine_name, load_lexicon(project.root), project.settings)
    out = []
    if engine.name == "edge":
        from .speech.edge import list_voices

        try:
            found = asyncio.run(list_voices(engine.voices_url))  # type: ignore[attr-defined]
        except Exception as exc:
            out.append(f"cannot reach the edge voice list ({type(exc).__name__}: {str(exc)[:120]}); "
                       "showing the voices of the preset only")
        else:
            chosen = [v for v in found if show_all or str(v.get("Locale", "")).startswith("zh-")]
            scope = "" if show_all else " for Chinese (--all for every language)"
            out.append(f"{len(chosen)} voices{scope}")
            for v in sorted(chosen, key=lambda v: v.get("ShortName", "")):
                out.append(f"  {v.get('ShortName', '?'):<34} {v.get('Gender', ''):<7} {v.get('Locale', '')}")
    else:
        out.append(f"{engine.name}: one embedded voice; hosts differ by the preset's settings")
    out.append(f"preset {project.settings.voices!r}:")
    for host in project.voices.hosts:
        settings = project.voices.voice(engine.name, host.id)
        shown = ", ".join(f"{k}={v}" for k, v in settings.items()) or "(defaults)"
        out.append(f"  {host.id} {host.name}: {shown}")
    return out


def say(project: Project, engine: Engine, fed: str, host_id: str, path: Path) -> None:
    """Speak already-normalised text with one host's voice into a WAV or MP3 file."""
    clip = engine.synthesize(fed, project.voices.voice(engine.name, host_id))
    audio = project.settings.audio
    mastered = audio_mod.master(clip.samples, clip.sample_rate, audio.loudness, audio.true_peak)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".mp3":
        audio_mod.export_clip_mp3(mastered.samples, mastered.sample_rate, path, audio.bitrate,
                                  audio.sample_rate)
    else:
        import io

        from scipy.io import wavfile

        buf = io.BytesIO()
        wavfile.write(buf, mastered.sample_rate, (np.clip(mastered.samples, -1, 1) * 32767).astype(np.int16))
        atomic_write_bytes(path, buf.getvalue())


def report(project: Project, target: str) -> list[SegmentReport]:
    """Metrics for a digest (scripted in memory), a script path, or a date."""
    digest: Digest | None = None
    if target.endswith(".md"):
        digest = read_digest(Path(target))
        writer = get_writer(project.settings.writer)
        hosts = project.hosts
        script = writer.write(digest, hosts, project.settings.show.title, length_plan(project))
    else:
        script = load_script(resolve_script(project, target))
    folder = project.root / "episodes" / script.date.isoformat()
    if digest is None and (folder / "source.md").exists():
        digest = read_digest(folder / "source.md")
    actual = None
    if (folder / ep.MANIFEST).exists():
        rows = ep.Manifest.read(folder / ep.MANIFEST).data.get("segments", [])
        actual = {r["id"]: r["actual_minutes"] * 60 for r in rows}
    return segment_reports(script, digest, length_plan(project), actual)


def publish(project: Project) -> Path:
    """episodes/*/episode.json -> feed/feed.xml, the cover and the show page feed/index.html."""
    show = project.settings.show
    cover = cover_bytes(project)
    with feed_lock(project.root):
        path = publish_feed(project.root, show, cover)
        page = site.show_page(show, read_manifests(project.root / "episodes"), f"cover.{cover[1]}")
        atomic_write_bytes(project.root / "feed" / "index.html", page.encode("utf-8"))
        site.write_site_font(project.root)
    return path


@dataclass(frozen=True)
class BuildResult:
    digest: Digest
    script_path: Path
    speak: SpeakResult
    feed: Path


@dataclass(frozen=True)
class Estimate:
    """What a run would spend, printed by ``--dry-run`` before anything is spent."""

    papers: int
    source_chars: int  # English titles and abstracts to translate (0 for a ready digest)
    translate_tokens: int
    script_chars: int
    write_tokens: int  # 0 for the template writer
    llm_calls: int
    minutes: float

    def lines(self) -> list[str]:
        return [f"papers        {self.papers}",
                f"translation   {self.source_chars:,} characters in, ~{self.translate_tokens:,} tokens",
                f"script        ~{self.script_chars:,} characters, ~{self.write_tokens:,} LLM tokens",
                f"LLM requests  ~{self.llm_calls} (before any repairs)",
                f"audio         ~{self.minutes:.1f} minutes"]


def estimate(project: Project, digest: Digest | None, api_papers: list[ApiPaper] | None = None,
             writer_name: str | None = None, engine_name: str | None = None) -> Estimate:
    """Estimate characters, tokens and minutes from the digest (or the API list) alone."""
    plan = length_plan(project, engine_name)
    count = len(digest.papers) if digest else len(api_papers or [])
    source = "".join(p.title + p.summary for p in api_papers or [])
    batch = project.settings.llm.batch
    translate_calls = -(-len(api_papers or []) // batch)
    translate_tokens = round(estimate_tokens(source) * 1.9) + 600 * translate_calls if source else 0
    seconds = sum(plan.budgets(count)) + 60
    if digest is not None and (writer_name or project.settings.writer) == "template":
        hosts = project.hosts
        script = get_writer("template").write(digest, hosts, project.settings.show.title, plan)
        seconds = sum(plan.lines_seconds([ln.text for ln in seg.lines]) for seg in script.segments)
    script_chars = round(seconds / plan.pace.han)
    write_tokens = calls = 0
    if (writer_name or project.settings.writer) == "llm":
        calls = count + 2
        # per request: ~900 tokens of instructions and ~120 of carried conversation, plus the
        # paper's Chinese abstract (about 0.9x the English tokens) in and the dialogue out
        abstracts = (estimate_tokens("".join(p.abstract_zh for p in digest.papers)) if digest
                     else round(estimate_tokens(source) * 0.9))
        write_tokens = calls * (900 + 120) + abstracts + round(script_chars / 1.5)
    return Estimate(count, len(source), translate_tokens, script_chars, write_tokens, calls + translate_calls,
                    round(seconds / 60, 1))


def digest_path(project: Project, day: dt.date) -> Path:
    """Where a fetched and translated day's digest is kept, beside its script."""
    return project.root / "scripts" / f"{day.isoformat()}_daily_paper.md"


def fetch(project: Project, day: dt.date, refresh: bool = False,
          warn: Callable[[str], None] = lambda _m: None, fetcher: Fetcher | None = None) -> Path:
    """HF API -> translated digest Markdown at scripts/DATE_daily_paper.md."""
    papers = (fetcher or Fetcher()).fetch(day, refresh)
    try:
        llm = make_llm(project)
    except LLMUnavailable as exc:
        raise ConfigError(project.root / "podcast.toml", f"[llm]: translation needs a model: {exc}") from exc
    translated = translate(llm, papers, warn)
    digest = build_digest(day, papers, translated)
    path = digest_path(project, day)
    atomic_write_bytes(path, render_digest(day, list(digest.papers), list(digest.hot_topics)).encode())
    return path


def build(project: Project, digest_path: Path, engine: str | None = None, writer: str | None = None,
          progress: ProgressFactory | None = None, strict: bool = False,
          warn: Callable[[str], None] = lambda _m: None) -> BuildResult:
    """Digest -> script -> episode -> feed. ``strict`` forbids every fallback (writer and speech)."""
    digest = read_digest(digest_path)
    with day_lock(project.root, digest.date.isoformat()):
        return _build(project, digest, digest_path, engine, writer, progress, strict, warn)


def _build(project: Project, digest: Digest, digest_path: Path, engine: str | None, writer: str | None,
           progress: ProgressFactory | None, strict: bool, warn: Callable[[str], None]) -> BuildResult:
    _, path = write(project, digest, writer, engine, strict, warn)
    spoken = speak(project, load_script(path), engine, progress, source_digest=digest_path, strict=strict)
    return BuildResult(digest, path, spoken, publish(project))


@dataclass(frozen=True)
class DayResult:
    """One day of a backfill: built, skipped (weekend, no papers) or failed, and why."""

    day: dt.date
    status: str
    detail: str


def backfill(project: Project, start: dt.date, end: dt.date, engine: str | None = None,
             writer: str | None = None, strict: bool = False,
             warn: Callable[[str], None] = lambda _m: None,
             on_day: Callable[[DayResult], None] = lambda _r: None) -> list[DayResult]:
    """Build every weekday from ``start`` to ``end``; a failing day is reported, not fatal.

    A day whose digest is already in scripts/ is not fetched or translated again.
    """
    results = []
    day = start
    while day <= end:
        if day.weekday() >= 5:
            result = DayResult(day, "skipped", "weekend")
        else:
            try:
                source = digest_path(project, day)
                if not source.exists():
                    source = fetch(project, day, warn=warn)
                built = build(project, source, engine, writer, None, strict, warn)
                m = built.speak.manifest
                result = DayResult(day, "built", f"{m['papers']} papers, {m['duration'] / 60:.1f} min")
            except NoPapersError as exc:
                result = DayResult(day, "skipped", str(exc))
            except PodcastError as exc:
                result = DayResult(day, "failed", str(exc))
        results.append(result)
        on_day(result)
        day += dt.timedelta(days=1)
    return results


def resolve_script(project: Project, target: str) -> Path:
    """Accept a script path or a date (YYYY-MM-DD) meaning scripts/DATE.yaml."""
    try:
        return script_path(project.root, dt.date.fromisoformat(target))
    except ValueError:
        pass
    path = Path(target)
    if not path.exists():
        raise PodcastError(f"{target}: no such script (give a path or a date like 2025-01-09)")
    return path
