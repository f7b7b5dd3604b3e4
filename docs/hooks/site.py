"""MkDocs hooks: pages whose text lives elsewhere in the repository, kept in one place.

- ``library.md`` is the codec library's own README (``codecs/README.md``, also its PyPI page),
  with its links into ``../docs/`` made relative to the site.
- ``results.md`` shows ``bench/results/schema.py``'s docstring, the reference of the format.
- ``reference/*.png`` are the committed reference run's plots, shown by its findings page.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_MARKER = "<!-- schema docstring"


def on_files(files: Files, config: Any) -> Files:
    library = (ROOT / "codecs" / "README.md").read_text()
    library = library.replace("](../docs/", "](")
    files.append(File.generated(config, "library.md", content=library))
    for plot in sorted((ROOT / "results" / "reference").glob("*.png")):
        files.append(File.generated(config, f"reference/{plot.name}", abs_src_path=str(plot)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if SCHEMA_MARKER not in markdown:
        return markdown
    schema = ROOT / "bench" / "results" / "schema.py"
    docstring = ast.get_docstring(ast.parse(schema.read_text())) or ""
    before, _, rest = markdown.partition(SCHEMA_MARKER)
    after = rest.partition("-->")[2]
    return before + textwrap.indent(docstring, "    ") + "\n" + after
