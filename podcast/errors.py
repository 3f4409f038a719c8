"""One exception tree for the whole project.

    PodcastError                 anything the CLI reports as a one-line message
    ├── InputError               a file we were given is wrong (exit 2)
    │   ├── DigestError          the digest Markdown
    │   ├── ScriptError          a script YAML (often hand-edited)
    │   └── ConfigError          podcast.toml or a voice preset
    ├── EngineError              a speech engine failed (exit 1)
    ├── AudioError               assembling, measuring or encoding audio failed
    └── PublishError             writing the episode folder or the feed failed

Third-party exceptions are wrapped at the boundary so callers only catch these.
"""

from __future__ import annotations

from pathlib import Path


class PodcastError(Exception):
    """Base class; ``str(err)`` is the one line the CLI prints."""

    exit_code = 1


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


class EngineError(PodcastError):
    """A speech engine could not synthesize a line."""


class AudioError(PodcastError):
    """Stitching, loudness normalisation or encoding failed."""


class PublishError(PodcastError):
    """Episode files or the feed could not be written."""
