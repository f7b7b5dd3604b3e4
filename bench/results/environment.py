"""The environment a run measured in: what a reviewer needs to judge or reproduce the numbers.

A Python "snappy" is not Google's snappy, and the allocator changes large-payload results by
several times, so native library versions and malloc tuning are recorded with the CPU.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import zlib
from importlib import metadata
from pathlib import Path

import lz4
import zstandard

from bench.results.model import Environment

PACKAGES = (
    "temporal-codec-bench",
    "payload-codecs",
    "temporalio",
    "cramjam",
    "zstandard",
    "cryptography",
    "protobuf",
    "numpy",
    "scipy",
    "matplotlib",
)


def utc_now() -> str:
    """The current time as ISO 8601 UTC, as results and provenance record it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _openssl() -> str:
    from cryptography.hazmat.backends.openssl.backend import backend

    return str(backend.openssl_version_text())


def _git_commit() -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}{'-dirty' if dirty else ''}"


def collect() -> Environment:
    """Everything about this machine and process that can change a result."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return Environment.from_json(
        {
            "cpu_model": _cpu_model(),
            "cpu_count": os.cpu_count(),
            "cpu_affinity": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else None,
            "load_average": list(load) if load else None,
            "platform": platform.platform(),
            "python": {
                "implementation": platform.python_implementation(),
                "version": platform.python_version(),
                "build": " ".join(platform.python_build()),
                "compiler": platform.python_compiler(),
                "executable": sys.executable,
            },
            "packages": {name: _version(name) for name in PACKAGES},
            "native": {
                "libzstd (zstandard)": ".".join(map(str, zstandard.ZSTD_VERSION)),
                "zlib": zlib.ZLIB_RUNTIME_VERSION,
                "openssl (cryptography)": _openssl(),
                "snappy": f"Rust snap crate inside cramjam {_version('cramjam')}",
                # lz4@lz4 writes with python-lz4's liblz4 and reads one-block frames with
                # cramjam's; lz4@cramjam uses cramjam's both ways.
                "liblz4 (python-lz4)": lz4.library_version_string(),
                "liblz4 (cramjam)": f"bundled in cramjam {_version('cramjam')}",
            },
            "malloc": {
                name: value
                for name, value in sorted(os.environ.items())
                if name.startswith(("MALLOC_", "PYTHONMALLOC", "GLIBC_TUNABLES"))
            },
            "git_commit": _git_commit(),
        }
    )
