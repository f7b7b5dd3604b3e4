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
                out.append("| " + " | ".join(block.header) + " |")
                out.append("|" + "---|" * len(block.header))
                out += ["| " + " | ".join(row) + " |" for row in block.rows]
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


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;"
    "color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em}"
    "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}"
    "th{background:#f3f3f3}td:first-child,th:first-child,.text{text-align:left}"
    "img{max-width:100%;border:1px solid #eee;margin:.5em 0}code{background:#f5f5f5}"
)


def _inline(text: str) -> str:
    escaped = html.escape(text)
    parts = escaped.split("`")
    escaped = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    parts = escaped.split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


def _words(text: str) -> bool:
    """Whether a table cell holds words (aligned left) rather than a figure (aligned right, so
    that digits line up): ``48.1%``, ``-29 %``, ``246 [224-275]``, or ``-`` and empty for none."""
    return not _FIGURE.match(text)


_FIGURE = re.compile(r"[-+]?\d|-$|$")
_TEXT = " class='text'"


def page(sections: Sequence[Section], title: str) -> str:
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for section in sections:
        out.append(f"<h2 id='{anchor(section.title)}'>{html.escape(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Table):
                # A column of words reads from the left, its heading too (as its first row).
                first = block.rows[0] if block.rows else []
                words = [i < len(first) and _words(first[i]) for i in range(len(block.header))]
                out.append("<table><thead><tr>")
                out += [
                    f"<th{_TEXT if left else ''}>{html.escape(cell)}</th>"
                    for cell, left in zip(block.header, words, strict=True)
                ]
                out.append("</tr></thead><tbody>")
                for row in block.rows:
                    cells = (f"<td{_TEXT if _words(c) else ''}>{_inline(c)}</td>" for c in row)
                    out.append("<tr>" + "".join(cells) + "</tr>")
                out.append("</tbody></table>")
            elif isinstance(block, Code):
                out.append(f"<pre><code>{html.escape(block.text)}</code></pre>")
            elif isinstance(block, Contents):
                items = "".join(
                    f"<li><a href='#{anchor(t)}'>{html.escape(t)}</a></li>" for t in block.titles
                )
                out.append(f"<ul class='contents'>{items}</ul>")
            elif isinstance(block, Image):
                data = base64.b64encode(block.path.read_bytes()).decode()
                out.append(
                    f"<img alt='{html.escape(block.alt)}' src='data:image/png;base64,{data}'>"
                )
            else:
                out.append(f"<p>{_inline(block)}</p>")
    out.append("</body></html>")
    return "\n".join(out)


def write(folder: Path, stem: str, sections: Sequence[Section], title: str) -> tuple[Path, Path]:
    """``STEM.md`` and ``STEM.html`` in ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md_path, html_path = folder / f"{stem}.md", folder / f"{stem}.html"
    md_path.write_text(markdown(sections, title), encoding="utf-8")
    html_path.write_text(page(sections, title), encoding="utf-8")
    return md_path, html_path
