"""A small client for any OpenAI-compatible chat model, asking for validated JSON.

Used by translation and the ``llm`` writer. The ``openai`` SDK does transport
retries (429, 5xx, timeouts, honouring Retry-After); this module adds what the
SDK cannot know: the answer must parse as JSON, fit a pydantic model and pass
our own checks, and an invalid answer is asked again with the problems fed
back. Callers get ``LLMUnavailable`` when the endpoint cannot be used at all,
so they can fall back instead of producing an empty episode.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from .config import LLMSettings
from .errors import LLMInvalid, LLMUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)


class Problem(str):
    """A problem with an answer: the text the model is told, and a ``kind`` the caller decides on
    (so no caller reads the wording, which is written for the model and may change)."""

    kind: str

    def __new__(cls, text: str, kind: str = "other") -> Problem:
        made = super().__new__(cls, text)
        made.kind = kind
        return made


def problem_kind(problem: str) -> str:
    """The kind of a problem; plain strings (schema validation messages) are "invalid"."""
    return problem.kind if isinstance(problem, Problem) else "invalid"


@dataclass(frozen=True)
class LLMConfig:
    """Resolved connection settings (environment over ``podcast.toml``)."""

    model: str
    base_url: str | None
    api_key: str
    timeout: float = 60.0
    retries: int = 3
    repairs: int = 2
    concurrency: int = 4
    batch: int = 5
    temperature: float = 0.7
    response_format: str = "json_object"

    @classmethod
    def resolve(cls, settings: LLMSettings, env: dict[str, str] | None = None) -> LLMConfig:
        """Read the key from the environment; raise ``LLMUnavailable`` saying what is missing."""
        env = dict(os.environ) if env is None else env
        key = env.get(settings.api_key_env, "").strip()
        model = env.get("PODCAST_LLM_MODEL") or env.get("OPENAI_MODEL") or settings.model
        if not key:
            raise LLMUnavailable(f"no LLM configured: set {settings.api_key_env} (and [llm] model in "
                                 "podcast.toml or PODCAST_LLM_MODEL)")
        if not model:
            raise LLMUnavailable("no LLM model configured: set [llm] model in podcast.toml "
                                 "or PODCAST_LLM_MODEL")
        return cls(model=model, base_url=env.get("OPENAI_BASE_URL") or settings.base_url, api_key=key,
                   timeout=settings.timeout, retries=settings.retries, repairs=settings.repairs,
                   concurrency=settings.concurrency, batch=settings.batch,
                   temperature=settings.temperature, response_format=settings.response_format)


@dataclass
class Usage:
    """Tokens spent so far, as the endpoint reports them."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


class LLM:
    """One configured endpoint. Thread-safe; ``http_client`` lets tests fake the transport."""

    def __init__(self, config: LLMConfig, http_client: httpx.Client | None = None) -> None:
        import openai

        self.config = config
        self.usage = Usage()
        self._lock = threading.Lock()
        self._openai = openai
        self.client = openai.OpenAI(api_key=config.api_key, base_url=config.base_url,
                                    timeout=config.timeout, max_retries=config.retries,
                                    http_client=http_client)  # type: ignore[arg-type]

    def ask(self, system: str, user: str, model: type[T], name: str,
            check: Callable[[T], list[str]] | None = None) -> tuple[T, list[str]]:
        """Ask for JSON matching ``model``; re-ask with the problems until it validates.

        ``check`` returns problems pydantic cannot see (e.g. invented numbers).
        Returns the answer and the problems that were still there after the
        last repair (the caller decides what to do with them); raises
        ``LLMInvalid`` if no answer ever parsed.
        """
        messages: list[dict[str, str]] = [{"role": "system", "content": system},
                                          {"role": "user", "content": user}]
        best: T | None = None
        problems: list[str] = []
        for attempt in range(self.config.repairs + 1):
            content = self._complete(messages, model, name)
            parsed, problems = self._validate(content, model, check)
            if parsed is not None:
                best = parsed
            if not problems:
                return parsed, []  # type: ignore[return-value]
            log.info("%s: answer %d rejected: %s", name, attempt + 1, "; ".join(problems))
            messages += [{"role": "assistant", "content": content},
                         {"role": "user", "content": "你的回答没有通过校验，请修正后只输出 JSON：\n- "
                          + "\n- ".join(problems)}]
        if best is None:
            raise LLMInvalid(f"{name}: the model's answer never validated ({'; '.join(problems)})")
        return best, problems

    def _validate(self, content: str, model: type[T],
                  check: Callable[[T], list[str]] | None) -> tuple[T | None, list[str]]:
        try:
            data = json.loads(_FENCE.sub("", content))
        except json.JSONDecodeError as exc:
            return None, [f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"]
        try:
            parsed = model.model_validate(data)
        except ValidationError as exc:
            return None, [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        return parsed, (check(parsed) if check else [])

    def _complete(self, messages: list[dict[str, str]], model: type[BaseModel], name: str) -> str:
        openai = self._openai
        if self.config.response_format == "json_schema":
            response_format: dict[str, Any] = {"type": "json_schema", "json_schema": {
                "name": model.__name__, "schema": model.model_json_schema()}}
        else:
            response_format = {"type": "json_object"}
        try:
            response = self.client.chat.completions.create(  # type: ignore[call-overload]
                model=self.config.model, messages=messages,
                temperature=self.config.temperature, response_format=response_format)
        except (openai.APIConnectionError, openai.RateLimitError, openai.AuthenticationError,
                openai.PermissionDeniedError, openai.NotFoundError, openai.InternalServerError) as exc:
            raise LLMUnavailable(f"{name}: {type(exc).__name__}: {_short(exc)}") from exc
        except openai.APIStatusError as exc:
            raise LLMUnavailable(f"{name}: HTTP {exc.status_code}: {_short(exc)}") from exc
        with self._lock:
            self.usage.calls += 1
            if response.usage is not None:
                self.usage.prompt_tokens += response.usage.prompt_tokens or 0
                self.usage.completion_tokens += response.usage.completion_tokens or 0
        if not response.choices or not response.choices[0].message.content:
            return ""
        return response.choices[0].message.content


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def data_block(payload: Any) -> str:
    """Quote input as a JSON data block, so the model reads it as data, not instructions."""
    return "```json\n" + json.dumps(payload, ensure_ascii=False, indent=1) + "\n```"


def estimate_tokens(text: str) -> int:
    """Rough token count for planning: ~1.5 Chinese characters or ~4 other characters per token."""
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    return round(han / 1.5 + (len(text) - han) / 4)
