"""Performance -> the episode folder (MP3, transcripts, chapters, pages, pictures) and its ``Episode``.

Everything is staged in a hidden sibling folder and swapped in with renames, so
a crash never leaves a half-written episode where the feed would find it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
import uuid
from pathlib import Path

from .. import audio as audio_mod
from .. import faults, site, visuals
from ..cover import PICTURES, cover_bytes
from ..digest import read_digest
from ..errors import PodcastError
from ..models import Digest, Episode, EpisodeChapter, EpisodeHost, SegmentMinutes
from ..project import PAGE, Project
from ..publish import check_with
from ..store import atomic_write_bytes, cached_artifact, recover, staging_dir, swap_in, write_json, write_text
from ..writer import dump_script
from . import take
from .perform import Performance
from .transcripts import chapters_json, description, to_srt, to_vtt


def episode_guid(show_slug: str, date: dt.date) -> str:
    """Stable forever: derived from the show's slug and the date, never from a URL."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:{show_slug}:episode:{date.isoformat()}"))


def encoded_mp3(perf: Performance, bitrate: int, out_rate: int) -> bytes:
    """The MP3 of the mastered programme; identical audio is not encoded twice."""
    if perf.encoded is not None:
        return perf.encoded
    mastered = perf.mastered

    def encode() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "episode.mp3"
            audio_mod.encode_mp3(mastered.samples, mastered.sample_rate, path, bitrate, out_rate)
            return path.read_bytes()

    return cached_artifact("mp3", take.mp3_key(perf.pcm or take.pcm_key(mastered), mastered.sample_rate,
                                               bitrate, out_rate), encode)


def measured(mp3: Path, encoded: bytes) -> tuple[float, float]:
    """Loudness and true peak of the MP3 as a player decodes it; the tags do not change them,
    so the figures of identical audio are kept with it."""
    key = hashlib.sha256(encoded).hexdigest()

    def measure() -> bytes:
        return json.dumps(audio_mod.measure_file(mp3)).encode()

    loudness, peak = json.loads(cached_artifact("loudness", [key], measure))
    return float(loudness), float(peak)


def day_digest(project: Project, day: dt.date, given: Path | None) -> tuple[Digest | None, Path | None]:
    """The digest behind an episode, for its digest page and keyword cloud, and the file it was
    read from (kept in the new folder as ``source.md``, so a second ``speak`` still finds it)."""
    layout = project.layout
    for path in (given, layout.digest(day), layout.episode(day) / "source.md"):
        if path is not None and path.exists():
            try:
                digest = read_digest(path, allow_partial=True)  # the build already decided
            except PodcastError:
                continue
            if digest.date == day:
                return digest, path
    return None, None


def package(project: Project, performance: Performance, source_digest: Path | None = None,
            digest: Digest | None = None) -> tuple[Path, Episode]:
    """Write the episode folder for ``performance`` and swap it in; the GUID never changes.

    ``digest`` (already read by the caller) feeds the digest page and the keyword cloud."""
    script = performance.script
    layout = project.layout
    recover(layout.episodes, script.date)
    final = layout.episode(script.date)
    guid = episode_guid(project.settings.show.slug, script.date)
    if layout.manifest(script.date).exists():
        guid = Episode.read(layout.manifest(script.date)).guid  # GUIDs never change
    stage = staging_dir(layout.episodes, script.date)
    try:
        if digest is None or digest.date != script.date or source_digest is None:
            digest, source_digest = day_digest(project, script.date, source_digest)
        episode = _write_folder(project, performance, stage, guid, source_digest, digest)
        check_with(layout, episode)  # the feed must carry the new episode before it is swapped in
        swap_in(stage, final)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    performance.clock.lap("files")
    return final, episode


