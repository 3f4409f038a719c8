import itertools
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from podcast.cli import SAMPLE, main
from podcast.config import load_voices
from podcast.digest import read_digest
from podcast.errors import ScriptError
from podcast.writer import dump_script, get_writer, load_script

from .conftest import DATA, SHARED

DIGESTS = [SAMPLE, DATA / "2026-03-02_daily_paper.md"]
if SHARED.exists():
    DIGESTS += sorted((SHARED / "newsletters").glob("*_daily_paper.md"))


def write(path: Path):
    digest = read_digest(path)
    hosts = load_voices(Path("."), "default").hosts
    return digest, get_writer("template").write(digest, hosts, "测试播客")


@pytest.mark.parametrize("path", DIGESTS, ids=lambda p: p.name[:10])
def test_script_properties(path: Path) -> None:
    digest, script = write(path)
    kinds = [s.kind for s in script.segments]
    assert kinds == ["opening"] + ["paper"] * len(digest.papers) + ["closing"]
    opening = "".join(line.text for line in script.segments[0].lines)
    d = digest.date
    assert f"{d.year}年{d.month}月{d.day}日" in opening
    assert f"{len(digest.papers)}篇" in opening
    assert all(t in opening for t in digest.hot_topics[:4])
    for seg, paper in zip(script.segments[1:-1], digest.papers, strict=True):
        speakers = [line.speaker for line in seg.lines]
        assert set(speakers) == {"A", "B"}
        assert all(a != b for a, b in itertools.pairwise(speakers)), "hosts alternate"
        text = "".join(line.text for line in seg.lines)
        assert paper.title_zh in text
        # the abstract's first person never reaches the hosts (they may say 我们 about themselves)
        assert not re.search(r"本文|本研究|我们(提出|引入|设计|构建|发现|评测|展示|的)", text), text
        assert paper.abstract_zh not in text
        pieces = re.split(r"[。！？]", paper.abstract_zh)
        spoken_from_abstract = sum(len(s) for s in pieces if s and s in text)
        assert spoken_from_abstract < 0.8 * len(paper.abstract_zh), "abstract read verbatim"
        # the key result: numbers the abstract gives are said, and only those
        quantity = r"(?<![A-Za-z\d.\-^])\d+(?:[.,]\d+)*%?(?![A-Za-z\d])"
        abstract = re.sub(r"\\(?=%)", "", paper.abstract_zh)
        abstract_numbers = set(re.findall(quantity, abstract))
        said = set(re.findall(quantity, text.replace(paper.title_zh, "")))
        assert said <= abstract_numbers, "a number the abstract does not give"
        outside_parens = set(re.findall(quantity, re.sub(r"（[^（）]*）|\([^()]*\)", "", abstract)))
        if outside_parens:
            assert said, f"paper {paper.rank}: no result figure"
        assert "http" not in text and "<" not in text and "\\" not in text


def test_transitions_vary_and_rebuild_is_identical() -> None:
    path = SHARED / "newsletters" / "2025-01-09_daily_paper.md"
    path = path if path.exists() else SAMPLE
    _, first = write(path)
    _, second = write(path)
    assert dump_script(first) == dump_script(second)
    intros = [seg.lines[0].text.split("《")[0] for seg in first.segments if seg.kind == "paper"]
    assert len(set(intros)) >= min(len(intros), 3)


def test_yaml_roundtrip(tmp_path: Path) -> None:
    _, script = write(SAMPLE)
    path = tmp_path / "s.yaml"
    path.write_text(dump_script(script), "utf-8")
    assert load_script(path) == script
    assert "林溪" in path.read_text("utf-8")  # Chinese is kept readable, not escaped


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["segments"][1]["lines"][0].update(speaker="C"),
     r"segments\.1\.lines\.0\.speaker: unknown speaker 'C'"),
    (lambda d: d["segments"][0]["lines"][1].update(text="   "), r"segments\.0\.lines\.1\.text: .*empty"),
    (lambda d: d.pop("date"), r"date: Field required"),
])
def test_bad_hand_edits_name_the_field(tmp_path: Path, edit, message: str) -> None:
    _, script = write(SAMPLE)
    data = yaml.safe_load(dump_script(script))
    edit(data)
    path = tmp_path / "2026-11-20.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ScriptError, match=message):
        load_script(path)
    result = CliRunner().invoke(main, ["speak", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 2 and str(path) in result.output


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("date: 2026-11-20\nsegments: [\n  - oops: {\n", "utf-8")
    with pytest.raises(ScriptError, match=r"x\.yaml:\d+: invalid YAML"):
        load_script(path)
