"""Settings from ``podcast.toml`` and voice presets from ``voices/``.

Every setting has a default, so a root without ``podcast.toml`` works. Unknown
keys are errors (a typo should not be silently ignored).
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from . import plugins
from .errors import ConfigError
from .models import Host, http_url
from .textnorm import Lexicon, LexiconError, builtin_lexicon, read_lexicon

CONFIG_NAME = "podcast.toml"
# Presets ship in the top-level voices/ folder; wheels carry a copy as podcast/_voices.
BUILTIN_VOICES = (Path(__file__).parent.parent / "voices", Path(__file__).parent / "_voices")


# Apple Podcasts categories and their subcategories; a directory rejects a feed with any other.
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition",
                         "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies",
                "Home & Garden", "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics",
             "Sports News", "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion",
                                "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics",
                "Natural Sciences", "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel",
                          "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey",
               "Rugby", "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}
MP3_SAMPLE_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)  # what MP3 can carry


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShowSettings(_Section):
    """Channel-level facts of the podcast, as the feed publishes them."""

    title: str = Field(default="AI论文早班车", min_length=1, max_length=255)
    slug: str = Field(default="ai-paper-daily", pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = (
        "每个工作日，两位主持人用中文聊聊 Hugging Face 每日热门 AI 论文："
        "它们解决什么问题、怎么做、效果如何。每篇论文一个章节，附文字稿和论文链接。"
    )
    author: str = "AI论文早班车"
    email: str = "podcast@example.com"
    base_url: str = "http://127.0.0.1:8000/"
    # where the MP3s are served when not beside the pages (a bucket or its CDN); unset: base_url
    media_base_url: str | None = None
    website: str | None = None
    language: str = "zh-cn"
    category: str = "Technology"
    subcategory: str | None = None
    explicit: bool = False
    cover: str | None = None
    timezone: str = "Asia/Shanghai"
    publish_hour: int = Field(default=8, ge=0, le=23)
    # the channel's podcast:guid; unset, the published feed's one is kept (see feed.show_guid)
    guid: str | None = Field(default=None, pattern=r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")

    @field_validator("base_url", "media_base_url")
    @classmethod
    def _ascii_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.isascii() or not value.startswith(("http://", "https://")):
            raise ValueError("must be an ASCII http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("title")
    @classmethod
    def _has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the show needs a title (directories and apps list it by this)")
        return value.strip()

    _website = field_validator("website")(http_url)  # it becomes the feed's <link> and an href

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name like 'Asia/Shanghai')") from exc
        return value

    @field_validator("category")
    @classmethod
    def _apple_category(cls, value: str) -> str:
        if value not in APPLE_CATEGORIES:
            raise ValueError(f"{value!r} is not an Apple Podcasts category (e.g. 'Technology', 'Science', "
                             "'Education')")
        return value

    @field_validator("subcategory")
    @classmethod
    def _apple_subcategory(cls, value: str | None, info: ValidationInfo) -> str | None:
        category = info.data.get("category")
        if value is not None and category in APPLE_CATEGORIES and value not in APPLE_CATEGORIES[category]:
            allowed = ", ".join(APPLE_CATEGORIES[category]) or "none"
            raise ValueError(f"{value!r} is not an Apple Podcasts subcategory of {category!r} "
                             f"(allowed: {allowed})")
        return value


class AudioSettings(_Section):
    """Loudness target and MP3 encoding."""

    loudness: float = Field(default=-16.0, ge=-30, le=-10)
    true_peak: float = Field(default=-1.5, ge=-6, le=-0.5)
    bitrate: int = Field(default=64, ge=32, le=192)
    sample_rate: int = 44100

    @field_validator("sample_rate")
    @classmethod
    def _mp3_rate(cls, value: int) -> int:
        if value not in MP3_SAMPLE_RATES:
            raise ValueError(f"{value} Hz cannot be encoded as MP3 "
                             f"(use one of {', '.join(map(str, MP3_SAMPLE_RATES))})")
        return value
    turn_pause: float = Field(default=0.4, ge=0, le=3)  # between turns
    question_pause: float = Field(default=0.25, ge=0, le=3)  # after a question
    segment_pause: float = Field(default=1.0, ge=0, le=5)  # before a new paper
    breath_seconds: float = Field(default=5.0, ge=2, le=30)  # longest piece a line is spoken in
    # Off by default: a daily briefing is listened to for its speech (often sped up); a synthesised
    # bed under the opening competes with a synthetic voice, and a 64 kbps mono stream smears it.
    music: bool = False


class ListenSettings(_Section):
    """The listen-back stage: which recogniser, how much of the programme it may cost, when a line fails."""

    recogniser: str = "whisper"  # a plug-in of the podcast.recognisers group
    budget: float = Field(default=0.15, ge=0, le=5)  # recogniser CPU-s per programme second
    # CER above which a line is spoken again; None: the engine's own ``asr_threshold``
    threshold: float | None = Field(default=None, gt=0, le=5)


class ScriptSettings(_Section):
    """Format and length of the dialogue the writer produces."""

    hosts: int = Field(default=2, ge=1, le=2)  # 1 = a solo show
    minutes_per_paper: float = Field(default=1.0, gt=0, le=10)
    max_minutes: float = Field(default=30.0, gt=0, le=180)


class LLMSettings(_Section):
    """An OpenAI-compatible chat model for translation and the ``llm`` writer.

    The API key is only ever read from the environment variable named here;
    ``OPENAI_BASE_URL`` and ``PODCAST_LLM_MODEL`` (or ``OPENAI_MODEL``), when
    set, override ``base_url`` and ``model`` so CI can switch endpoints.
    """

    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    repairs: int = Field(default=2, ge=0, le=5)  # re-asks after an invalid answer
    concurrency: int = Field(default=4, ge=1, le=32)
    batch: int = Field(default=5, ge=1, le=50)  # papers per translation request
    temperature: float = Field(default=0.7, ge=0, le=2)
    response_format: str = Field(default="json_object", pattern=r"^(json_object|json_schema)$")


class UploadSettings(_Section):
    """The S3-compatible bucket ``podcast upload`` copies the MP3s to (AWS S3, Cloudflare R2,
    Aliyun OSS, MinIO). Keys are never read from here: boto3 takes them from the environment."""

    bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    endpoint_url: str | None = None  # unset: AWS S3 (or boto3's AWS_ENDPOINT_URL_S3)
    region: str | None = None  # R2: "auto"; unset: boto3's AWS_REGION, else us-east-1
    prefix: str = ""  # keys are PREFIX + episodes/DATE/FILE.mp3, the path under media_base_url
    addressing_style: Literal["auto", "path", "virtual"] = "auto"  # Aliyun OSS requires "virtual"
    retries: int = Field(default=4, ge=0, le=10)  # transport retries of each request
    timeout: float = Field(default=60.0, gt=0)  # seconds a request may stall

    _endpoint = field_validator("endpoint_url")(http_url)

    @field_validator("prefix")
    @classmethod
    def _folder(cls, value: str) -> str:
        value = value.strip("/")
        parts = value.split("/") if value else []
        if not value.isascii() or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"{value!r} is not a folder-like key prefix (e.g. 'podcast' or 'shows/daily')")
        return value + "/" if value else ""


class Settings(_Section):
    """The whole configuration of one project root.

    A table named after a speech engine (``[edge]``) belongs to that engine: it is
    validated by the engine's own ``settings_model`` and handed to the engine.
    """

    engine: str = "kokoro"
    writer: str = "template"
    voices: str = "default"
    show: ShowSettings = ShowSettings()
    script: ScriptSettings = ScriptSettings()
    audio: AudioSettings = AudioSettings()
    llm: LLMSettings = LLMSettings()
    listen: ListenSettings = ListenSettings()
    upload: UploadSettings = UploadSettings()
    _engines: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    def engine_settings(self, name: str) -> Any:
        """Engine ``name``'s validated table, its defaults when absent, None if it has no model."""
        if name not in self._engines:
            model = getattr(plugins.engines.get(name), "settings_model", None)
            if model is None:
                return None
            self._engines[name] = model()
        return self._engines[name]


