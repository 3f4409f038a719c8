"""One project root: its settings, voices and plug-ins resolved once, and every path and URL.

``Project.open`` checks the engine, the writer and the voice preset against the
plug-in registries before any stage runs, so ``build --engine nope`` fails with
exit 2 and leaves no file behind. ``Layout`` is the only place that spells the
disk layout (scripts/, episodes/DATE/, feed/) and the published URLs.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pydantic import ValidationError

from . import plugins
from .config import CONFIG_NAME, Settings, ShowSettings, VoicePreset, load_lexicon, load_settings, load_voices
from .errors import ConfigError, PublishError, UsageError
from .length import LENGTH_PRESETS, ZHTTS_PACE, LengthPlan
from .models import MANIFEST, Episode, Host
from .phrases import Phrases, load_phrases
from .textnorm import Lexicon

PAGE = "index.html"  # the episode's web page inside its folder
FONT = "cjk-subset.woff"  # beside each page: the CJK glyphs it uses, for readers without a CJK font
STATE = ".podcast"  # ROOT/.podcast/: locks; a published folder (episodes/, feed/) holds only the site


@dataclass(frozen=True)
class Layout:
    """Where every file of a project lives on disk, and where it is published on the web."""

    root: Path
    show: ShowSettings

    # ---------------------------------------------------------------- disk
    @property
    def scripts(self) -> Path:
        return self.root / "scripts"

    def script(self, day: dt.date) -> Path:
        """The editable dialogue of a day."""
        return self.scripts / f"{day.isoformat()}.yaml"

    def digest(self, day: dt.date) -> Path:
        """Where a fetched and translated day's digest is kept, beside its script."""
        return self.scripts / f"{day.isoformat()}_daily_paper.md"

    @property
    def episodes(self) -> Path:
        return self.root / "episodes"

    def episode(self, day: dt.date) -> Path:
        return self.episodes / day.isoformat()

    def manifest(self, day: dt.date) -> Path:
        return self.episode(day) / MANIFEST

    def manifests(self) -> list[Path]:
        """Every published ``episode.json``; hidden staging folders are not published."""
        return [p for p in sorted(self.episodes.glob(f"*/{MANIFEST}")) if not p.parent.name.startswith(".")]

    def published(self, unreadable: list[str] | None = None) -> list[Episode]:
        """Every readable published episode, validated once, newest first.

        A damaged ``episode.json`` is left out, not fatal: one bad day must not stop every later
        publish. Its one-line reason is appended to ``unreadable`` for the caller to name."""
        found = []
        for path in self.manifests():
            try:
                found.append(Episode.read(path))
            except PublishError as exc:
                if unreadable is not None:
                    unreadable.append(f"{exc} (left out of the feed)")
        found.sort(key=lambda e: e.date, reverse=True)
        return found

    @property
    def state(self) -> Path:
        """Run state that is never published (locks): beside, not inside, episodes/ and feed/."""
        return self.root / STATE

    def day_lock(self, day: dt.date) -> Path:
        return self.state / f"lock-{day.isoformat()}"

    @property
    def feed_lock(self) -> Path:
        return self.state / "lock-feed"

    def audio_name(self, day: dt.date) -> str:
        return f"{self.show.slug}-{day.isoformat()}.mp3"

    @property
    def feed_dir(self) -> Path:
        return self.root / "feed"

    @property
    def feed_file(self) -> Path:
        return self.feed_dir / "feed.xml"

    @property
    def show_page_file(self) -> Path:
        return self.feed_dir / PAGE

    def legacy_state(self) -> list[Path]:
        """Locks and markers older versions left inside the published folders."""
        return [*self.episodes.glob(".lock-*"), self.feed_dir / ".lock",
                self.feed_dir / f".{FONT}.sha256"]

    # ---------------------------------------------------------------- web
    @property
    def is_local(self) -> bool:
        """True while ``base_url`` points at this machine (a preview, not a publication)."""
        host = urllib.parse.urlsplit(self.show.base_url).hostname or ""
        return host in ("localhost", "0.0.0.0", "::1") or host.startswith("127.") or host.endswith(
            ".localhost")

    @property
    def feed_url(self) -> str:
        return self.show.base_url + "feed/feed.xml"

    @property
    def site_url(self) -> str:
        """The show's home: ``[show] website`` or the show page. The feed links the folder
        (``feed/``), the digest the page itself (``feed/index.html``); both name one page."""
        return self.show.website or self.show.base_url + "feed/"

    @property
    def show_page_url(self) -> str:
        return self.show.website or self.show.base_url + "feed/" + PAGE

    def feed_asset_url(self, name: str) -> str:
        """A file published beside the feed (the cover)."""
        return self.show.base_url + "feed/" + name

    def episode_url(self, day: dt.date | str) -> str:
        """The episode's folder; its page, enclosure, transcripts and chapters are inside."""
        return f"{self.show.base_url}episodes/{day if isinstance(day, str) else day.isoformat()}/"

    @property
    def media_base_url(self) -> str:
        """Where the MP3s are served: ``[show] media_base_url``, else beside the pages."""
        return self.show.media_base_url or self.show.base_url

    @property
    def media_apart(self) -> bool:
        """True when the MP3s are served from somewhere other than the pages (a bucket)."""
        return self.media_base_url != self.show.base_url

    @staticmethod
    def media_path(day: dt.date, audio: str) -> str:
        """An MP3's path under both the project root and the media URL (and the bucket prefix),
        so one name finds the file on disk, in the bucket and on the web."""
        return f"episodes/{day.isoformat()}/{audio}"

    def enclosure_url(self, day: dt.date, audio: str) -> str:
        return self.media_base_url + self.media_path(day, audio)

    def audio_link(self, day: dt.date, audio: str, *, from_show: bool = False) -> str:
        """The MP3 as a page links it: relative while it sits beside the pages (a copied folder
        keeps working), the media URL when it is served apart. ``from_show``: from feed/index.html,
        else from a page in the episode's own folder."""
        if self.media_apart:
            return self.enclosure_url(day, audio)
        return (self.episode_from_show(day) if from_show else "") + audio

    # relative links between the pages, so a copied folder keeps working
    FONT_FROM_EPISODE = FONT  # each episode folder has the subset of its own pages
    FONT_FROM_SHOW = FONT

    @staticmethod
    def episode_from_show(day: dt.date | str) -> str:
        return f"../episodes/{day if isinstance(day, str) else day.isoformat()}/"


