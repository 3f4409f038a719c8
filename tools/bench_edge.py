"""Wall time of an edge-engine build against the local edge-protocol server, by concurrency.

    uv run python tools/bench_edge.py [DIGEST] [--concurrency 1 4] [--delay 0.3] [--runs 3]

The local server (tests/fake_edge.py) answers each line after ``--delay``
seconds, standing in for the network and the service's own synthesis time,
so the figures show what concurrency buys; absolute times against the real
service will differ. Each run uses an empty clip cache; medians are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from podcast.pipeline import Project, build  # noqa: E402
from tests.fake_edge import EdgeServer, FakeEdge  # noqa: E402

SEED = HERE.parent.parent / "shared" / "seed" / "2025-01-09_daily_paper.md"
SAMPLE = HERE.parent / "podcast" / "sample" / "2026-11-20_daily_paper.md"


def one_build(digest: Path, concurrency: int, delay: float, models: Path) -> tuple[float, int, int]:
    fake = FakeEdge(delay=delay)
    with EdgeServer(fake) as server, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        cache = Path(tmp) / "cache"
        cache.mkdir()
        (cache / "models").symlink_to(models)
        os.environ["PODCAST_CACHE_DIR"] = str(cache)
        os.environ["PODCAST_EDGE_ENDPOINT"] = server.endpoint
        root.mkdir()
        (root / "podcast.toml").write_text(f'engine = "edge"\n[edge]\nconcurrency = {concurrency}\n', "utf-8")
        started = time.perf_counter()
        result = build(Project.open(root), digest)
        wall = time.perf_counter() - started
        assert result.episode.speech is not None and result.episode.speech.fallbacks == 0
        return wall, fake.requests, fake.max_active


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("digest", nargs="?", type=Path, default=SEED if SEED.exists() else SAMPLE)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--delay", type=float, default=0.3, help="server answer delay per line (s)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from platformdirs import user_cache_dir

    cache_dir = os.environ.get("PODCAST_CACHE_DIR") or user_cache_dir("podcast", appauthor=False)
    models = Path(cache_dir) / "models"
    models.mkdir(parents=True, exist_ok=True)
    print(f"digest {args.digest.name}, server delay {args.delay:.2f} s per line, {args.runs} runs each")
    baseline = None
    for c in args.concurrency:
        runs = [one_build(args.digest, c, args.delay, models) for _ in range(args.runs)]
        wall = statistics.median(r[0] for r in runs)
        baseline = baseline or wall
        print(f"concurrency {c:>2}: median wall {wall:6.1f} s  ({baseline / wall:4.2f}x)  "
              f"requests {runs[0][1]}, most open at once {max(r[2] for r in runs)}")


if __name__ == "__main__":
    main()
