"""The stages in order, and the locks that keep two runs off one day or one feed.

    fetch    HF API -> scripts/DATE_daily_paper.md         (podcast.hfapi, podcast.translate)
    write    Digest -> Script -> scripts/DATE.yaml          (a writer plug-in)
    speak    Script -> Performance -> episodes/DATE/        (podcast.episode.perform, .package)
    publish  Episodes -> feed/feed.xml, feed/index.html     (podcast.publish)
    build    write + speak + publish

Each stage leaves its output on disk, so a user can stop after any stage, edit
the script, and go on. The engine, writer and strictness are the ``Project``'s,
resolved once when it was opened.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import plugins
from .digest import read_digest, render_digest
from .episode.package import package
from .episode.perform import Performance, ProgressFactory, SpeechStats, perform
from .errors import ConfigError, LLMInvalid, LLMUnavailable
from .fit import fit_to_length
from .hfapi import Fetcher, NoPapers
from .llm import LLM, LLMConfig
from .locks import day_lock, feed_lock
from .models import Digest, Episode, Script
from .project import Layout, Project
from .publish import publish as publish_files
from .store import (
    atomic_write_bytes,
    cached_artifact,
    code_fingerprint,
    interrupted_days,
    lookup_artifact,
    recover,
)
from .translate import build_digest, failed_papers, translate_checked
from .writer import WriterOptions, dump_script, get_writer, load_script

__all__ = ["BuildResult", "Layout", "Project", "SpeakResult", "build", "fetch", "publish", "speak", "write"]

Warn = Callable[[str], None]


def _quiet(_message: str) -> None:
    pass


@dataclass(frozen=True)
class SpeakResult:
    folder: Path
    episode: Episode
    performance: Performance
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for benchmarks

    @property
    def stats(self) -> SpeechStats:
        return self.performance.stats

    @property
    def host_f0(self) -> dict[str, float]:
        return self.performance.host_f0


@dataclass(frozen=True)
class BuildResult:
    digest: Digest
    script_path: Path
    speak: SpeakResult
    feed: Path

    @property
    def episode(self) -> Episode:
        return self.speak.episode


def make_llm(project: Project) -> LLM:
    """The configured chat model; ``LLMUnavailable`` says what is missing."""
    return LLM(LLMConfig.resolve(project.settings.llm))


def writer_options(project: Project, warn: Warn = _quiet) -> WriterOptions:
    """A network writer gets the model, or the reason there is none (it decides what to do)."""
    llm: LLM | LLMUnavailable | None = None
    if getattr(plugins.writers.get(project.writer), "needs_network", False):
        try:
            llm = make_llm(project)
        except LLMUnavailable as exc:
            llm = exc
    return WriterOptions(llm=llm, strict=project.strict, warn=warn, phrases=project.phrases)


def script_for(project: Project, digest: Digest, warn: Warn = _quiet) -> Script:
    """The script the project's writer makes for ``digest``, in memory (write, report, lint)."""
    said: list[str] = []

    def collect(message: str) -> None:
        said.append(message)
        warn(message)

    writer = get_writer(project.writer, writer_options(project, collect))
    plan = project.length_plan()
    title = project.settings.show.title
    if getattr(writer, "deterministic", False):  # the same inputs give the same script: keep it
        key = [code_fingerprint(), project.writer, repr(digest), repr(project.hosts), title, repr(plan),
               repr(project.phrases), project.strict]
        kept = lookup_artifact("script", key)
        if kept is not None:
            record = json.loads(kept)
            for message in record["warnings"]:
                warn(message)
            script = Script.model_validate(record["script"])
        else:
            script = writer.write(digest, project.hosts, title, plan)
            record = {"script": script.model_dump(mode="json"), "warnings": said}
            cached_artifact("script", key, lambda: json.dumps(record, ensure_ascii=False).encode())
    else:
        script = writer.write(digest, project.hosts, title, plan)
    script, cuts = fit_to_length(script, project.length_plan())  # any writer: max_minutes holds
    for note in cuts:
        warn(note)
    notes = [*digest.notes, *(digest_notes(Path(digest.source)) if digest.source.endswith(".md") else ())]
    if notes:  # e.g. a cut-off or untranslatable paper left out: the episode says so
        script = script.model_copy(update={"notes": [*script.notes, *notes]})
    return script


def write(project: Project, digest: Digest, warn: Warn = _quiet) -> tuple[Script, Path]:
    """Digest -> scripts/DATE.yaml."""
    with day_lock(project.layout.day_lock(digest.date), digest.date.isoformat()):
        script = script_for(project, digest, warn)
        path = project.layout.script(script.date)
        atomic_write_bytes(path, dump_script(script).encode("utf-8"))
    return script, path


