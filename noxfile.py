"""Sessions: ``nox -s bench`` (the benchmark), ``nox -s tests`` (the whole suite, real-server
and browser tests included), ``nox -s languages`` (payloads exchanged with Go and Node codecs),
``nox -s lint`` (ruff and mypy), ``nox -s docs`` (the docs site, strict), ``nox -s microbench``
(codec speed through pytest-benchmark)."""

from __future__ import annotations

import shutil

import nox

nox.options.sessions = ["lint", "tests"]
# uv when it is installed (``pip install nox[uv]``; CI does): it installs the project in seconds
# where pip takes minutes to resolve; plain venv and pip otherwise.
nox.options.default_venv_backend = "uv|venv"

PROJECT = ["-e", "./codecs[server,storage]", "-e", "."]
TEST_DEPS = [
    "pytest>=8",
    "pytest-asyncio>=0.24",
    "pytest-timeout",
    "hypothesis>=6",
    "playwright>=1.40",
    "httpx>=0.27",
    "pytest-xdist>=3.5",
    # export's formats are checked against their documented JSON schemas.
    "jsonschema>=4",
]
DOCS_DEPS = ["mkdocs==1.6.1"]
WORKERS = "3"
"""pytest-xdist workers: most tests wait on a server, a browser or a child process, so one more
worker than the machine's two cores keeps both busy."""


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite; extra arguments go to pytest (e.g. ``-m 'not temporal'``)."""
    session.install(*PROJECT, *TEST_DEPS)
    session.run("pytest", "-n", WORKERS, "-m", "not languages and not mutations", *session.posargs)


@nox.session
def languages(session: nox.Session) -> None:
    """Payloads exchanged with Go and Node codecs, both ways (``tests/languages``): needs Go
    with Debian's Go libraries and Node with npm, which ``.ci/run`` installs; installs the Node
    peer's packages from its lock file."""
    session.install(*PROJECT, *TEST_DEPS)
    if shutil.which("npm"):
        node = "tests/languages/node"
        session.run("npm", "ci", "--prefix", node, "--no-audit", "--no-fund", external=True)
    session.run("pytest", "-n", "2", "-m", "languages", "tests/languages", *session.posargs)


@nox.session
def mutations(session: nox.Session) -> None:
    """The mutation suite (``tests/test_mutations.py``): each mutation breaks one formula or
    check in a scratch copy of the project, and the tests that pin it must then fail."""
    session.install(*PROJECT, *TEST_DEPS)
    session.run("pytest", "-n", "2", "-m", "mutations", "tests/test_mutations.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) and mypy (strict)."""
    session.install(
        *PROJECT,
        *TEST_DEPS,
        *DOCS_DEPS,
        "ruff==0.17.6",
        "mypy==2.4.1",
        "scipy-stubs",
        "types-jsonschema",
        "types-Markdown",
    )
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site from ``docs/`` into ``site/``; any warning (a broken link or
    anchor, a page left out of the navigation) fails it."""
    session.install(*DOCS_DEPS)
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session
def reference(session: nox.Session) -> None:
    """Record the committed reference run again (``results/reference``, the quick profile with
    its client and reading layers), as ``tests/run/test_reference_run.py`` asks whenever a
    profile, a default implementation or a built-in corpus changes. Then update the README's
    reference verdict and docs/findings/reference-run.md from its report."""
    session.install(*PROJECT)
    session.run("codec-bench", "run", "--profile", "quick", "--out", "results/reference", "--force")


@nox.session
def microbench(session: nox.Session) -> None:
    """Codec speed through pytest-benchmark (``benchmarks/``); extra arguments go to pytest,
    e.g. ``nox -s microbench -- --benchmark-autosave --benchmark-compare-fail=min:10%``."""
    # pytest-benchmark comes with the project; the two plugins own options pyproject.toml sets
    # for every pytest run (without them, pytest warns that it does not know those options).
    session.install(*PROJECT, "pytest>=8", "pytest-asyncio>=0.24", "pytest-timeout")
    session.run(
        "pytest",
        "benchmarks",
        "-p",
        "no:cacheprovider",
        "--benchmark-only",
        "--benchmark-group-by=group",
        "--benchmark-columns=min,median,iqr,ops,rounds",
        *session.posargs,
    )


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark, quick profile by default; arguments go to ``codec-bench run``
    (e.g. ``nox -s bench -- --profile full``). Prints where the report is."""
    session.install(*PROJECT)
    session.run("codec-bench", "run", *(session.posargs or ["--profile", "quick"]))
