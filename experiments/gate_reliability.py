"""The gate experiment on real runs: how often does ``compare A B --normalize
--fail-on-regression 10`` raise a false alarm between two sides of identical code, and how
often does it catch a real slowdown, on this machine with a CPU-bound process on one core
throughout?

    python -m experiments.gate_reliability --pairs 6 --out /tmp/gate

For each pair, one after another: side A and side B (identical code), side S (zstd 20 %
slower) and side T (every codec 30 % slower), each a ``run --profile ci`` series (four
processes of three rounds). Slowdowns are injected by ``experiments/slowdown/sitecustomize.py``
(busy work in the codec library's own calls), so the harness runs exactly as a CI job would.
A against B, S and T; B against the next pair's A as a second identical pair. Prints and
writes counts to OUT/summary.json. A benchmark of the gate, not a test: about 12 minutes a pair
alone on the machine, 20 with other work.
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


def _run(out: Path, profile: str, slowdown: str | None) -> None:
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


def _pair(index: int, out: Path, profile: str) -> None:
    folder = out / f"pair-{index:02d}"
    _run(folder / "a", profile, None)
    _run(folder / "b", profile, None)
    _run(folder / "s", profile, "zstd=0.2")
    _run(folder / "t", profile, "*=0.3")


def _judge(folder: Path, after: Path | None) -> dict[str, object]:
    """The gate's calls on one pair's saved runs (so a changed gate can be judged again on the
    same measurements with --reanalyse)."""
    a, b, s, t = (folder / name for name in "abst")
    record: dict[str, object] = {}
    for name, other, flags in (
        ("identical", b, GATE),
        ("identical_raw", b, GATE[1:]),
        ("zstd_slower", s, GATE),
        ("zstd_slower_raw", s, GATE[1:]),
        ("all_slower", t, GATE),
        ("all_slower_raw", t, GATE[1:]),
    ):
        if other.exists():
            code, flagged = _gate(a, other, *flags)
            record[name] = {"exit": code, "flagged": flagged}
    if after is not None and (after / "a").exists():
        code, flagged = _gate(b, after / "a", *GATE)
        record["identical_next"] = {"exit": code, "flagged": flagged}
    return record


def _summary(records: list[dict[str, object]]) -> dict[str, object]:
    def count(names: tuple[str, ...], ok: object) -> str:
        rows = [r[name] for r in records for name in names if name in r]
        return f"{sum(bool(ok(r)) for r in rows)} of {len(rows)}"  # type: ignore[operator]

    def alone(r: dict[str, object]) -> bool:
        flagged = r["flagged"]
        return r["exit"] == 1 and bool(flagged) and all("zstd" in f for f in flagged)  # type: ignore[attr-defined]

    return {
        "identical sides pass (normalised)": count(
            ("identical", "identical_next"), lambda r: r["exit"] == 0
        ),
        "identical sides pass (raw)": count(("identical_raw",), lambda r: r["exit"] == 0),
        "zstd 20 % slower caught alone (normalised)": count(("zstd_slower",), alone),
        "zstd 20 % slower caught alone (raw)": count(("zstd_slower_raw",), alone),
        "every codec 30 % slower caught (normalised)": count(
            ("all_slower",), lambda r: r["exit"] == 1
        ),
        "every codec 30 % slower caught (raw)": count(
            ("all_slower_raw",), lambda r: r["exit"] == 1
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.gate_reliability", allow_abbrev=False
    )
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--reanalyse",
        action="store_true",
        help="judge the runs already in --out again with this checkout's compare; run nothing",
    )
    args = parser.parse_args()
    if args.reanalyse:
        folders = sorted(args.out.glob("pair-*"))
        judged = [_judge(f, n) for f, n in zip(folders, [*folders[1:], None], strict=True)]
        print(json.dumps({**_summary(judged), "reanalysed": len(judged)}, indent=1))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    hog = spawn([sys.executable, "-c", "while True: pass"])
    started = time.monotonic()
    try:
        for index in range(args.pairs):
            _pair(index, args.out, args.profile)
            print(f"pair {index + 1} measured", flush=True)
    finally:
        stop(hog)
    folders = sorted(args.out.glob("pair-*"))
    records = [_judge(f, n) for f, n in zip(folders, [*folders[1:], None], strict=True)]
    (args.out / "records.json").write_text(json.dumps(records, indent=1))
    summary = {
        **_summary(records),
        "profile": args.profile,
        "minutes": round((time.monotonic() - started) / 60, 1),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