def _write_folder(project: Project, perf: Performance, stage: Path, guid: str, source_digest: Path | None,
                  digest: Digest | None) -> Episode:
    script, timeline, clock = perf.script, perf.timeline, perf.clock
    layout = project.layout
    show = project.settings.show
    name = layout.audio_name(script.date)
    mp3 = stage / name
    clock.lap("files")
    encoded = encoded_mp3(perf, project.settings.audio.bitrate, project.settings.audio.sample_rate)
    atomic_write_bytes(mp3, encoded)
    clock.lap("encode")
    faults.reached("encoding")
    cover, ext = cover_bytes(project.root, show.cover, show.title)
    desc = description(script)
    audio_mod.write_id3(mp3, audio_mod.Tags(
        title=script.title, artist=show.author, album=show.title, date=script.date,
        comment=desc, cover=cover, cover_mime="image/png" if ext == "png" else "image/jpeg"),
        timeline.chapters)
    duration = audio_mod.mp3_duration(mp3)
    loudness, peak = measured(mp3, encoded)  # what listeners get, not what was aimed at
    clock.lap("measure")
    write_text(stage / "transcript.vtt", to_vtt(timeline.cues))
    write_text(stage / "transcript.srt", to_srt(timeline.cues))
    write_json(stage / "chapters.json", chapters_json(timeline.chapters))
    papers = []
    for seg in script.segments:
        if seg.paper:
            papers.append({"rank": seg.paper.rank, "title_zh": seg.paper.title_zh or seg.title,
                           "title_en": seg.paper.title_en,
                           "hf_url": seg.paper.hf_url, "arxiv_url": seg.paper.arxiv_url})
    # this day's pictures and digest, kept with the episode so old digests keep their own
    pictures = {"trend": "trend.png"}
    days = visuals.recent_days(layout.published(), script.date, script.paper_count)
    atomic_write_bytes(stage / "trend.png", cached_artifact(
        "trend", [PICTURES, [(d.isoformat(), n) for d, n in days]], lambda: visuals.trend_chart(days)))
    if digest is not None:
        pictures["wordcloud"] = "wordcloud.png"
        text = [(p.title_zh, p.abstract_zh) for p in digest.papers]
        atomic_write_bytes(stage / "wordcloud.png", cached_artifact(
            "wordcloud", [PICTURES, text], lambda: visuals.word_cloud(digest)))
        markdown, html = site.digest_files(layout, digest, name, pictures)
        write_text(stage / "digest.md", markdown)
        write_text(stage / "digest.html", html)
    hosts = "、".join(h.name for h in script.hosts)
    write_text(stage / PAGE, site.episode_page(
        layout, script.title, script.date, duration, desc, name, hosts, timeline.chapters, timeline.cues,
        papers, digest is not None, pictures))
    site.write_folder_font(stage)
    write_text(stage / "script.yaml", dump_script(script))
    if source_digest is not None:
        write_text(stage / "source.md", source_digest.read_text(encoding="utf-8-sig"))
    plan = project.length_plan(perf.engine)
    episode = Episode(
        date=script.date,
        title=script.title,
        description=desc,
        guid=guid,
        audio=name,
        bytes=mp3.stat().st_size,
        duration=round(duration, 3),
        chapters=[EpisodeChapter(start=c.start, title=c.title, url=c.url or None) for c in timeline.chapters],
        papers=script.paper_count,
        engine=perf.engine,
        writer=script.writer,
        hosts=[EpisodeHost(id=h.id, name=h.name, median_f0_hz=perf.host_f0.get(h.name))
               for h in script.hosts],
        loudness_lufs=round(loudness, 2),
        true_peak_dbtp=round(peak, 2),
        lines=sum(len(seg.lines) for seg in script.segments),
        speech=perf.speech,
        mastering=perf.figures,
        listening=perf.listening,
        segments=[SegmentMinutes(
            id=seg.id,
            budget_minutes=round(seg.budget_seconds / 60, 2) if seg.budget_seconds is not None else None,
            planned_minutes=round(plan.lines_seconds([line.text for line in seg.lines]) / 60, 2),
            actual_minutes=round((chapter.end - chapter.start) / 60, 2))
            for seg, chapter in zip(script.segments, timeline.chapters, strict=True)],
        transcripts={"vtt": "transcript.vtt", "srt": "transcript.srt"},
        chapters_file="chapters.json",
        page=PAGE,
        pictures=pictures,
        digest="digest.md" if digest is not None else None,
    )
    write_text(stage / layout.manifest(script.date).name, episode.to_json())
    return episode
