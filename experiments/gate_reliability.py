"""The gate experiment: how often does ``compare --normalize --fail-on-regression 10`` raise a
false alarm between two runs of identical code, and how often does it catch a real slowdown, on
this machine with a CPU-bound process on one core throughout?

    python -m experiments.gate_reliability --pairs 20 --out /tmp/gate

For each pair: run A, run B (identical code), run S (zstd 20 % slower), and for every fourth
pair run T (every codec 30 % slower); all with ``--profile ci``. Slowdowns are injected by
``experiments/slowdown/sitecustomize.py`` (busy work in the codec library's own calls),
so the harness runs exactly as a CI job would. Prints and writes counts to OUT/summary.json.
This is a benchmark of the gate, not a test: it takes about an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.temporal.processes import spawn, stop

ROOT = Path(__file__).resolve().parents[2]
SLOWDOWN = Path(__file__).resolve().parent / "slowdown"
SOURCES = [str(ROOT), str(ROOT / "codecs" / "src")]
"""This checkout's code first, so that an experiment running from a copy measures that copy."""
GATE = ["--normalize", "--fail-on-regression", "10"]


def _run(out: Path, profile: str, slowdown: str | None) -> Path:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    if slowdown:
        env["PYTHONPATH"] = os.pathsep.join([str(SLOWDOWN), env["PYTHONPATH"]])
        env["CODEC_BENCH_SLOWDOWN"] = slowdown
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.cli",
            "run",
            "--profile",
            profile,
            "--out",
            str(out),
            "--force",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return out / "results.json"


def _gate(first: Path, other: Path, *flags: str) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cli", "compare", str(first), str(other), *flags],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(SOURCES)},
        capture_output=True,
        text=True,
        check=False,
    )
    flagged = [line.split(": ")[2] for line in done.stderr.splitlines() if "regression:" in line]
    return done.returncode, flagged


def _pair(index: int, out: Path, profile: str, every_codec: bool) -> dict[str, object]:
    folder = out / f"pair-{index:02d}"
    _run(folder / "a", profile, None)
    _run(folder / "b", profile, None)
    _run(folder / "s", profile, "zstd=0.2")
    if every_codec:
        _run(folder / "t", profile, "*=0.3")
    return _judge(folder)


def _judge(folder: Path) -> dict[str, object]:
    """The gate's calls on one pair's saved runs (so a changed gate can be judged again on the
    same measurements with --reanalyse)."""
    a, b, s, t = (folder / name / "results.json" for name in "abst")
    record: dict[str, object] = {}
    code, flagged = _gate(a, b, *GATE)
    record["identical"] = {"exit": code, "flagged": flagged}
    code, flagged = _gate(a, s, *GATE)
    record["zstd_slower"] = {"exit": code, "flagged": flagged}
    if t.exists():
        for name, flags in (("all_slower", GATE), ("all_slower_raw", GATE[1:])):
            code, flagged = _gate(a, t, *flags)
            record[name] = {"exit": code, "flagged": flagged}
    return record


def _summary(records: list[dict[str, object]]) -> dict[str, object]:
    def count(name: str, ok: object) -> str:
        rows = [r[name] for r in records if name in r]
        return f"{sum(bool(ok(r)) for r in rows)} of {len(rows)}"  # type: ignore[operator]

    return {
        "identical runs pass the gate": count("identical", lambda r: r["exit"] == 0),
        "zstd 20 % slower caught, nothing else flagged": count(
            "zstd_slower",
            lambda r: r["exit"] == 1 and r["flagged"] and all("zstd" in f for f in r["flagged"]),
        ),
        "every codec 30 % slower caught (normalised)": count(
            "all_slower", lambda r: r["exit"] == 1
        ),
        "every codec 30 % slower caught (not normalised)": count(
            "all_slower_raw", lambda r: r["exit"] == 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.gate_reliability", allow_abbrev=False
    )
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--reanalyse",
        action="store_true",
        help="judge the runs already in --out again with this checkout's compare; run nothing",
    )
    args = parser.parse_args()
    if args.reanalyse:
        judged = [_judge(folder) for folder in sorted(args.out.glob("pair-*"))]
        print(json.dumps({**_summary(judged), "reanalysed": len(judged)}, indent=1))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    hog = spawn([sys.executable, "-c", "while True: pass"])
    records: list[dict[str, object]] = []
    started = time.monotonic()
    try:
        for index in range(args.pairs):
            records.append(_pair(index, args.out, args.profile, index % 4 == 0))
            (args.out / "records.json").write_text(json.dumps(records, indent=1))
            print(f"pair {index + 1}: {records[-1]}", flush=True)
    finally:
        stop(hog)
    summary = {
        **_summary(records),
        "profile": args.profile,
        "minutes": round((time.monotonic() - started) / 60, 1),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
