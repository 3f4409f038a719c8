"""What a first `uv run podcast demo` installs: the podcast, the test tools, and nothing heavier."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text("utf-8"))
DEV_ONLY = {"pytest", "ruff", "mypy", "playwright", "pyinstrument", "podcastparser", "feedparser", "moto",
            "flask"}


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0].lower() for r in requirements}


def test_development_tools_are_not_runtime_dependencies() -> None:
    assert not names(PYPROJECT["project"]["dependencies"]) & DEV_ONLY


def test_the_s3_client_is_an_optional_extra() -> None:
    """The offline demo never needs boto3: only `podcast upload` does, through `--extra s3`."""
    assert "boto3" not in names(PYPROJECT["project"]["dependencies"])
    assert names(PYPROJECT["project"]["optional-dependencies"]["s3"]) == {"boto3"}


def test_the_browser_driver_and_profiler_are_not_in_the_default_group() -> None:
    groups = PYPROJECT["dependency-groups"]
    default = PYPROJECT.get("tool", {}).get("uv", {}).get("default-groups", ["dev"])
    installed_by_default = set().union(*(names(groups[g]) for g in default))
    assert not installed_by_default & {"playwright", "pyinstrument"}
    assert "pytest" in installed_by_default  # `uv run pytest` still works on its own
    assert names(groups["browser"]) == {"playwright"} and names(groups["profile"]) == {"pyinstrument"}
