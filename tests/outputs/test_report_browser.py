"""The committed reference report in a real headless browser: the verdict is on the first screen,
it names what recommend says, and the page reads at common widths (screenshots kept in the
test's folder for a human to look at)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bench.cli import main
from bench.outputs.verdict import GOALS

from tests.browser import browser_page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "results" / "reference"


def _verdict_rows(page: object) -> dict[str, str]:
    """Goal -> codec cell of the verdict's first table."""
    rows = page.locator("#verdict ~ table").first.locator("tbody tr")  # type: ignore[attr-defined]
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    return {row[0]: row[1] for row in cells}


def test_the_first_screen_holds_the_verdict(tmp_path: Path) -> None:
    with browser_page(1440, 900) as page:
        page.goto((REFERENCE / "report.html").as_uri())  # type: ignore[attr-defined]
        page.screenshot(path=str(tmp_path / "report-1440.png"))  # type: ignore[attr-defined]
        table = page.locator("#verdict ~ table").first  # type: ignore[attr-defined]
        box = table.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= 900, box
        assert set(_verdict_rows(page)) == {goal.name for goal in GOALS}


def test_the_verdict_names_what_recommend_says(capsys: pytest.CaptureFixture[str]) -> None:
    with browser_page() as page:
        page.goto((REFERENCE / "report.html").as_uri())  # type: ignore[attr-defined]
        shown = _verdict_rows(page)
    for goal in GOALS:
        code = main(["recommend", str(REFERENCE / "results.json"), "--json", *goal.command.split()])
        said = json.loads(capsys.readouterr().out)["winner"] if code == 0 else None
        cell = shown[goal.name]
        if said is None:
            assert cell == "not measured", goal.name
        else:
            assert re.sub(r" \(tied: .*\)$", "", cell) == said, goal.name


@pytest.mark.parametrize("width", [1024, 1440])
def test_the_report_fits_the_width_it_is_read_at(width: int, tmp_path: Path) -> None:
    with browser_page(width, 900) as page:
        page.goto((REFERENCE / "report.html").as_uri())  # type: ignore[attr-defined]
        page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)  # type: ignore[attr-defined]
        overflow = page.evaluate(  # type: ignore[attr-defined]
            "Array.from(document.images).filter(i => i.getBoundingClientRect().right > "
            "document.documentElement.clientWidth + 1).length"
        )
        assert overflow == 0
