import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from podcast.cli import SAMPLE, main
from podcast.digest import parse_digest, read_digest
from podcast.errors import DigestError

from .conftest import DATA, FAST_BUILD, SHARED


def as_json(path: Path) -> dict:
    d = read_digest(path)
    return {"date": d.date.isoformat(), "stated_count": d.stated_count, "hot_topics": list(d.hot_topics),
            "papers": [{k: v for k, v in dataclasses.asdict(p).items() if k != "line"} for p in d.papers]}


@pytest.mark.parametrize("source", [SAMPLE, DATA / "2026-03-02_daily_paper.md"], ids=["links", "empty-links"])
def test_golden(source: Path) -> None:
    expected = json.loads((DATA / source.name.replace(".md", ".expected.json")).read_text("utf-8"))
    assert as_json(source) == expected


def test_wrapped_original_title_is_joined() -> None:
    paper = read_digest(DATA / "2026-03-02_daily_paper.md").papers[0]
    assert paper.title_en == ("Origami-RAG: Foldable Indexes for Retrieval-Augmented Generation over "
                              "Very Long Documents")
    assert paper.short_name == "Origami-RAG"


def test_bom_and_crlf_are_accepted() -> None:
    text = SAMPLE.read_text("utf-8").replace("\n", "\r\n")
    digest = parse_digest("\ufeff" + text)
    assert len(digest.papers) == 4 and digest.papers[3].arxiv_id == "2611.10004"


def _broken(tmp_path: Path, old: str, new: str, name: str = "2026-11-20_daily_paper.md") -> Path:
    path = tmp_path / name
    path.write_text(SAMPLE.read_text("utf-8").replace(old, new, 1), "utf-8")
    return path


def test_missing_abstract_names_file_and_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "**摘要：**\n语音助手", "语音助手")
    result = CliRunner().invoke(main, ["write", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 2
    line = next(i for i, t in enumerate(path.read_text("utf-8").splitlines(), 1) if t.startswith("### 2."))
    assert f"{path}:{line}: paper 2 has no '**摘要：**' section" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "scripts").exists()


def test_no_papers(tmp_path: Path) -> None:
    path = tmp_path / "2026-11-20_daily_paper.md"
    path.write_text("# Hugging Face 2026-11-20 论文日报\n\n## 📝 论文详情\n\n", "utf-8")
    with pytest.raises(DigestError, match=r":3: no papers found"):
        read_digest(path)


def test_no_date(tmp_path: Path) -> None:
    path = _broken(tmp_path, "2026-11-20 论文日报", "论文日报", name="digest.md")
    result = CliRunner().invoke(main, ["build", *FAST_BUILD, str(path), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{path}:2: title has no date" in result.output


def test_count_mismatch_is_a_warning(tmp_path: Path) -> None:
    path = _broken(tmp_path, "总论文数：4", "总论文数：5")
    result = CliRunner().invoke(main, ["write", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "states 5 papers but 4 were found" in result.output
    assert (tmp_path / "scripts" / "2026-11-20.yaml").exists()


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "2026-11-20_daily_paper.md"
    path.write_bytes(b"# Hugging Face 2026-11-20\n\xff\xfe\xfa")
    with pytest.raises(DigestError, match=r":2: not valid UTF-8"):
        read_digest(path)


@pytest.mark.skipif(not SHARED.exists(), reason="real newsletters not present")
def test_every_real_newsletter_parses() -> None:
    files = sorted((SHARED / "newsletters").glob("*_daily_paper.md"))
    assert files
    for f in files:
        d = read_digest(f)
        assert d.stated_count == len(d.papers), f
        assert d.date.isoformat() in f.name
        assert all(p.abstract_zh and p.title_zh and p.title_en for p in d.papers), f
        if d.date.isoformat() >= "2025-01-13":
            assert sum(p.arxiv_id is not None for p in d.papers) >= len(d.papers) - 1, f


CUT = SAMPLE.read_text("utf-8")[: SAMPLE.read_text("utf-8").index("负载失衡") + 4]


def test_a_cut_off_digest_is_refused_unless_allowed(tmp_path: Path) -> None:
    with pytest.raises(DigestError, match=r"^<digest>:44: the file ends inside paper 3"):
        parse_digest(CUT)
    digest = parse_digest(CUT, allow_partial=True)
    assert [p.rank for p in digest.papers] == [1, 2]
    assert any(":44: the file ends inside paper 3" in w and "left out" in w for w in digest.warnings)
    assert digest.notes == ("paper 3 was left out: the digest ends inside it",)
    path = tmp_path / "2026-11-20_daily_paper.md"
    path.write_text(CUT, "utf-8")
    result = CliRunner().invoke(main, ["write", str(path), "--out", str(tmp_path), "--allow-partial"])
    assert result.exit_code == 0, result.output
    assert "the file ends inside paper 3" in result.output
    script = (tmp_path / "scripts" / "2026-11-20.yaml").read_text("utf-8")
    assert "paper 3 was left out" in script and "沉睡的专家" not in script


def test_a_complete_last_paper_is_not_cut_off() -> None:
    text = SAMPLE.read_text("utf-8")
    ended = text[: text.index("### 3.")]  # ends after paper 2's closing rule: only a count warning
    digest = parse_digest(ended)
    assert len(digest.papers) == 2 and not digest.notes


def test_xml_illegal_characters_are_removed() -> None:
    bad = "\x00\x01\x0b\x1f\ufffe\uffff\ud800\udfff"
    text = SAMPLE.read_text("utf-8").replace("TinyProver：小模型", f"Tiny{bad}Prover：小模型", 1)
    text = text.replace("Lean", f"Le{bad}an", 2)
    digest = parse_digest(text)
    paper = digest.papers[0]
    assert paper.title_zh.startswith("TinyProver：小模型")
    for value in (paper.title_zh, paper.title_en, paper.abstract_zh):
        assert not any(c in value for c in bad)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<script>", "JAVASCRIPT:x",
                                 "//evil.example/x", "ftp://x/y"])
def test_only_http_links_reach_a_paper(url: str) -> None:
    text = SAMPLE.read_text("utf-8").replace("https://arxiv.org/abs/2611.10001", url, 1)
    digest = parse_digest(text)
    paper = digest.papers[0]
    assert paper.arxiv_url is None and paper.hf_url == "https://huggingface.co/papers/2611.10001"
    assert any("paper 1: link" in w and "not an http(s) URL" in w for w in digest.warnings)