def _check_voices(where: Path, preset: VoicePreset, engine: str) -> None:
    """Each host's table for ``engine``, validated by the engine's ``voice_model`` when it has one."""
    model = getattr(plugins.engines.get(engine), "voice_model", None)
    if model is None:
        return
    for host in preset.hosts:
        try:
            model.model_validate(preset.voice(engine, host.id))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "(table)"
            raise ConfigError(where, f"engines.{engine}.{host.id}: {field}: {err['msg']}") from exc


@dataclass(frozen=True)
class Project:
    """A project root with its settings, voice preset and the chosen engine, writer and strictness."""

    root: Path
    settings: Settings
    voices: VoicePreset
    engine: str = "kokoro"
    writer: str = "template"
    strict: bool = False
    allow_partial: bool = False  # accept a cut-off digest, leaving its last paper out
    length: str = "default"  # a length preset: short, default ([script] minutes_per_paper) or long
    check: bool = False  # hear the lines back before packaging (the CLI turns it on when it can run)

    @classmethod
    def open(cls, root: Path, voices: str | None = None, *, engine: str | None = None,
             writer: str | None = None, strict: bool = False, allow_partial: bool = False,
             length: str | None = None, check: bool = False) -> Project:
        """Read the settings and the preset, and check every choice against the registries."""
        settings = load_settings(root)
        engine_name = plugins.engines.check(engine or settings.engine)
        writer_name = plugins.writers.check(writer or settings.writer)
        if length not in (None, "default", *LENGTH_PRESETS):
            raise UsageError(f"unknown length {length!r}; choose short, default or long")
        preset = load_voices(root, voices or settings.voices)
        _check_voices(root / "voices" / f"{voices or settings.voices}.toml", preset, engine_name)
        if check:
            plugins.recognisers.check(settings.listen.recogniser)
        return cls(root, settings, preset, engine_name, writer_name, strict, allow_partial,
                   length or "default", check)

    @cached_property
    def layout(self) -> Layout:
        return Layout(self.root, self.settings.show)

    @property
    def hosts(self) -> list[Host]:
        """The hosts a new script gets: the preset's first one or two ([script] hosts)."""
        return self.voices.hosts[: self.settings.script.hosts]

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_NAME

    def lexicon(self) -> Lexicon:
        return load_lexicon(self.root)

    @cached_property
    def phrases(self) -> Phrases:
        """The phrase banks and glossary: the built-in ones plus the project's voices/phrases.toml."""
        return load_phrases(self.root)

    def length_plan(self, engine: str | None = None) -> LengthPlan:
        """Budgets from the settings and the length preset, timed with the speaking engine's pace."""
        s = self.settings
        pace = getattr(plugins.engines.get(engine or self.engine), "pace", ZHTTS_PACE)
        minutes = LENGTH_PRESETS.get(self.length, s.script.minutes_per_paper)
        return LengthPlan(pace=pace, minutes_per_paper=minutes,
                          max_minutes=s.script.max_minutes, turn_pause=s.audio.turn_pause)

    def resolve_script(self, target: str) -> Path:
        """Accept a script path or a date (YYYY-MM-DD) meaning scripts/DATE.yaml."""
        try:
            return self.layout.script(dt.date.fromisoformat(target))
        except ValueError:
            pass
        path = Path(target)
        if not path.exists():
            raise UsageError(f"{target}: no such script (give a path or a date like 2025-01-09)")
        return path
