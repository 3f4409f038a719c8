"""Script -> Performance: every line spoken, timed, assembled and mastered; no file written.

The only module outside ``podcast.speech`` that drives it: engines are built here
from the project's choice, voices are validated against the engine's voice model,
and the fallback chain comes from the engine's own settings (``fallback``).
"""

from __future__ import annotations

import hashlib
import io
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import audio as audio_mod
from .. import mastering, music
from ..errors import EngineError
from ..models import Clip, ListenSummary, MasteringFigures, Script, Sentence, SpeechSummary, SpokenLine
from ..project import Project
from ..speech import (
    SILENCE,
    ClipCache,
    Engine,
    Fallback,
    LineRecord,
    LineRequest,
    SpeechStats,
    check_voice,
    get_engine,
    synthesize_lines,
)
from ..store import atomic_write_bytes, lookup_artifact
from ..writer import dump_script
from . import Clock, take
from .breath import breath_pieces
from .listen import (
    HeardLine,
    Listener,
    Listening,
    clause_pieces,
    make_recogniser,
    refuse,
    summarise,
    threshold_for,
)
from .transcripts import align_sentences, display_sentences

# Called once with each piece's size in characters, in order; returns the callback that hears
# of every finished piece (a ``podcast.speech.Progress``).
ProgressFactory = Callable[[list[int]], Callable[[Any], None]]


@dataclass(frozen=True)
class Performance:
    """The spoken programme of one script, ready to be packaged."""

    script: Script
    engine: str
    timeline: audio_mod.Timeline
    mastered: audio_mod.Mastered
    host_f0: dict[str, float]
    stats: SpeechStats
    speech: SpeechSummary
    clock: Clock
    figures: MasteringFigures | None = None
    listening: ListenSummary | None = None
    pcm: str = ""  # sha256 of the mastered samples: the key of the encoded MP3
    encoded: bytes | None = None  # the MP3, when the take came from the cache (no samples then)


def engine(project: Project, name: str | None = None) -> Engine:
    """The project's engine (or ``name``), with its own settings and the project's lexicon."""
    return get_engine(name or project.engine, project.lexicon(), project.settings)


