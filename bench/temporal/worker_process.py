"""The client layer's worker as a child process (``python -m bench.commands.worker``), spoken to
over stdin/stdout, and the command line that starts more of them elsewhere."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.cluster import API_KEY_ENV, ClusterOptions
from bench.errors import InfrastructureFailure
from bench.temporal.processes import Watched, spawn, stop

WORKER_MODULE = "bench.commands.worker"


def worker_argv(cluster: ClusterOptions, prefix: str, texts: Sequence[str]) -> list[str]:
    """The worker's arguments after ``python -m bench.commands.worker``: the same cluster,
    namespace and TLS settings as the run, its task queues and its codecs in row order."""
    argv = [*cluster.to_argv(), "--task-queue-prefix", prefix]
    for text in texts:
        argv += ["--codec", text]
    return argv


class WorkerFailed(InfrastructureFailure):
    """The worker process died or stopped answering."""


class WorkerProcess:
    """``python -m bench.commands.worker`` as a child process, spoken to over stdin/stdout."""

    def __init__(
        self,
        cluster: ClusterOptions,
        prefix: str,
        texts: Sequence[str],
        env: dict[str, str],
        extra: Sequence[str] = (),
    ) -> None:
        self._log = tempfile.NamedTemporaryFile(prefix="codec-bench-worker-", suffix=".log")  # noqa: SIM115
        child_env = {**os.environ, **env}
        if cluster.api_key:
            child_env[API_KEY_ENV] = cluster.api_key
        self.process = spawn(
            [sys.executable, "-m", WORKER_MODULE, *worker_argv(cluster, prefix, texts), *extra],
            env=child_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def _tail(self) -> str:
        self._log.flush()
        text = Path(self._log.name).read_text(errors="replace").strip().splitlines()
        return text[-1] if text else "no output"

    async def _answer(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        loop = asyncio.get_running_loop()
        try:
            line = await asyncio.wait_for(
                loop.run_in_executor(None, self.process.stdout.readline), timeout
            )
        except TimeoutError:
            raise WorkerFailed(f"worker pid {self.pid} stopped answering") from None
        if not line:
            code = self.process.wait()
            raise WorkerFailed(f"worker pid {self.pid} exited with code {code}: {self._tail()}")
        try:
            answer: dict[str, Any] = json.loads(line)
        except ValueError:
            raise WorkerFailed(f"worker pid {self.pid} sent {line[:80]!r}, not an answer") from None
        return answer

    async def ready(self, timeout: float = 60.0) -> None:
        await self._answer(timeout)

    async def take(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write("take\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerFailed(
                f"worker pid {self.pid} exited with code {self.process.wait()}: {self._tail()}"
            ) from None
        return await self._answer(30.0)

    async def watch(self) -> None:
        """Return never while the worker lives; raise :class:`WorkerFailed` once it is gone."""
        await Watched(self.process, "worker", WorkerFailed, self._tail).watch()

    def close(self) -> None:
        if self.process.poll() is None and self.process.stdin is not None:
            try:
                self.process.stdin.write("exit\n")
                self.process.stdin.flush()
                self.process.wait(10)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                pass
        stop(self.process)
        self._log.close()
