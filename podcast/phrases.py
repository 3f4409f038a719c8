"""The template writer's phrase banks and plain-language glossary, as data.

They live in ``podcast/data/phrases.toml`` so a project can add its own
phrases or concepts in ``ROOT/voices/phrases.toml`` (the way
``voices/lexicon.toml`` extends the pronunciation lexicon) without touching
code. Both files are validated once on loading: an unknown bank, a bank that
is not a list of strings, a phrase with a digit or an unknown placeholder, or
a concept whose pattern does not compile is an error naming the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import ConfigError

BUILTIN = Path(__file__).parent / "data" / "phrases.toml"
_FIELDS = {"title", "topic", "name", "bench", "concept"}


@dataclass(frozen=True)
class Concept:
    """A term explained in plain words, only where the paper uses it as its own concept."""

    label: str
    match: re.Pattern[str]
    explain: str
    not_within: tuple[str, ...] = ()

    def occurs_in(self, text: str) -> bool:
        """True when the term occurs on its own, not only inside a longer term (分数蒸馏采样)."""
        masked = text
        for longer in self.not_within:
            masked = re.sub(re.escape(longer), "\x00" * len(longer), masked, flags=re.I)
        return bool(self.match.search(masked))


@dataclass(frozen=True)
class Phrases:
    banks: dict[str, tuple[str, ...]]
    concepts: tuple[Concept, ...] = field(default=())

    def __getitem__(self, bank: str) -> tuple[str, ...]:
        return self.banks[bank]

    def concept(self, label: str) -> Concept | None:
        return next((c for c in self.concepts if c.label == label), None)


def _parse(path: Path, known: set[str] | None) -> tuple[dict[str, list[str]], list[Concept]]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"invalid TOML: {exc}") from exc
    extra = set(data) - {"banks", "concepts"}
    if extra:
        raise ConfigError(path, f"unknown tables {sorted(extra)}; use [banks] and [[concepts]]")
    banks: dict[str, list[str]] = {}
    for name, phrases in data.get("banks", {}).items():
        if known is not None and name not in known:
            raise ConfigError(path, f"[banks] {name}: unknown bank (known: {', '.join(sorted(known))})")
        if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
            raise ConfigError(path, f"[banks] {name}: expected a list of strings")
        for phrase in phrases:
            if re.search(r"\d", phrase):
                raise ConfigError(path, f"[banks] {name}: {phrase!r} has a digit; hosts say only the "
                                        "abstract's figures")
            unknown = set(re.findall(r"\{(\w*)\}", phrase)) - _FIELDS
            if unknown:
                raise ConfigError(path, f"[banks] {name}: {phrase!r} uses unknown fields {sorted(unknown)}")
        banks[name] = phrases
    concepts = []
    for i, entry in enumerate(data.get("concepts", [])):
        where = f"[[concepts]] #{i + 1}"
        if not isinstance(entry, dict) or not {"label", "match", "explain"} <= set(entry):
            raise ConfigError(path, f"{where}: needs label, match and explain")
        if re.search(r"\d", entry["explain"]):
            raise ConfigError(path, f"{where}: the explanation has a digit")
        try:
            pattern = re.compile(entry["match"], re.I)
        except re.error as exc:
            raise ConfigError(path, f"{where}: bad pattern {entry['match']!r}: {exc}") from exc
        concepts.append(Concept(str(entry["label"]), pattern, str(entry["explain"]),
                                tuple(entry.get("not_within", ()))))
    return banks, concepts


@lru_cache(maxsize=8)
def _load(extra: Path | None) -> Phrases:
    banks, concepts = _parse(BUILTIN, None)
    if extra is not None:
        more, more_concepts = _parse(extra, set(banks))
        for name, phrases in more.items():
            banks[name] = list(dict.fromkeys([*banks[name], *phrases]))
        by_label = {c.label: c for c in concepts}
        by_label.update({c.label: c for c in more_concepts})
        concepts = list(by_label.values())
    return Phrases({k: tuple(v) for k, v in banks.items()}, tuple(concepts))


def load_phrases(root: Path | None = None) -> Phrases:
    """The built-in phrases, extended by ``ROOT/voices/phrases.toml`` when it exists."""
    path = root / "voices" / "phrases.toml" if root is not None else None
    return _load(path.resolve() if path is not None and path.exists() else None)