def voices(project: Project, spoken_by: Engine, host_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each host's voice table for ``spoken_by``, validated by the engine's voice model."""
    where = project.root / "voices" / f"{project.settings.voices}.toml"
    return {h: check_voice(spoken_by, project.voices.voice(spoken_by.name, h), where) for h in host_ids}


def fallback(project: Project, spoken_by: Engine, hosts: Sequence[str]) -> Fallback:
    """The chain of the engine's ``fallback`` setting: "voice", then the engines named.

    A failing line takes the first engine; when the engine is unavailable altogether, the
    run moves to the first engine of the chain that works. Engines are cheap to construct
    (models load on first use), so the whole chain is built and its voices checked here."""
    own = project.settings.engine_settings(spoken_by.name)
    steps: list[str] = list(getattr(own, "fallback", []))
    names = [s for s in dict.fromkeys(steps) if s != "voice" and s != spoken_by.name]
    chain = []
    for name in names:
        backup = engine(project, name)
        chain.append((backup, voices(project, backup, hosts)))
    if not chain:
        return Fallback(other_voice="voice" in steps, strict=project.strict)
    (first, first_voices), *later = chain
    return Fallback(engine=first, voices=first_voices, other_voice="voice" in steps, strict=project.strict,
                    later=tuple(later))


BREATH = 0.16  # s of silence between the pieces of a long line


def join_pieces(clips: Sequence[Clip]) -> Clip:
    """One line's clip from its pieces, a breathing pause between them, timings shifted."""
    if len(clips) == 1:
        return clips[0]
    rate = max(c.sample_rate for c in clips)
    parts: list[np.ndarray] = []
    sentences: list[Sentence] = []
    t = 0.0
    for i, clip in enumerate(clips):
        if i:
            parts.append(np.zeros(int(BREATH * rate), np.float32))
            t += int(BREATH * rate) / rate
        samples = audio_mod.resample(clip.samples.astype(np.float32), clip.sample_rate, rate)
        spans = clip.sentences or (Sentence("", 0.0, clip.duration),)
        sentences += [Sentence(s.text, round(t + s.start, 3), round(t + s.end, 3)) for s in spans]
        parts.append(samples)
        t += len(samples) / rate
    return Clip(np.concatenate(parts), rate, tuple(sentences), sum(c.retries for c in clips))


def perform(project: Project, script: Script, progress: ProgressFactory | None = None) -> Performance:
    """Speak every line (long ones in pieces), master each clip, assemble the timeline and master it."""
    settings = project.settings
    spoken_by = engine(project)
    host_ids = [h.id for h in script.hosts]
    chosen = voices(project, spoken_by, host_ids)
    lines = [line for seg in script.segments for line in seg.lines]
    chain = fallback(project, spoken_by, host_ids)
    clock = Clock()
    # the pieces follow from each line's speech text and the settings, so the take is looked
    # up before the lines are cut (cutting needs the word cutter, a second of loading)
    key = take.take_key([ClipCache.key(spoken_by, chosen[line.speaker], spoken_by.speech_text(line.text))
                         for line in lines], _sound_settings(project, script))
    kept = take.load(key)
    if kept is not None:
        again = _from_take(project, script, spoken_by.name, kept, clock)
        if again is not None:
            return again
    split = [breath_pieces(line.text, spoken_by.pace, settings.audio.breath_seconds, spoken_by.speech_text)
             for line in lines]
    requests = [LineRequest(line.speaker, piece) for line, pieces in zip(lines, split, strict=True)
                for piece in pieces]
    tick = progress([len(r.text) for r in requests]) if progress else None
    piece_clips, stats, piece_records = synthesize_lines(spoken_by, requests, chosen, ClipCache(), tick,
                                                         chain)
    clock.lap("synthesis")
    spoke = {spoken_by.name: spoken_by, **{e.name: e for e, _ in chain.engines()}}

    clips: list[Clip] = []
    raw: list[Clip] = []  # unmastered, for the before figures (the same length and timings)
    records: list[LineRecord] = []
    line_reports: list[list[mastering.ClipReport]] = []
    k = 0
    for pieces in split:
        line_records = piece_records[k : k + len(pieces)]
        done, mine = master_pieces(piece_clips[k : k + len(pieces)], line_records, spoke, spoken_by)
        line_reports.append(mine)
        first = next((r for r in line_records if r.why), line_records[0])  # a fallback speaks for the line
        records.append(replace(first, retries=sum(r.retries for r in line_records),
                               cached=all(r.cached for r in line_records)))
        clips.append(done)
        raw.append(join_pieces(piece_clips[k : k + len(pieces)]))
        k += len(pieces)
    del piece_clips
    heard = None
    if project.check:
        heard = hear_back(project, script, Spoken(spoken_by, chosen, chain, spoke),
                          Lines(split, clips, raw, records, line_reports))
        clock.lap("listen")
    reports = [r for mine in line_reports for r in mine]
    cue_texts = []
    for line, clip, record in zip(lines, clips, records, strict=True):
        sentences = display_sentences(line.text)
        speaker = spoke.get(record.engine, spoken_by)
        display = [(s, len(speaker.speech_text(s))) for s in sentences]
        spans = [(len(s.text), s.start, s.end) for s in clip.sentences]
        cue_texts.append(align_sentences(display, spans))
    audio = settings.audio
    gaps = audio_mod.TurnGaps(turn=audio.turn_pause, question=audio.question_pause,
                              segment=audio.segment_pause)
    ends = {"lead_in": music.INTRO, "tail": music.OUTRO} if audio.music else {}
    timeline = audio_mod.assemble(script, clips, cue_texts, gaps, **ends)
    del clips  # the timeline holds the audio now; the clips would double the memory of a long day
    unlevelled = audio_mod.assemble(script, raw, cue_texts, gaps, **ends).samples
    del raw
    before = mastering.spread(mastering.cue_loudness(unlevelled, timeline.sample_rate,
                                                     [(c.start, c.end) for c in timeline.cues]))
    del unlevelled
    clock.lap("assemble")
    programme = (music.score(timeline.samples, timeline.sample_rate, timeline.chapters[0].end)
                 if audio.music else timeline.samples)
    mastered = audio_mod.master(programme, timeline.sample_rate, settings.audio.loudness,
                                settings.audio.true_peak)
    clock.lap("master")
    host_f0 = {}
    rate = timeline.sample_rate
    for host in script.hosts:
        mine_f0 = [timeline.samples[int(a * rate) : int(b * rate)]
                   for speaker, a, b in timeline.line_spans if speaker == host.id]
        f0 = audio_mod.median_f0(np.concatenate(mine_f0), rate) if mine_f0 else float("nan")
        if math.isfinite(f0):  # no voiced frame found: unknown, which JSON spells as absent
            host_f0[host.name] = round(f0, 1)
    figures = mastering_figures(timeline, mastered, reports, split,
                                any(getattr(e, "vocoder_ticks", False) for e in spoke.values()), before,
                                settings.audio.music)
    cut_offs = [sum(r.cut_off for r in mine) for mine in line_reports]
    summary = None
    listened: dict[int, tuple[float, str | None, str | None]] = {}
    if heard is not None:
        listening, heard_lines = heard
        times = [(a, b) for _, a, b in timeline.line_spans]
        summary = summarise(listening, heard_lines, times, len(timeline.samples) / timeline.sample_rate)
        listened = {i: (round(r.check.cer, 3), None if r.check.ok else r.check.heard, r.repair)
                    for i, r in listening.results.items()}
    speech = speech_record(script, records, split, cut_offs, listened,
                           [(a, b) for _, a, b in timeline.line_spans])
    pcm = take.pcm_key(mastered)
    if all(line.engine in (spoken_by.name, SILENCE) for line in speech.lines):
        # every line by the planned engine (a voice heard back and swapped is as repeatable):
        # a line another engine spoke because this one was down is spoken again next time
        take.store(key, take.record_of(timeline, mastered, pcm, host_f0, stats, speech, figures, summary))
    return Performance(script, spoken_by.name, timeline, mastered, host_f0, stats, speech, clock, figures,
                       summary, pcm)


def _sound_settings(project: Project, script: Script) -> dict[str, Any]:
    """Everything besides the clips that shapes a take: the script (hosts, chapters, lines),
    the audio settings and whether and how the take is listened back."""
    settings = project.settings
    return {"script": hashlib.sha256(dump_script(script).encode()).hexdigest(),
            "audio": settings.audio.model_dump(mode="json"), "strict": project.strict,
            "listen": settings.listen.model_dump(mode="json") if project.check else None}


def _from_take(project: Project, script: Script, engine_name: str, kept: dict[str, Any],
               clock: Clock) -> Performance | None:
    """The performance of a kept take, or None when its MP3 is no longer in the cache."""
    audio = project.settings.audio
    mastered = take.mastered_of(kept)
    encoded = lookup_artifact("mp3", take.mp3_key(kept["pcm"], mastered.sample_rate, audio.bitrate,
                                                  audio.sample_rate))
    if encoded is None:
        return None
    pieces = kept["stats"]["synthesized"] + kept["stats"]["cached"]
    stats = SpeechStats(**{**kept["stats"], "synthesized": 0, "cached": pieces, "synth_seconds": 0.0,
                           "retried": 0})
    clock.lap("take")
    return Performance(script, engine_name, take.timeline_of(kept), mastered, kept["host_f0"], stats,
                       SpeechSummary.model_validate(kept["speech"]), clock,
                       MasteringFigures.model_validate(kept["figures"]) if kept["figures"] else None,
                       ListenSummary.model_validate(kept["listening"]) if kept["listening"] else None,
                       kept["pcm"], encoded)


def master_pieces(pieces: Sequence[Clip], records: Sequence[LineRecord], spoke: dict[str, Engine],
                  spoken_by: Engine) -> tuple[Clip, list[mastering.ClipReport]]:
    """One line's mastered clip from its pieces, and the producer's report per piece."""
    mine, reports = [], []
    for clip, record in zip(pieces, records, strict=True):
        ticks = bool(getattr(spoke.get(record.engine, spoken_by), "vocoder_ticks", False))
        done, report = mastering.master_clip(clip, ticks)
        mine.append(done)
        reports.append(report)
    return join_pieces(mine), reports


@dataclass(frozen=True)
class Spoken:
    """Who spoke the script: the engine, its voices, the fallback chain and every engine by name."""

    engine: Engine
    voices: dict[str, dict[str, Any]]
    chain: Fallback
    by_name: dict[str, Engine]


@dataclass
class Lines:
    """The programme line by line, as perform holds it; the listen-back stage replaces takes in place."""

    split: list[list[str]]
    clips: list[Clip]  # mastered
    raw: list[Clip]
    records: list[LineRecord]
    reports: list[list[mastering.ClipReport]]


def hear_back(project: Project, script: Script, spoken: Spoken,
              lines: Lines) -> tuple[Listening, list[HeardLine]] | None:
    """The listen-back stage over the spoken lines: hear a sample, speak failing lines again in
    shorter pieces, then with the host's other voice, and keep the take that is heard right."""
    settings = project.settings.listen
    threshold = threshold_for(spoken.engine, settings.threshold)
    if threshold is None:  # the engine's audio is not speech a recogniser can judge
        return None
    script_lines = [(seg.id, i, line) for seg in script.segments for i, line in enumerate(seg.lines)]

    def engine_of(i: int) -> Engine:
        return spoken.by_name.get(lines.records[i].engine, spoken.engine)

    heard = []
    for i, (segment, index, line) in enumerate(script_lines):
        record = lines.records[i]
        must = ("cut-off" if any(r.cut_off for r in lines.reports[i])
                else "retried" if record.retries or record.why else None)
        heard.append(HeardLine(segment, index, line.speaker, line.text, lines.raw[i],
                               getattr(engine_of(i), "profile", None),
                               threshold_for(engine_of(i), settings.threshold) or threshold, must))
    cache = ClipCache()
    pending: dict[int, tuple[list[str], list[Clip], list[LineRecord], str | None]] = {}

    def respeak(i: int, how: str) -> Clip | None:
        if lines.records[i].engine == SILENCE:
            return None
        engine_i, speaker = engine_of(i), script_lines[i][2].speaker
        voice = (spoken.voices if engine_i is spoken.engine else spoken.chain.voices).get(speaker, {})
        other = None
        if how == "split":
            pieces = clause_pieces(script_lines[i][2].text)
            if pieces == lines.split[i]:
                return None
        else:
            other = voice.get("fallback_voice")
            if not other:
                return None
            voice = {k: v for k, v in voice.items() if k != "fallback_voice"} | {"voice": other}
            pieces = lines.split[i]
        try:
            got, _, records = synthesize_lines(engine_i, [LineRequest(speaker, p) for p in pieces],
                                               {speaker: voice}, cache, fallback=Fallback(strict=True))
        except EngineError:
            return None
        pending[i] = (pieces, got, records, other)
        return join_pieces(got)

    def replace(i: int, take: Clip, how: str) -> None:
        pieces, got, records, other = pending[i]
        lines.clips[i], lines.reports[i] = master_pieces(got, records, spoken.by_name, spoken.engine)
        lines.raw[i], lines.split[i] = take, pieces
        if other is not None:
            old = lines.records[i]
            lines.records[i] = LineRecord(old.engine, str(other), why="heard back unintelligible")

    listener = Listener(make_recogniser(settings.recogniser), settings.recogniser, threshold, settings.budget,
                        respeak, ("split",) if project.strict else ("split", "voice"))
    listening = listener.run(heard, script.date.isoformat(), sum(c.duration for c in lines.raw), replace)
    if project.strict:
        refuse(listening, heard)
    return listening, heard


def mastering_figures(timeline: audio_mod.Timeline, mastered: audio_mod.Mastered,
                      reports: Sequence[mastering.ClipReport], split: Sequence[Sequence[str]],
                      suppressed: bool, before: tuple[float, float], music: bool = False) -> MasteringFigures:
    """The producer's figures for ``episode.json`` and the build's last lines."""
    rate = timeline.sample_rate
    cues = [(c.start, c.end) for c in timeline.cues]
    sd, jump = mastering.spread(mastering.cue_loudness(mastered.samples, rate, cues))
    minutes = sum(r.speech_seconds for r in reports) / 60 or 1.0
    by_kind: dict[str, list[float]] = {}
    for kind, gap in timeline.gaps:
        by_kind.setdefault(kind, []).append(gap)

    def mean(kind: str) -> float | None:
        values = by_kind.get(kind)
        return round(float(np.mean(values)), 3) if values else None

    return MasteringFigures(
        cue_loudness_sd_lu=round(sd, 2), cue_loudness_max_jump_lu=round(jump, 2),
        cue_loudness_sd_before_lu=round(before[0], 2), cue_loudness_max_jump_before_lu=round(before[1], 2),
        cut_off_endings_found=sum(r.cut_off for r in reports),
        cut_off_endings_fixed=sum(r.fixed for r in reports),
        ticks_per_speech_minute_before=round(sum(r.ticks_before for r in reports) / minutes, 2),
        ticks_per_speech_minute_after=round(sum(r.ticks_after for r in reports) / minutes, 2),
        ticks_suppressed=suppressed,
        longest_unpaused_s=mastering.longest_unpaused(
            timeline.samples, rate, [(a, b) for _, a, b in timeline.line_spans]),
        breath_splits=sum(len(p) > 1 for p in split),
        gap_after_question_s=mean("question"), gap_between_turns_s=mean("turn"),
        gap_before_segment_s=mean("segment"), music=music)


def speech_record(script: Script, records: Sequence[LineRecord], split: Sequence[Sequence[str]] = (),
                  cut_offs: Sequence[int] = (),
                  listened: dict[int, tuple[float, str | None, str | None]] | None = None,
                  times: Sequence[tuple[float, float]] = ()) -> SpeechSummary:
    """Which engine and voice spoke each line, and why a line was not spoken as planned; lines
    spoken in pieces and endings the engine cut off are named, for the synthesis side to redo."""
    where = [(seg.id, i, line.speaker) for seg in script.segments for i, line in enumerate(seg.lines)]
    pieces = [len(p) for p in split] or [1] * len(where)
    cuts = list(cut_offs) or [0] * len(where)
    heard = listened or {}
    lines = [SpokenLine(segment=segment, line=index, speaker=speaker, engine=r.engine, voice=r.voice,
                        retries=r.retries or None, why=r.why, pieces=n if n > 1 else None, cut_off=c or None,
                        cer=heard.get(k, (None,))[0], heard=heard.get(k, (0, None))[1],
                        listen=heard.get(k, (0, None, None))[2],
                        start=round(times[k][0], 3) if k < len(times) else None,
                        end=round(times[k][1], 3) if k < len(times) else None)
             for k, ((segment, index, speaker), r, n, c) in enumerate(zip(where, records, pieces, cuts,
                                                                          strict=True))]
    return SpeechSummary(engines=dict(Counter(r.engine for r in records)),
                         fallbacks=sum(r.why is not None for r in records), lines=lines)


def voice_listing(project: Project, show_all: bool = False) -> list[str]:
    """Lines describing the engine's voices (its own listing) and the preset's choice per host."""
    spoken_by = engine(project)
    lister = getattr(spoken_by, "list_voices", None)
    out = list(lister(show_all)) if lister else [f"{spoken_by.name}: no voice listing"]
    out.append(f"preset {project.settings.voices!r}:")
    for host in project.voices.hosts:
        settings = project.voices.voice(spoken_by.name, host.id)
        shown = ", ".join(f"{k}={v}" for k, v in settings.items()) or "(defaults)"
        out.append(f"  {host.id} {host.name}: {shown}")
    return out


def say(project: Project, spoken_by: Engine, fed: str, host_id: str, path: Path) -> None:
    """Speak already-normalised text with one host's voice into a WAV or MP3 file."""
    clip = spoken_by.synthesize(fed, voices(project, spoken_by, [host_id])[host_id])
    audio = project.settings.audio
    mastered = audio_mod.master(clip.samples, clip.sample_rate, audio.loudness, audio.true_peak)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".mp3":
        audio_mod.export_clip_mp3(mastered.samples, mastered.sample_rate, path, audio.bitrate,
                                  audio.sample_rate)
    else:
        from scipy.io import wavfile

        buf = io.BytesIO()
        wavfile.write(buf, mastered.sample_rate, (np.clip(mastered.samples, -1, 1) * 32767).astype(np.int16))
        atomic_write_bytes(path, buf.getvalue())
