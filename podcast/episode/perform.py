"""Script -> Performance: every line spoken, timed, assembled and mastered; no file written.

The only module outside ``podcast.speech`` that drives it: engines are built here
from the project's choice, voices are validated against the engine's voice model,
and the fallback chain comes from the engine's own settings (``fallback``).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import audio as audio_mod
from .. import mastering
from ..length import Pace
from ..models import Clip, MasteringFigures, Script, Sentence, SpeechSummary, SpokenLine
from ..project import Project
from ..speech import (
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
from ..store import atomic_write_bytes
from . import Clock
from .transcripts import align_sentences, display_sentences

ProgressFactory = Callable[[int], Callable[[Any], None]]


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


def engine(project: Project, name: str | None = None) -> Engine:
    """The project's engine (or ``name``), with its own settings and the project's lexicon."""
    return get_engine(name or project.engine, project.lexicon(), project.settings)


def voices(project: Project, spoken_by: Engine, host_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each host's voice table for ``spoken_by``, validated by the engine's voice model."""
    where = project.root / "voices" / f"{project.settings.voices}.toml"
    return {h: check_voice(spoken_by, project.voices.voice(spoken_by.name, h), where) for h in host_ids}


def fallback(project: Project, spoken_by: Engine, hosts: Sequence[str]) -> Fallback:
    """The chain of the engine's ``fallback`` setting: "voice", then the first engine named."""
    own = project.settings.engine_settings(spoken_by.name)
    steps: list[str] = list(getattr(own, "fallback", []))
    backup = None
    backup_voices: dict[str, dict[str, Any]] = {}
    others = [s for s in steps if s != "voice" and s != spoken_by.name]
    if others:
        backup = engine(project, others[0])
        backup_voices = voices(project, backup, hosts)
    return Fallback(engine=backup, voices=backup_voices, other_voice="voice" in steps, strict=project.strict)


BREATH = 0.16  # s of silence between the pieces of a long line


def breath_pieces(text: str, pace: Pace, longest: float) -> list[str]:
    """A line cut at clause punctuation into pieces of at most ``longest`` seconds (as planned).

    Engines speak one call in one breath; a listener needs a pause at least every
    six seconds. Cutting the text (never inside brackets or quotes; also before a
    《title》) lets every engine
    pause there, and the clip cache keys each piece by its own text.
    """
    if pace.seconds(text) <= longest:
        return [text]
    clauses, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "《" and depth <= 0 and text[start:i].strip():  # a breath before a title is natural
            clauses.append(text[start:i])
            start = i
        depth += (ch in "（(《「『“【") - (ch in "）)》」』”】")
        if ch in "，；：。！？" and depth <= 0 and text[start : i + 1].strip():
            clauses.append(text[start : i + 1])
            start = i + 1
    if text[start:].strip():
        clauses.append(text[start:])
    pieces: list[str] = []
    for clause in clauses:
        if pieces and (pace.seconds(pieces[-1] + clause) > longest
                       and pace.seconds(pieces[-1]) >= 1.5 and pace.seconds(clause) >= 1.0):
            pieces.append(clause)
        elif pieces:
            pieces[-1] += clause
        else:
            pieces.append(clause)
    return pieces


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
    split = [breath_pieces(line.text, spoken_by.pace, settings.audio.breath_seconds) for line in lines]
    requests = [LineRequest(line.speaker, piece) for line, pieces in zip(lines, split, strict=True)
                for piece in pieces]
    tick = progress(len(requests)) if progress else None
    chain = fallback(project, spoken_by, host_ids)
    clock = Clock()
    piece_clips, stats, piece_records = synthesize_lines(spoken_by, requests, chosen, ClipCache(), tick,
                                                         chain)
    clock.lap("synthesis")
    spoke = {spoken_by.name: spoken_by, **({chain.engine.name: chain.engine} if chain.engine else {})}

    clips: list[Clip] = []
    raw: list[Clip] = []  # unmastered, for the before figures (the same length and timings)
    records: list[LineRecord] = []
    reports: list[mastering.ClipReport] = []
    k = 0
    for pieces in split:
        mine = []
        for clip, record in zip(piece_clips[k : k + len(pieces)], piece_records[k : k + len(pieces)],
                                strict=True):
            ticks = bool(getattr(spoke.get(record.engine, spoken_by), "vocoder_ticks", False))
            done, report = mastering.master_clip(clip, ticks)
            mine.append(done)
            reports.append(report)
        line_records = piece_records[k : k + len(pieces)]
        records.append(next((r for r in line_records if r.why), line_records[0]))
        clips.append(join_pieces(mine))
        raw.append(join_pieces(piece_clips[k : k + len(pieces)]))
        k += len(pieces)
    del piece_clips
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
    timeline = audio_mod.assemble(script, clips, cue_texts, gaps)
    del clips  # the timeline holds the audio now; the clips would double the memory of a long day
    unlevelled = audio_mod.assemble(script, raw, cue_texts, gaps).samples
    del raw
    before = mastering.spread(mastering.cue_loudness(unlevelled, timeline.sample_rate,
                                                     [(c.start, c.end) for c in timeline.cues]))
    del unlevelled
    clock.lap("assemble")
    mastered = audio_mod.master(timeline.samples, timeline.sample_rate, settings.audio.loudness,
                                settings.audio.true_peak)
    clock.lap("master")
    host_f0 = {}
    rate = timeline.sample_rate
    for host in script.hosts:
        mine_f0 = [timeline.samples[int(a * rate) : int(b * rate)]
                   for speaker, a, b in timeline.line_spans if speaker == host.id]
        if mine_f0:
            host_f0[host.name] = round(audio_mod.median_f0(np.concatenate(mine_f0), rate), 1)
    figures = mastering_figures(timeline, mastered, reports, split,
                                any(getattr(e, "vocoder_ticks", False) for e in spoke.values()), before)
    cut_offs = []
    k = 0
    for pieces in split:
        cut_offs.append(sum(r.cut_off for r in reports[k : k + len(pieces)]))
        k += len(pieces)
    return Performance(script, spoken_by.name, timeline, mastered, host_f0, stats,
                       speech_record(script, records, split, cut_offs), clock, figures)


def mastering_figures(timeline: audio_mod.Timeline, mastered: audio_mod.Mastered,
                      reports: Sequence[mastering.ClipReport], split: Sequence[Sequence[str]],
                      suppressed: bool, before: tuple[float, float]) -> MasteringFigures:
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
        gap_before_segment_s=mean("segment"), music=False)


def speech_record(script: Script, records: Sequence[LineRecord], split: Sequence[Sequence[str]] = (),
                  cut_offs: Sequence[int] = ()) -> SpeechSummary:
    """Which engine and voice spoke each line, and why a line was not spoken as planned; lines
    spoken in pieces and endings the engine cut off are named, for the synthesis side to redo."""
    where = [(seg.id, i, line.speaker) for seg in script.segments for i, line in enumerate(seg.lines)]
    pieces = [len(p) for p in split] or [1] * len(where)
    cuts = list(cut_offs) or [0] * len(where)
    lines = [SpokenLine(segment=segment, line=index, speaker=speaker, engine=r.engine, voice=r.voice,
                        retries=r.retries or None, why=r.why, pieces=n if n > 1 else None, cut_off=c or None)
             for (segment, index, speaker), r, n, c in zip(where, records, pieces, cuts, strict=True)]
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
