"""The codec server with the real Temporal Web UI in a real headless browser: the dev server's UI
(``--ui-codec-endpoint``) shows the plaintext of an encrypted workflow when the codec server
allows the UI's origin, and nothing decoded when it does not."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from bench.temporal.devserver import DevServer, free_ports

from tests.browser import browser_page
from tests.temporal.codec_server import SPEC, codec_server, run_echo

pytestmark = [pytest.mark.temporal, pytest.mark.browser]

MARKER = "UI-PLAINTEXT-7e31"


# Sync: Playwright's sync API cannot run inside an event loop.
def _page_text(allowed_origin: str | None, tmp_path: Path) -> tuple[str, list[int], int]:
    """Body text of the workflow's page once it shows MARKER (or after 20 s), the codec server's
    statuses, and the number of decode requests the page made."""
    [ui_port] = free_ports(1)
    ui = f"http://127.0.0.1:{ui_port}"
    origin = ui if allowed_origin is None else allowed_origin
    with (
        codec_server("--spec", SPEC, "--origin", origin, log=tmp_path / "server.log") as served,
        DevServer(ui_port=ui_port, ui_codec_endpoint=served.url) as server,
    ):
        workflow_id, run_id = asyncio.run(run_echo(server, {"marker": MARKER}))
        decodes: list[str] = []
        with browser_page() as page:
            page.on(  # type: ignore[attr-defined]
                "request",
                lambda r: decodes.append(r.method) if r.url.startswith(served.url) else None,
            )
            url = f"{ui}/namespaces/default/workflows/{workflow_id}/{run_id}/history"
            page.goto(url, wait_until="networkidle", timeout=60_000)  # type: ignore[attr-defined]
            deadline = time.monotonic() + 20
            text = ""
            while time.monotonic() < deadline:
                text = page.inner_text("body")  # type: ignore[attr-defined]
                if MARKER in text:
                    break
                page.wait_for_timeout(500)  # type: ignore[attr-defined]
            page.screenshot(path=str(tmp_path / "workflow.png"), full_page=True)  # type: ignore[attr-defined]
        return text, served.statuses(), len(decodes)


def test_the_web_ui_shows_plaintext_through_the_codec_server(tmp_path: Path) -> None:
    text, statuses, requests = _page_text(None, tmp_path)
    assert MARKER in text
    assert "Decoding failed" not in text
    assert requests >= 1
    assert statuses  # the POSTs were sent, so their preflight was answered
    assert set(statuses) == {200}


def test_a_page_from_an_origin_the_server_does_not_allow_decodes_nothing(
    tmp_path: Path,
) -> None:
    text, statuses, _ = _page_text("https://cloud.temporal.io", tmp_path)
    assert MARKER not in text
    assert statuses == []  # the browser never sent a POST: the preflight got no CORS headers
