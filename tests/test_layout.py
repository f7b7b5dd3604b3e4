"""The layout's promises, checked: commands that only read results load no measuring, server or
drawing code they do not use; no package imports a floor above its own; no import cycle; no
function longer than 60 lines anywhere in the project."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
V1 = ROOT / "tests" / "data" / "results-v1.json"
REFERENCE = ROOT / "results" / "reference" / "results.json"
MAX_FUNCTION_LINES = 60
MEASURING = (
    "temporalio.client",
    "temporalio.worker",
    "bench.layers",
    "bench.probes",
    "bench.temporal",
    "bench.run.plan",
    "bench.run.measure",
    "payload_codecs.server",
    "uvicorn",
    "starlette",
    "aiohttp",
    "playwright",
    "boto3",
)
"""What no read-only command and no ``--help`` loads: the Temporal client, the layers, probes
and server code, and the stacks of the codec server, the browser and S3."""
HELP = [
    [*name.split(), "--help"]
    for name in (
        "",
        "run",
        "report",
        "compare",
        "recommend",
        "export",
        "history",
        "history add",
        "history check",
        "corpus generate",
        "corpus import",
        "corpus fetch",
        "corpus describe",
        "dict train",
        "dict evaluate",
        "codecs",
        "stall",
        "overhead",
        "record-cost",
        "codec-server",
    )
]
READ_ONLY_COMMANDS: dict[str, tuple[list[list[str]], set[str]]] = {
    "recommend": ([["recommend", str(REFERENCE)], ["recommend", str(REFERENCE), "--json"]], set()),
    # A version 1 file's summaries are computed again on load (order-statistic intervals).
    "recommend, a version 1 file": ([["recommend", str(V1)]], {"scipy"}),
    "compare": (
        [["compare", str(V1), str(V1)], ["compare", str(V1), str(V1), "--json"]],
        {"scipy"},
    ),
    "report": ([["report", str(REFERENCE), "--out", "{tmp}"]], {"scipy", "matplotlib"}),
    "export": ([["export", str(REFERENCE), "--out", "{tmp}/export.json"]], set()),
    "codecs": ([["codecs"]], set()),
    # add computes each run's intervals (order statistics of its rounds); nothing is drawn.
    "history add and list": (
        [
            ["history", "add", str(REFERENCE), "--db", "{tmp}/history.sqlite"],
            ["history", "list", "--db", "{tmp}/history.sqlite"],
        ],
        {"scipy"},
    ),
    "every --help": (HELP, set()),
}
"""Each read-only command (the argument lists run one after another in one interpreter, so
what they load together is checked) with the heavy libraries it may load: scipy only where a
test runs, matplotlib only where something is drawn."""
FLOORS = {
    "bench.errors": 0,
    "bench.progress": 0,
    "bench.loopstall": 0,
    "bench.cluster": 0,
    "bench.results": 1,
    "bench.keys": 2,
    "bench.profiles": 2,
    "bench.corpus": 2,
    "bench.codec_rows": 2,
    "bench.temporal": 3,
    "bench.probes": 3,
    "bench.layers": 4,
    "bench.outputs": 5,
    "bench.history": 5,
    "bench.run": 6,
    "bench.commands": 7,
    "bench.cli": 8,
}
"""The flow of data, bottom up: a module imports only from its own floor or below."""


def _loaded(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _has(loaded: set[str], package: str) -> bool:
    return any(name == package or name.startswith(f"{package}.") for name in loaded)


@pytest.mark.parametrize("name", sorted(READ_ONLY_COMMANDS))
def test_a_read_only_command_loads_only_what_it_uses(name: str, tmp_path: Path) -> None:
    runs, allowed = READ_ONLY_COMMANDS[name]
    argvs = [[arg.replace("{tmp}", str(tmp_path)) for arg in argv] for argv in runs]
    code = (
        "import contextlib, io\nfrom bench.cli import main\n"
        f"for argv in {argvs!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n            assert main(argv) == 0, argv\n"
        "        except SystemExit as done:\n            assert done.code == 0, argv"
    )
    loaded = _loaded(code)
    assert [m for m in MEASURING if _has(loaded, m)] == []
    assert [m for m in ("scipy", "matplotlib") if _has(loaded, m) and m not in allowed] == []


def _modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in sorted((ROOT / "bench").rglob("*.py"))
    }


def _imports(path: Path) -> set[str]:
    """Every ``bench`` module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.split(".")[0] == "bench"}


def _floor(module: str) -> int | None:
    owners = [prefix for prefix in FLOORS if module == prefix or module.startswith(f"{prefix}.")]
    return FLOORS[max(owners, key=len)] if owners else None


def test_every_module_of_the_harness_has_a_floor() -> None:
    assert [m for m in _modules() if m != "bench" and _floor(m) is None] == []


def test_no_module_imports_a_floor_above_its_own() -> None:
    modules = _modules()
    upward = [
        f"{module} -> {target}"
        for module, path in modules.items()
        for target in _imports(path)
        if target in modules and module != "bench" and (_floor(target) or 0) > (_floor(module) or 0)
    ]
    assert upward == []


def test_no_import_cycle() -> None:
    modules = _modules()
    graph = {m: {t for t in _imports(p) if t in modules and t != m} for m, p in modules.items()}
    cycles: list[str] = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph[module]):
            if target in path:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in done:
                visit(target, [*path, target])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    # A package's __init__ re-exporting its own modules is not a cycle of meaning.
    assert [c for c in cycles if not _package_reexport(c)] == []


def _package_reexport(cycle: str) -> bool:
    first, *rest = cycle.split(" -> ")
    return all(m.startswith(f"{first}.") for m in rest[:-1]) or all(
        first.startswith(f"{m}.") or m == first for m in rest
    )


def _long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_no_function_in_the_project_is_longer_than_60_lines() -> None:
    sources = [
        path
        for folder in ("bench", "codecs", "tests", "benchmarks", "experiments", "docs")
        for path in sorted((ROOT / folder).rglob("*.py"))
    ]
    found = [item for path in sources for item in _long_functions(path)]
    assert found == []
