"""Benchmark an offline build: wall time, audio minutes, synthesis RTF, peak RSS, rebuild time.

    uv run python scripts/bench.py [DIGEST] [--runs N]

Each run is a fresh process with an empty clip cache (cold), followed by a
rebuild of the same day from the cache (warm). Medians over the runs are
printed, since these machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = HERE.parent.parent / "shared" / "seed" / "2025-01-09_daily_paper.md"
SAMPLE = HERE.parent / "podcast" / "sample" / "2026-11-20_daily_paper.md"


def worker(digest: Path, root: Path) -> dict:
    """Run one build in this process and report what it cost."""
    import resource

    from podcast.pipeline import Project, build

    started = time.perf_counter()
    result = build(Project.open(root), digest)
    wall = time.perf_counter() - started
    stats = result.speak.stats
    return {
        "wall_s": wall,
        "audio_min": result.speak.manifest["duration"] / 60,
        "synth_s": stats.synth_seconds,
        "synth_audio_s": stats.audio_seconds,
        "synthesized": stats.synthesized,
        "cached": stats.cached,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "f0": result.speak.host_f0,
    }


def run_child(digest: Path, root: Path, cache: Path) -> dict:
    env = dict(os.environ, PODCAST_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, __file__, "--worker", str(digest), "--root", str(root)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("digest", nargs="?", type=Path, default=SEED if SEED.exists() else SAMPLE)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.digest, args.root)))
        return

    cold, warm = [], []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            root, cache = Path(tmp) / "root", Path(tmp) / "cache"
            cold.append(run_child(args.digest, root, cache))
            warm.append(run_child(args.digest, root, cache))
        print(f"run {i + 1}/{args.runs}: cold {cold[-1]['wall_s']:.1f} s, "
              f"rebuild {warm[-1]['wall_s']:.1f} s", file=sys.stderr)

    def med(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    rtf = [r["synth_s"] / r["synth_audio_s"] for r in cold]
    print(f"digest               {args.digest.name}")
    print(f"runs                 {args.runs} (medians below)")
    print(f"audio                {med(cold, 'audio_min'):.2f} min, "
          f"{cold[0]['synthesized']} lines, host F0 {cold[0]['f0']}")
    print(f"cold build           {med(cold, 'wall_s'):.1f} s")
    print(f"  synthesis          {med(cold, 'synth_s'):.1f} s, RTF {statistics.median(rtf):.3f} "
          f"(synthesis time / speech time)")
    print(f"  everything else    {med(cold, 'wall_s') - med(cold, 'synth_s'):.1f} s")
    print(f"rebuild from cache   {med(warm, 'wall_s'):.1f} s "
          f"({med(warm, 'cached'):.0f} cached, {med(warm, 'synthesized'):.0f} synthesized)")
    print(f"rebuild / cold       {med(warm, 'wall_s') / med(cold, 'wall_s'):.2f}")
    print(f"peak RSS             cold {med(cold, 'peak_rss_mb'):.0f} MB, "
          f"rebuild {med(warm, 'peak_rss_mb'):.0f} MB")
    print(f"build time / audio   {med(cold, 'wall_s') / (med(cold, 'audio_min') * 60):.3f}")


if __name__ == "__main__":
    main()