# Environment variables that override a field of podcast.toml when set and not empty.
ENV_OVERRIDES: dict[tuple[str, str], str] = {
    ("show", "base_url"): "PODCAST_BASE_URL",
    ("show", "media_base_url"): "PODCAST_MEDIA_BASE_URL",
    ("upload", "bucket"): "PODCAST_UPLOAD_BUCKET",
    ("upload", "endpoint_url"): "PODCAST_UPLOAD_ENDPOINT_URL",
}


def load_settings(root: Path) -> Settings:
    """Read ``ROOT/podcast.toml`` if present; errors name the file and the field.

    The variables of ``ENV_OVERRIDES`` (``PODCAST_BASE_URL`` ...) override their fields.
    """
    path = root / CONFIG_NAME
    data = _read_toml(path) if path.exists() else {}
    for (table, key), variable in ENV_OVERRIDES.items():
        value = os.environ.get(variable)
        if value:  # CI sets the published addresses without editing podcast.toml
            section = data.get(table, {})
            data = {**data, table: {**(section if isinstance(section, dict) else {}), key: value}}
    sections = {key: data.pop(key) for key in list(data)
                if key not in Settings.model_fields and isinstance(data[key], dict)
                and key in plugins.engines}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, _first_error(exc)) from exc
    for name, table in sections.items():
        model = getattr(plugins.engines.get(name), "settings_model", None)
        if model is None:
            raise ConfigError(path, f"{name}: the {name} engine takes no settings")
        try:
            settings._engines[name] = model.model_validate(table)
        except ValidationError as exc:
            raise ConfigError(path, f"{name}.{_first_error(exc)}") from exc
    return settings


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, f"invalid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read: {exc}") from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return f"{where}: {err['msg']}"


class VoicePreset(_Section):
    """Hosts plus, per engine, a settings table per host id."""

    hosts: list[Host] = Field(min_length=1, max_length=4)
    engines: dict[str, dict[str, dict[str, Any]]] = {}

    def voice(self, engine: str, host_id: str) -> dict[str, Any]:
        return dict(self.engines.get(engine, {}).get(host_id, {}))


def load_voices(root: Path, name: str) -> VoicePreset:
    """Find ``voices/NAME.toml`` in the project root, else the copy shipped in the package."""
    for folder in (root / "voices", *BUILTIN_VOICES):
        path = folder / f"{name}.toml"
        if path.exists():
            try:
                return VoicePreset.model_validate(_read_toml(path))
            except ValidationError as exc:
                raise ConfigError(path, _first_error(exc)) from exc
    raise ConfigError(root / "voices" / f"{name}.toml", f"voice preset {name!r} not found")


def load_lexicon(root: Path) -> Lexicon:
    """The built-in pronunciation lexicon, extended by ``ROOT/voices/lexicon.toml``."""
    path = root / "voices" / "lexicon.toml"
    if not path.exists() or any(path.resolve() == (b / "lexicon.toml").resolve() for b in BUILTIN_VOICES):
        return builtin_lexicon()
    try:
        return builtin_lexicon().merged(read_lexicon(path))
    except LexiconError as exc:
        raise ConfigError(path, str(exc)) from exc
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc}") from exc
