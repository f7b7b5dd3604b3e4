"""The history database: one SQLite file of runs and their points.

SQLite because a history must survive between CI jobs as one file (a cache or an artifact),
be written atomically (a transaction per command: an interrupted ``add`` leaves no half run)
and be read by anything (``sqlite3 history.sqlite 'select ...'``). The layout is versioned
like the results files; a file written by a newer version is refused, not misread."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.errors import UserError
from bench.history.points import Machine, Point, describe, machine_of, points, speed
from bench.results import Results

LAYOUT = 1
DEFAULT = Path("results") / "history.sqlite"
"""Beside the runs, which ``codec-bench run`` writes to ``results/<run-id>/`` by default."""

_TABLES = """
create table if not exists meta (key text primary key, value text not null);
create table if not exists runs (
    id integer primary key,
    run_id text not null,
    machine text not null,
    machine_name text not null,
    started text not null,
    label text not null,
    commit_id text not null,
    version text not null,
    profile text not null,
    processes integer not null,
    speed real,
    details text not null,
    added text not null
);
create table if not exists sources (
    run_id text primary key,
    run integer not null references runs(id) on delete cascade
);
create table if not exists points (
    run integer not null references runs(id) on delete cascade,
    layer text not null, codec text not null, corpus text not null, metric text not null,
    value real not null, low real, high real, samples integer not null,
    baseline integer not null,
    primary key (run, layer, codec, corpus, metric)
);
"""


@dataclass(frozen=True)
class Run:
    """One run as the history holds it."""

    id: int
    run_id: str
    machine: str
    """A short digest of :class:`Machine`: the key series are split by."""
    machine_name: str
    started: str
    label: str
    commit_id: str
    version: str
    profile: str
    processes: int
    speed: float | None
    details: dict[str, Any]

    @property
    def name(self) -> str:
        """How tables and plots name the run: its label, else its commit, else its id."""
        return self.label or self.commit_id[:10] or self.run_id


def machine_key(machine: Machine) -> str:
    text = json.dumps(asdict(machine), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@contextmanager
def opened(path: Path, *, create: bool = False) -> Iterator[sqlite3.Connection]:
    """The database at ``path``, in one transaction (committed when the block ends, rolled
    back when it raises)."""
    if not create and not path.is_file():
        raise UserError(f"no history at {path}; add runs first: codec-bench history add RESULTS")
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(path)
        connection.execute("pragma foreign_keys = on")
        _layout(connection)
    except sqlite3.DatabaseError as error:
        raise UserError(f"{path} is not a codec-bench history ({error})") from None
    with closing(connection), connection:
        yield connection


def _layout(connection: sqlite3.Connection) -> None:
    connection.executescript(_TABLES)
    row = connection.execute("select value from meta where key = 'layout'").fetchone()
    if row is None:
        connection.execute("insert into meta values ('layout', ?)", (str(LAYOUT),))
    elif int(row[0]) > LAYOUT:
        raise sqlite3.DatabaseError(f"layout {row[0]}, newer than this version's {LAYOUT}")


def add(
    connection: sqlite3.Connection, runs: Sequence[Results], *, label: str = "", commit: str = ""
) -> Run:
    """Add one run (its processes together); a run already in the history is refused."""
    ids = [run.run_id for run in runs]
    known = connection.execute(
        f"select run_id from sources where run_id in ({','.join('?' * len(ids))})", ids
    ).fetchall()
    if known:
        raise UserError(f"run {known[0][0]} is already in the history; nothing was added")
    first = runs[0]
    machine = machine_of(first)
    environment = first.environment
    fields = (
        first.run_id,
        machine_key(machine),
        machine.name,
        first.started,
        label,
        commit or (environment.git_commit or ""),
        str(environment.packages.get("temporal-codec-bench") or ""),
        first.profile,
        len(runs),
        speed(runs),
        json.dumps(describe(runs), sort_keys=True),
        datetime.now(UTC).isoformat(timespec="seconds"),
    )
    cursor = connection.execute(
        "insert into runs (run_id, machine, machine_name, started, label, commit_id, version, "
        "profile, processes, speed, details, added) values (?,?,?,?,?,?,?,?,?,?,?,?)",
        fields,
    )
    run = int(cursor.lastrowid or 0)
    connection.executemany("insert into sources values (?, ?)", [(i, run) for i in ids])
    connection.executemany(
        "insert into points values (?,?,?,?,?,?,?,?,?,?)",
        [(run, *p.series, p.value, p.low, p.high, p.samples, p.baseline) for p in points(runs)],
    )
    return _run(connection.execute(f"{_RUNS} where id = ?", (run,)).fetchone())


_RUNS = (
    "select id, run_id, machine, machine_name, started, label, commit_id, version, profile, "
    "processes, speed, details from runs"
)


def _run(row: Sequence[Any]) -> Run:
    number, run_id, machine, name, started, label, commit, version, profile, processes = row[:10]
    return Run(
        number,
        run_id,
        machine,
        name,
        started,
        label,
        commit,
        version,
        profile,
        processes,
        row[10],
        json.loads(row[11]),
    )


def runs(connection: sqlite3.Connection, machine: str | None = None) -> list[Run]:
    """The history's runs in the order they were measured (their start), optionally of one
    machine."""
    where, args = ("where machine = ?", (machine,)) if machine else ("", ())
    rows = connection.execute(f"{_RUNS} {where} order by started, id", args).fetchall()
    return [_run(row) for row in rows]


def remove(connection: sqlite3.Connection, name: str) -> Run:
    """Remove one run, named by its history number, its run id or its label."""
    found = [r for r in runs(connection) if name in (str(r.id), r.run_id, r.label)]
    if not found:
        raise UserError(f"no run {name!r} in the history; codec-bench history list shows them")
    if len(found) > 1:
        numbers = ", ".join(str(r.id) for r in found)
        raise UserError(f"{name!r} names {len(found)} runs ({numbers}); give the number")
    connection.execute("delete from runs where id = ?", (found[0].id,))
    return found[0]


def series_points(connection: sqlite3.Connection, machine: str) -> dict[int, list[Point]]:
    """Every point of one machine's runs, by run number."""
    out: dict[int, list[Point]] = {}
    rows = connection.execute(
        "select p.run, p.layer, p.codec, p.corpus, p.metric, p.value, p.low, p.high, p.samples, "
        "p.baseline "
        "from points p join runs r on r.id = p.run where r.machine = ?",
        (machine,),
    )
    for run, *rest in rows:
        layer, codec, corpus, metric, value, low, high, samples, baseline = rest
        point = Point(layer, codec, corpus, metric, value, low, high, samples, bool(baseline))
        out.setdefault(int(run), []).append(point)
    return out
