"""Kokoro speed on this machine: RTF with one and with two worker processes, model load, RSS.

    uv run python tools/kokoro_speed.py [--seconds 60] [--runs 3]

Takes the first lines of the sample script (scripts/2026-11-20.yaml) until about
``--seconds`` of speech, then speaks them with the engine's own path (two lines
in flight, as the run loop does) through a pool of 1 and of 2 workers, in turns.
The machine may be shared: medians of the runs and the ratio are what count.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import yaml

from podcast.speech import kokoro
from podcast.speech.mandarin import to_phonemes
from podcast.textnorm import SpeechProfile, builtin_lexicon, to_speech

ROOT = Path(__file__).resolve().parent.parent
VOICES = {"A": ("zf_xiaoxiao", 1.0), "B": ("zm_yunxi", 0.95)}


def lines(seconds: float) -> list[tuple[str, str]]:
    script = yaml.safe_load((ROOT / "scripts" / "2026-11-20.yaml").read_text(encoding="utf-8"))
    profile = SpeechProfile(latin=False, pinyin=True)
    words = tuple(builtin_lexicon().pinyin)
    out, chars = [], 0.0
    for seg in script["segments"]:
        for line in seg["lines"]:
            text = to_speech(line["text"], profile)
            out.append((line["speaker"], to_phonemes(text, words)))
            chars += len(text)
            if chars / 4.5 >= seconds:  # about 4.5 spoken characters a second
                return out
    return out


def load_probe(_: int) -> tuple[float, int]:
    """Model load time and peak RSS (kB) of a fresh single-thread worker process."""
    t0 = time.perf_counter()
    synth = kokoro.Synth(threads=1)
    load = time.perf_counter() - t0
    synth(list(range(40, 80)), "zf_xiaoxiao", 1.0)
    return load, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_seconds(pool: kokoro.Pool) -> float:
    """User + system CPU time used so far by the pool's worker processes (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in (pool._executor._processes if pool._executor else {}):  # type: ignore[attr-defined]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def run(pool: kokoro.Pool, todo: list[tuple[str, str]]) -> tuple[float, float]:
    """(wall seconds, audio seconds) for all lines, two at a time."""
    def one(item: tuple[str, str]) -> float:
        voice, speed = VOICES[item[0]]
        audio, _ = kokoro.synthesize_phonemes(item[1], voice, speed, pool)
        return len(audio) / kokoro.SAMPLE_RATE

    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as threads:
        audio = sum(threads.map(one, todo))
    return time.perf_counter() - t0, audio


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    kokoro.model_path()
    with get_context("spawn").Pool(1) as probe:
        load, rss = probe.map(load_probe, [0])[0]
    print(f"worker: model load {load:.2f} s, peak RSS {rss / 1024:.0f} MB")
    todo = lines(args.seconds)
    pools = {n: kokoro.Pool(n) for n in (1, 2)}
    for pool in pools.values():
        run(pool, todo[:2])  # start the workers and load the model outside the timing
    rtf: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    for i in range(args.runs):
        for n, pool in pools.items():
            before = cpu_seconds(pool)
            wall, audio = run(pool, todo)
            used = cpu_seconds(pool) - before
            rtf[n].append(wall / audio)
            cpu[n].append(used / audio)
            print(f"run {i + 1}: {n} worker(s): {audio:.1f} s of audio in {wall:.1f} s,"
                  f" RTF {wall / audio:.2f},"
                  f" worker CPU {used / audio:.2f} s per audio s, load {os.getloadavg()[0]:.1f}", flush=True)
    one, two = statistics.median(rtf[1]), statistics.median(rtf[2])
    print(f"median RTF: 1 worker {one:.2f}, 2 workers {two:.2f}, speed-up {one / two:.2f}x;"
          f" median worker CPU per audio s: {statistics.median(cpu[1]):.2f}"
          f" / {statistics.median(cpu[2]):.2f}")
    for pool in pools.values():
        pool.close()


if __name__ == "__main__":
    sys.exit(main())
