"""``codec-bench history``: runs go in once and stay apart by machine, older results files are
read, the check fails on a slowdown the history can tell and not on noise, and the dashboard
holds every series' changes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from bench.cli import main
from bench.results import load
from bench.results.schema import MIGRATIONS, SCHEMA_VERSION, save

from tests.history.helpers import history_files

ROOT = Path(__file__).resolve().parents[2]


def _add(db: Path, *paths: Path | str, label: str = "") -> int:
    extra = ["--label", label] if label else []
    return main(["history", "add", *map(str, paths), "--db", str(db), *extra])


def test_a_run_goes_in_once_and_can_be_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite"
    files = history_files(tmp_path, runs=2)
    assert _add(db, *files, label="first") == 0
    assert _add(db, files[1]) == 2
    err = capsys.readouterr().err
    assert "run-1-x is already in the history; nothing was added" in err
    assert main(["history", "list", "--db", str(db), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in listed] == ["run-0-x", "run-1-x"]
    assert main(["history", "remove", "first", "--db", str(db)]) == 2
    assert "names 2 runs" in capsys.readouterr().err
    assert main(["history", "remove", str(listed[0]["id"]), "--db", str(db)]) == 0
    assert main(["history", "list", "--db", str(db), "--json"]) == 0
    assert [r["run_id"] for r in json.loads(capsys.readouterr().out)] == ["run-1-x"]
    points = sqlite3.connect(db).execute("select count(*) from points").fetchone()[0]
    assert points > 0  # the removed run's points went with it, the other's stayed
    assert _add(db, files[0]) == 0  # and it can come back


def _written_by(version: int, folder: Path) -> Path:
    """A results file of schema ``version``: the committed version 1 file, versions 2 and 3 as
    their migrations write them, and the current version as this version saves."""
    v1 = ROOT / "tests" / "data" / "results-v1.json"
    if version == 1:
        return v1
    path = folder / f"v{version}.json"
    if version < SCHEMA_VERSION:
        document = json.loads(v1.read_text())
        for update in list(MIGRATIONS.values())[: version - 1]:
            document = update(document)
        path.write_text(json.dumps(document))
    else:
        save(load(v1), path)
    return path


@pytest.mark.parametrize("version", [*range(1, SCHEMA_VERSION + 1), "reference"])
def test_a_results_file_of_every_schema_version_can_be_added(
    version: int | str, tmp_path: Path
) -> None:
    if version == "reference":  # the committed reference run
        path, version = ROOT / "results" / "reference" / "results.json", SCHEMA_VERSION
    else:
        path = _written_by(int(version), tmp_path)
    assert json.loads(path.read_text()).get("schema_version", 1) == version
    db = tmp_path / "h.sqlite"
    assert _add(db, path) == 0
    [(count,)] = sqlite3.connect(db).execute("select count(*) from points")
    assert count > 10


def test_a_missing_or_foreign_database_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "list", "--db", str(tmp_path / "none.sqlite")]) == 2
    assert "no history at" in capsys.readouterr().err
    foreign = tmp_path / "foreign.sqlite"
    foreign.write_text("not a database")
    assert main(["history", "list", "--db", str(foreign)]) == 2
    assert "is not a codec-bench history" in capsys.readouterr().err


def test_the_check_fails_on_a_slowdown_and_passes_on_noise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steady, slowed = tmp_path / "steady", tmp_path / "slowed"
    for folder, slow in ((steady, 1.0), (slowed, 1.3)):
        folder.mkdir()
        assert _add(folder / "h.sqlite", *history_files(folder, slow=slow)) == 0
        capsys.readouterr()
    assert main(["history", "check", "--db", str(steady / "h.sqlite")]) == 0
    assert "regression" not in capsys.readouterr().err
    assert main(["history", "check", "--db", str(slowed / "h.sqlite"), "--json"]) == 1
    out, err = capsys.readouterr()
    regressions = [line for line in err.splitlines() if "regression" in line]
    assert regressions
    assert all("zstd:3" in line for line in regressions)
    findings = json.loads(out)["findings"]
    zstd = [f for f in findings if f["codec"].startswith("zstd:3")]
    assert zstd
    assert all(f["speedup"] == pytest.approx(1 / 1.3, rel=0.08) for f in zstd)
    assert all(f["stable_runs"] == 5 for f in findings)


def test_the_check_says_when_there_is_too_littlehistory_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite"
    assert _add(db, *history_files(tmp_path, slow=2.0, runs=3)) == 0
    assert main(["history", "check", "--db", str(db)]) == 0
    assert "was not judged" in capsys.readouterr().err


def test_series_never_mix_machines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "h.sqlite"
    assert _add(db, *history_files(tmp_path, cpu_model="old CPU")) == 0
    # A faster machine added later is its own series, not a speed-up of the first machine's.
    assert _add(db, *history_files(tmp_path, slow=0.5, runs=6, cpu_model="new CPU")) == 0
    out = tmp_path / "dashboard"
    assert main(["history", "report", "--db", str(db), "--out", str(out)]) == 0
    document = json.loads((out / "history.json").read_text())
    machines = {m["name"]: m for m in document["machines"].values()}
    assert set(machines) == {"old CPU, ? cores, unknown OS", "new CPU, ? cores, unknown OS"}
    for machine in machines.values():
        for series in machine["series"]:
            assert len(series["runs"]) == 6
    page = (out / "dashboard.html").read_text()
    assert page.count("Changes on ") == 2
