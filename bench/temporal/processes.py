"""Child processes (dev server, worker) that never outlive the run that started them."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import IO, Any, Protocol, TypeVar

from bench.errors import InfrastructureFailure

T = TypeVar("T")
POLL_S = 0.2
"""How often a watched process is checked."""

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # Linux: the kernel sends SIGTERM to the child if the harness dies without cleaning up
    # (SIGKILL, OOM). Only prctl runs here: no locks, so threads in the parent are harmless.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: int | IO[Any] | None = subprocess.DEVNULL,
    stdout: int | IO[Any] | None = None,
    stderr: int | IO[Any] | None = None,
    text: bool = False,
) -> subprocess.Popen[Any]:
    """Start ``command`` in its own process group, tied to this process's life."""
    return subprocess.Popen(
        list(command),
        env=None if env is None else dict(env),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        text=text,
        start_new_session=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - see _die_with_parent
    )


def stop(process: subprocess.Popen[Any] | None, grace: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds; safe to call twice."""
    if process is None or process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


async def timed_run(command: Sequence[str], timeout: float) -> tuple[int, bytes, bytes, int]:
    """Run ``command`` to its end from a running event loop: ``(exit code, stdout, stderr,
    wall nanoseconds)``. A timeout is exit code -1. Cancelled (Ctrl-C, SIGTERM), the child is
    killed before this returns, so no reading outlives the run."""
    started = time.perf_counter_ns()
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_die_with_parent,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        return (
            -1,
            b"",
            f"no answer within {timeout:.0f} s".encode(),
            time.perf_counter_ns() - started,
        )
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out, err, time.perf_counter_ns() - started


class Watched:
    """A child process a layer depends on: ``watch()`` never returns while it runs, and raises
    ``error`` (an :class:`InfrastructureFailure`) naming it once it is gone, with ``detail()``
    after its exit code when given (work waiting on it would otherwise wait for its timeouts,
    and read its absence as a property of what it measured)."""

    def __init__(
        self,
        process: subprocess.Popen[Any],
        component: str,
        error: type[InfrastructureFailure] = InfrastructureFailure,
        detail: Callable[[], str] | None = None,
    ) -> None:
        self.process = process
        self.component = component
        self._error = error
        self._detail = detail

    async def watch(self) -> None:
        while self.process.poll() is None:
            await asyncio.sleep(POLL_S)
        said = f"{self.component} pid {self.process.pid} exited with code {self.process.returncode}"
        raise self._error(said if self._detail is None else f"{said}: {self._detail()}")


class Watchable(Protocol):
    """A process a layer depends on: ``watch()`` raises once it is gone."""

    async def watch(self) -> None: ...


async def while_alive(processes: Sequence[Watchable], work: Awaitable[T]) -> T:
    """Run ``work``, but stop it with the watcher's error as soon as a process it depends on
    (worker, dev server, S3 server, codec server) dies: its work would otherwise wait for its
    timeouts."""
    body = asyncio.ensure_future(work)
    watches = [asyncio.ensure_future(process.watch()) for process in processes]
    try:
        done, _ = await asyncio.wait({body, *watches}, return_when=asyncio.FIRST_COMPLETED)
        if body not in done:
            body.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await body
            for watch in done:
                watch.result()
        if body.exception() is not None and watches:
            # The work may notice a dead process first (a refused connection): a watcher
            # that sees it within its polling interval names the cause instead.
            dead, _ = await asyncio.wait(watches, timeout=2 * POLL_S)
            for watch in dead:
                watch.result()
        return body.result()
    finally:
        for task in (body, *watches):
            task.cancel()
