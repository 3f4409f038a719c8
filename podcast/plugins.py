"""Speech engines and script writers are plug-ins, found through entry points.

A distribution declares its plug-ins in its ``pyproject.toml``; this project's
own are declared the same way, so a third party's engine is a peer of the
built-in ones::

    [project.entry-points."podcast.engines"]
    kokoro = "podcast_kokoro:KokoroEngine"

    [project.entry-points."podcast.writers"]
    mine = "my_pkg.writer:MyWriter"

``register_engine`` / ``register_writer`` add one in-process (tests, notebooks);
an in-process registration wins over an entry point of the same name. Nothing
is imported until a plug-in is asked for by name, so listing names and
``--help`` stay cheap. What an engine must offer is in ``podcast.speech``'s
docstring; a writer follows ``podcast.writer.ScriptWriter``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from .errors import UnknownPlugin

ENGINES = "podcast.engines"
WRITERS = "podcast.writers"
RECOGNISERS = "podcast.recognisers"

T = TypeVar("T", bound=Callable[..., Any])


class Registry:
    """Plug-ins of one kind by name: registered in-process, else loaded from an entry point."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._registered: dict[str, Any] = {}

    def register(self, plugin: T, name: str | None = None) -> T:
        self._registered[name or plugin.name] = plugin  # type: ignore[attr-defined]
        return plugin

    def unregister(self, name: str) -> None:
        self._registered.pop(name, None)

    def names(self) -> list[str]:
        """Every known name, without importing any plug-in."""
        return sorted({*self._registered, *(ep.name for ep in entry_points(group=self.group))})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def get(self, name: str) -> Any:
        """The plug-in's class or factory; ``UnknownPlugin`` (exit 2) names the known ones."""
        if name not in self._registered:
            found = entry_points(group=self.group, name=name)
            if not found:
                raise UnknownPlugin(self.kind, name, self.names())
            self._registered[name] = next(iter(found)).load()
        return self._registered[name]

    def check(self, name: str) -> str:
        """``name`` if it is known (without importing it), else ``UnknownPlugin``."""
        if name not in self:
            raise UnknownPlugin(self.kind, name, self.names())
        return name


engines = Registry("speech engine", ENGINES)
writers = Registry("writer", WRITERS)
recognisers = Registry("speech recogniser", RECOGNISERS)


def register_engine(plugin: T, name: str | None = None) -> T:
    """Make an engine class (or factory with the same class attributes) available by name."""
    return engines.register(plugin, name)


def register_recogniser(plugin: T, name: str) -> T:
    """Make a speech recogniser factory available by name (see ``podcast.episode.listen``)."""
    return recognisers.register(plugin, name)


def register_writer(plugin: T, name: str | None = None) -> T:
    """Make a writer class (or factory taking ``WriterOptions``) available by name."""
    return writers.register(plugin, name)
