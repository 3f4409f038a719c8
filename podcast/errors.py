"""One exception tree for the whole project, mapped to exit codes at the one CLI boundary.

    PodcastError                 anything the CLI reports as a one-line message (exit 1)
    ├── UsageError               a command was given something it cannot use (exit 2)
    │   └── UnknownPlugin        --engine/--writer (or podcast.toml) names no registered plug-in
    ├── InputError               a file we were given is wrong (exit 2)
    │   ├── DigestError          the digest Markdown
    │   ├── ScriptError          a script YAML (often hand-edited)
    │   ├── ConfigError          podcast.toml or a voice preset
    │   └── ApiFormatError       an answer of the daily-papers API that is not the list
    ├── FetchError               the daily-papers API could not be reached or kept failing
    ├── LLMError                 the chat model
    │   ├── LLMUnavailable       none configured, or unreachable, refusing, rate-limited for good
    │   └── LLMInvalid           kept answering with something that does not validate
    ├── EngineError              a speech engine failed on a line (a fallback may take it)
    │   └── EngineUnavailable    the engine cannot work at all now: the whole run switches
    ├── ListenFailed             a line still unintelligible after the listen-back repairs (--strict)
    ├── AudioError               assembling, measuring or encoding audio failed
    ├── PublishError             writing the episode folder or the feed failed
    ├── StorageError             the disk refused a write (read-only, full, not a folder)
    ├── UploadError              the bucket could not be reached, refused the keys or a request
    └── SetupError               an installed part is missing (a font, a model): reinstall

Third-party exceptions are wrapped at the boundary so callers only catch these.
A day without papers is not here: it is a result (``podcast.hfapi.NoPapers``).
"""

from __future__ import annotations

from pathlib import Path


class PodcastError(Exception):
    """Base class; ``str(err)`` is the one line the CLI prints."""

    exit_code = 1


class UsageError(PodcastError):
    """An option or argument the command cannot use."""

    exit_code = 2


class UnknownPlugin(UsageError):
    """No engine or writer of that name is registered."""

    def __init__(self, kind: str, name: str, available: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.available = available
        super().__init__(f"unknown {kind} {name!r}; available: {', '.join(sorted(available))}")


class InputError(PodcastError):
    """Bad input named by file and, where known, line or field."""

    exit_code = 2

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class DigestError(InputError):
    """The digest Markdown cannot be read as a daily paper digest."""


class ScriptError(InputError):
    """A script file is malformed."""


class ConfigError(InputError):
    """podcast.toml or a voice preset is malformed."""


class ApiFormatError(InputError):
    """An answer that is not the daily-papers list (names the file or URL)."""


class FetchError(PodcastError):
    """The API could not be reached or kept failing."""


class LLMError(PodcastError):
    """The chat model could not give a usable answer."""


class LLMUnavailable(LLMError):
    """No model configured, or the endpoint is unreachable, refusing, or rate-limited for good."""


class LLMInvalid(LLMError):
    """The model kept answering with something that does not pass validation."""


class EngineError(PodcastError):
    """A speech engine could not synthesize a line."""


class EngineUnavailable(EngineError):
    """The engine cannot work at all right now (offline, blocked, refused): retrying line by
    line is pointless, so the whole run switches engines instead."""


class ListenFailed(PodcastError):
    """A line still unintelligible after the listen-back stage spoke it again (``--strict``)."""


class AudioError(PodcastError):
    """Stitching, loudness normalisation or encoding failed."""


class PublishError(PodcastError):
    """Episode files or the feed could not be written."""


class StorageError(PodcastError):
    """The operating system refused to write a file or a folder; names the path and the reason."""

    def __init__(self, path: str | Path, reason: str, hint: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: cannot write: {reason}{f' ({hint})' if hint else ''}")


class UploadError(PodcastError):
    """Copying to the S3-compatible bucket failed; the message names the endpoint and the bucket."""


class SetupError(PodcastError):
    """Something the installation should provide is missing; the message says how to fix it."""
