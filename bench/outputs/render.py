"""Markdown and self-contained HTML from one list of sections, so the two never disagree.
Used by the report, compare and recommend."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Image:
    path: Path
    alt: str


@dataclass(frozen=True)
class Code:
    text: str
    language: str = ""


@dataclass(frozen=True)
class Contents:
    """Links to the sections that follow (a table of contents)."""

    titles: list[str]


Block = str | Table | Image | Code | Contents


def anchor(title: str) -> str:
    """The id a section's heading gets: lower case, runs of other characters as one hyphen,
    as GitHub makes them for Markdown headings."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


def markdown(sections: Sequence[Section], title: str) -> str:
    out = [f"# {title}", ""]
    for section in sections:
        out += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                out += _table(block)
            elif isinstance(block, Image):
                out.append(f"![{block.alt}]({block.path.name})")
            elif isinstance(block, Code):
                out += [f"```{block.language}", block.text, "```"]
            elif isinstance(block, Contents):
                out += [f"- [{title}](#{anchor(title)})" for title in block.titles]
            else:
                out.append(block)
            out.append("")
    return "\n".join(out)


def _table(table: Table) -> list[str]:
    """A pipe table whose columns of figures are right-aligned (so digits line up) and of
    words left-aligned, judged by the first row; a ``|`` inside a cell is escaped."""
    first = table.rows[0] if table.rows else []
    words = [i < len(first) and _words(first[i]) for i in range(len(table.header))]

    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return [
        row(table.header),
        "|" + "".join("---|" if left else "---:|" for left in words),
        *(row(cells) for cells in table.rows),
    ]


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;"
    "color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em}"
    "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#f3f3f3}"
    "td code{white-space:nowrap}pre{background:#f5f5f5;padding:.6em;overflow-x:auto}"
    "img{max-width:100%;border:1px solid #eee;margin:.5em 0}code{background:#f5f5f5}"
)


def _words(text: str) -> bool:
    """Whether a table cell holds words (aligned left) rather than a figure (aligned right, so
    that digits line up): ``48.1%``, ``-29 %``, ``246 [224-275]``, or ``-`` and empty for none."""
    return not _FIGURE.match(text)


_FIGURE = re.compile(r"[-+]?\d|-$|$")


def page(sections: Sequence[Section], title: str) -> str:
    """The sections as one self-contained HTML page: their Markdown rendered by
    Python-Markdown (tables, fenced code, heading ids as :func:`anchor` makes them), the plots
    embedded as data URIs so the page travels alone."""
    import markdown as markdown_library  # loaded only where a page is written

    body = markdown_library.markdown(
        markdown(sections, title),
        extensions=["tables", "fenced_code", "toc"],
        extension_configs={"toc": {"slugify": lambda text, separator: anchor(text)}},
        output_format="html",
    )
    for image in (b for section in sections for b in section.blocks if isinstance(b, Image)):
        data = base64.b64encode(image.path.read_bytes()).decode()
        body = body.replace(
            f'src="{html.escape(image.path.name)}"', f'src="data:image/png;base64,{data}"'
        )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"{body}\n</body></html>"
    )


def write(folder: Path, stem: str, sections: Sequence[Section], title: str) -> tuple[Path, Path]:
    """``STEM.md`` and ``STEM.html`` in ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md_path, html_path = folder / f"{stem}.md", folder / f"{stem}.html"
    md_path.write_text(markdown(sections, title), encoding="utf-8")
    html_path.write_text(page(sections, title), encoding="utf-8")
    return md_path, html_path
