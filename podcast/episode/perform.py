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
from ..models import Script, SpeechSummary, SpokenLine
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


def perform(project: Project, script: Script, progress: ProgressFactory | None = None) -> Performance:
    """Speak every line, time the sentences, assemble the timeline and master it."""
    settings = project.settings
    spoken_by = engine(project)
    host_ids = [h.id for h in script.hosts]
    chosen = voices(project, spoken_by, host_ids)
    requests = [LineRequest(line.speaker, line.text) for seg in script.segments for line in seg.lines]
    tick = progress(len(requests)) if progress else None
    chain = fallback(project, spoken_by, host_ids)
    clock = Clock()
    clips, stats, records = synthesize_lines(spoken_by, requests, chosen, ClipCache(), tick, chain)
    clock.lap("synthesis")
    spoke = {spoken_by.name: spoken_by, **{e.name: e for e, _ in chain.engines()}}

    cue_texts = []
    for req, clip, record in zip(requests, clips, records, strict=True):
        sentences = display_sentences(req.text)
        speaker = spoke.get(record.engine, spoken_by)
        display = [(s, len(speaker.speech_text(s))) for s in sentences]
        spans = [(len(s.text), s.start, s.end) for s in clip.sentences]
        cue_texts.append(align_sentences(display, spans))
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
    return Performance(script, spoken_by.name, timeline, mastered, host_f0, stats,
                       speech_record(script, records), clock)


def speech_record(script: Script, records: Sequence[LineRecord]) -> SpeechSummary:
    """Which engine and voice spoke each line, and why a line was not spoken as planned."""
    where = [(seg.id, i, line.speaker) for seg in script.segments for i, line in enumerate(seg.lines)]
    lines = [SpokenLine(segment=segment, line=index, speaker=speaker, engine=r.engine, voice=r.voice,
                        retries=r.retries or None, why=r.why)
             for (segment, index, speaker), r in zip(where, records, strict=True)]
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
