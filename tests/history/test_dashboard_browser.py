"""The history dashboard in a real headless browser: every plot loads, the change planted in
the history is in its table, and nothing is wider than the window."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bench.cli import main

from tests.browser import browser_page
from tests.history.helpers import history_files

pytestmark = pytest.mark.browser


def test_the_dashboard_shows_the_planted_change_and_every_plot(tmp_path: Path) -> None:
    db, out = tmp_path / "h.sqlite", tmp_path / "dashboard"
    files = history_files(tmp_path, slow=1.3, runs=10, slow_from=6)
    assert main(["history", "add", *map(str, files), "--db", str(db)]) == 0
    assert main(["history", "report", "--db", str(db), "--out", str(out)]) == 0
    with browser_page(1280, 900) as page:
        page.goto((out / "dashboard.html").as_uri())  # type: ignore[attr-defined]
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)  # type: ignore[attr-defined]
        images = page.locator("img")  # type: ignore[attr-defined]
        assert images.count() >= 2
        widths = images.evaluate_all("all => all.map(i => i.naturalWidth)")
        assert all(width > 0 for width in widths)
        rows = page.locator("#changes-on-x-cores-unknown-os ~ table").first.locator("tbody tr")  # type: ignore[attr-defined]
        cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
        gated = [row for row in cells if row[0].endswith("encode_geomean_us")]
        assert [row[0].split()[1] for row in gated] == ["zstd:3"]
        assert gated[0][1] == "run-6-x"  # the first slowed run
        change, low, high = (float(x) for x in re.findall(r"[-+][\d.]+", gated[0][4]))
        assert low < 30 < high, gated
        assert 25 < change < 35, gated
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")  # type: ignore[attr-defined]
        assert overflow <= 0