def speak(project: Project, script: Script, progress: ProgressFactory | None = None,
          source_digest: Path | None = None, digest: Digest | None = None) -> SpeakResult:
    """Script -> episodes/DATE/ (MP3, transcripts, chapters, notes, episode.json).

    ``digest`` is the day's digest when the caller has read it (``build``); otherwise the
    packaging stage looks for it beside the script or in the episode folder."""
    with day_lock(project.layout.day_lock(script.date), script.date.isoformat()):
        performance = perform(project, script, progress)
        folder, episode = package(project, performance, source_digest, digest)
    return SpeakResult(folder, episode, performance, performance.clock.laps)


def recover_interrupted(project: Project) -> list[dt.date]:
    """Put back every day a crash left in hidden folders, so no publish drops a day.

    A day another run is working on right now (its lock is held) is left to that run."""
    layout = project.layout
    done = []
    for day in interrupted_days(layout.episodes):
        with day_lock(layout.day_lock(day), day.isoformat(), wait=False) as mine:
            if mine:
                recover(layout.episodes, day)
                done.append(day)
    return done


def publish(project: Project, warn: Warn = _quiet) -> Path:
    """episodes/*/episode.json -> feed/feed.xml, the cover and the show page feed/index.html."""
    with feed_lock(project.layout.feed_lock):
        recover_interrupted(project)
        return publish_files(project, warn)


def fetch(project: Project, day: dt.date, refresh: bool = False, warn: Warn = _quiet,
          fetcher: Fetcher | None = None) -> Path | NoPapers:
    """HF API -> translated digest Markdown at scripts/DATE_daily_paper.md, or ``NoPapers``."""
    papers = (fetcher or Fetcher()).listing(day, refresh)
    if isinstance(papers, NoPapers):
        return papers
    try:
        llm = make_llm(project)
    except LLMUnavailable as exc:
        raise ConfigError(project.config_file, f"[llm]: translation needs a model: {exc}") from exc
    done = translate_checked(llm, papers)
    for t in done:
        for problem in t.problems:
            warn(f"translation: {problem}")
    failed = failed_papers(papers, done)
    notes_file = project.layout.digest(day).with_suffix(NOTES_SUFFIX)
    notes: list[str] = []
    if failed and not project.allow_partial:
        raise LLMInvalid(f"translation of {len(failed)} paper(s) still fails its checks after the "
                         f"repairs, so the day is not published: {'; '.join(failed)} (try again later, "
                         "or --allow-partial to leave them out)")
    if failed:
        kept = [(p, t) for p, t in zip(papers, done, strict=True) if not t.problems]
        if not kept:
            raise LLMInvalid(f"no paper of {day} has a translation that passes its checks: "
                             f"{'; '.join(failed)}")
        papers, done = [p for p, _ in kept], [t for _, t in kept]
        notes = [f"translation: left out {item}" for item in failed]
        for note in notes:
            warn(note)
    digest = build_digest(day, papers, [(t.title, t.abstract) for t in done])
    path = project.layout.digest(day)
    atomic_write_bytes(path, render_digest(day, list(digest.papers), list(digest.hot_topics)).encode())
    if notes:  # beside the digest, so the build that reads the digest says what it lacks
        atomic_write_bytes(notes_file, ("\n".join(notes) + "\n").encode())
    else:
        notes_file.unlink(missing_ok=True)
    return path


NOTES_SUFFIX = ".notes"  # scripts/DATE_daily_paper.notes: what a fetched digest knowingly left out


def digest_notes(digest_path: Path) -> tuple[str, ...]:
    """The notes a fetch left beside ``digest_path`` (papers left out), if any."""
    try:
        text = digest_path.with_suffix(NOTES_SUFFIX).read_text(encoding="utf-8")
    except OSError:
        return ()
    return tuple(line for line in text.splitlines() if line.strip())


def build(project: Project, digest_path: Path, progress: ProgressFactory | None = None,
          warn: Warn = _quiet) -> BuildResult:
    """Digest -> script -> episode -> feed. A strict project forbids every fallback."""
    digest = read_digest(digest_path, project.allow_partial)
    with day_lock(project.layout.day_lock(digest.date), digest.date.isoformat()):
        _, path = write(project, digest, warn)
        spoken = speak(project, load_script(path), progress, source_digest=digest_path, digest=digest)
        return BuildResult(digest, path, spoken, publish(project, warn))
