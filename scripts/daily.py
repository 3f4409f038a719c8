"""Build today's episode from the Hugging Face API: the job to run from cron or a CI schedule.

    uv run python scripts/daily.py [--root .] [--writer llm] [--log daily.log] [--date YYYY-MM-DD]

"Today" is the show's date in its time zone (podcast.toml [show] timezone).
Weekends, and weekdays the API lists no papers for, end with exit code 0 and a
log line; any failure ends with the one-line error logged and a non-zero exit.
Every run appends to the log file, so a cron job leaves a readable history.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from podcast import pipeline
from podcast.errors import PodcastError
from podcast.hfapi import NoPapers

log = logging.getLogger("daily")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="project root (default: .)")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None,
                        help="build this day instead of today")
    parser.add_argument("--writer", default=None, help="script writer (default from podcast.toml)")
    parser.add_argument("--engine", default=None, help="speech engine (default from podcast.toml)")
    parser.add_argument("--log", type=Path, default=None, help="log file (default: ROOT/daily.log)")
    args = parser.parse_args(argv)

    log_path = args.log or args.root / "daily.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        handlers=[logging.FileHandler(log_path, encoding="utf-8"),
                                  logging.StreamHandler(sys.stdout)])
    started = time.perf_counter()
    try:
        project = pipeline.Project.open(args.root, engine=args.engine, writer=args.writer)
        day = args.date or dt.datetime.now(ZoneInfo(project.settings.show.timezone)).date()
        if day.weekday() >= 5:
            log.info("%s is a weekend: Hugging Face publishes no daily list; nothing to do", day)
            return 0
        log.info("building %s (writer %s, engine %s)", day, project.writer, project.engine)
        digest = pipeline.fetch(project, day, warn=log.warning)
        if isinstance(digest, NoPapers):
            log.info("%s", digest)
            return 0
        log.info("digest %s", digest)
        result = pipeline.build(project, digest, warn=log.warning)
        e = result.episode
        log.info("episode %s: %.1f min, %d papers, %s LUFS; script by %s",
                 result.speak.folder / e.audio, e.duration / 60, e.papers, e.loudness_lufs, e.writer)
        log.info("feed %s; done in %.0f s", result.feed, time.perf_counter() - started)
        return 0
    except PodcastError as exc:
        log.error("%s", exc)
        return exc.exit_code or 1


if __name__ == "__main__":
    sys.exit(main())
