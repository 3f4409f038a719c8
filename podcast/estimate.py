"""What a run would spend (``build --dry-run``): papers, characters, tokens and minutes."""

from __future__ import annotations

from dataclasses import dataclass

from .hfapi import ApiPaper
from .llm import estimate_tokens
from .models import Digest
from .project import Project
from .writer import get_writer


@dataclass(frozen=True)
class Estimate:
    """What a run would spend, printed by ``--dry-run`` before anything is spent."""

    papers: int
    source_chars: int  # English titles and abstracts to translate (0 for a ready digest)
    translate_tokens: int
    script_chars: int
    write_tokens: int  # 0 for the template writer
    llm_calls: int
    minutes: float

    def lines(self) -> list[str]:
        return [f"papers        {self.papers}",
                f"translation   {self.source_chars:,} characters in, ~{self.translate_tokens:,} tokens",
                f"script        ~{self.script_chars:,} characters, ~{self.write_tokens:,} LLM tokens",
                f"LLM requests  ~{self.llm_calls} (before any repairs)",
                f"audio         ~{self.minutes:.1f} minutes"]


def estimate(project: Project, digest: Digest | None, api_papers: list[ApiPaper] | None = None) -> Estimate:
    """Estimate characters, tokens and minutes from the digest (or the API list) alone."""
    plan = project.length_plan()
    count = len(digest.papers) if digest else len(api_papers or [])
    source = "".join(p.title + p.summary for p in api_papers or [])
    batch = project.settings.llm.batch
    translate_calls = -(-len(api_papers or []) // batch)
    translate_tokens = round(estimate_tokens(source) * 1.9) + 600 * translate_calls if source else 0
    seconds = sum(plan.budgets(count)) + 60
    if digest is not None and project.writer == "template":
        hosts = project.hosts
        script = get_writer("template").write(digest, hosts, project.settings.show.title, plan)
        seconds = sum(plan.lines_seconds([ln.text for ln in seg.lines]) for seg in script.segments)
    script_chars = round(seconds / plan.pace.han)
    write_tokens = calls = 0
    if project.writer == "llm":
        calls = count + 2
        # per request: ~900 tokens of instructions and ~120 of carried conversation, plus the
        # paper's Chinese abstract (about 0.9x the English tokens) in and the dialogue out
        abstracts = (estimate_tokens("".join(p.abstract_zh for p in digest.papers)) if digest
                     else round(estimate_tokens(source) * 0.9))
        write_tokens = calls * (900 + 120) + abstracts + round(script_chars / 1.5)
    return Estimate(count, len(source), translate_tokens, script_chars, write_tokens, calls + translate_calls,
                    round(seconds / 60, 1))
