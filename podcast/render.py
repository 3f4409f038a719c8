"""The jinja2 environment for the pages and the feed's show notes (autoescaped HTML)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape


@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("podcast", "templates"),
                       autoescape=select_autoescape(["html", "j2"]), keep_trailing_newline=True)


def render(template: str, **values: Any) -> str:
    return _env().get_template(template).render(**values)
