"""Corpora by name or path: the built-in ones need no file, anything else is a corpus file."""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import itertools
import lzma
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from bench import __version__
from bench.corpus import synthetic
from bench.corpus.history import extract, parse_histories
from bench.corpus.sampling import Encoder, SampleInfo, Sampling, Sizer, WholeSizes, draw
from payload_codecs import CorpusReader, serialize

BUILTIN: Mapping[str, str] = {
    "synthetic": (
        f"default synthetic mix: {synthetic.DEFAULT_COUNT} payloads, seed {synthetic.DEFAULT_SEED}"
    ),
    "histories": "payloads of six recorded Temporal histories (sdk-python and sdk-go test data)",
    "classic": "five classic compression test files (Canterbury, Snappy), one payload each",
    "sizes": "JSON record lists of about 1 KiB, 64 KiB, 256 KiB and 1 MiB, three of each",
    "large": "256 KiB to 16 MiB, around Temporal's limits: JSON records, a binary protobuf "
    "message and base64 inside JSON at each size",
}
SIZES = (1 << 10, 64 << 10, 256 << 10, 1 << 20)
LARGE_SIZES = (256 << 10, 1 << 20, 2 << 20, 3 << 20, 4 << 20, 8 << 20, 16 << 20)
"""Under the 512 KiB warning, under and over the 2 MiB blob limit, over the 4 MiB gRPC limit."""
LARGE_SHAPES = (synthetic.json_records, synthetic.large_protobuf, synthetic.base64_json)


@dataclass(frozen=True)
class Corpus:
    """A corpus loaded into memory for measuring."""

    name: str
    payloads: tuple[Payload, ...]
    provenance: Mapping[str, Any]
    skipped: Mapping[str, int] = field(default_factory=dict)
    workflows: tuple[tuple[str, int], ...] = ()
    """Payloads per workflow, in order, when known (imported histories); empty otherwise."""
    sample: SampleInfo | None = None
    """How ``payloads`` were drawn from a corpus file too large to time whole; ``None``: they
    are the whole corpus."""
    path: Path | None = None
    """The corpus file this corpus was read from."""
    whole: WholeSizes | None = None
    """For a sampled corpus, the sizes over every payload under each codec asked for."""

    def workflow_of_each(self) -> list[str] | None:
        """The workflow each payload came from, in payload order; ``None`` when unknown or
        when the counts do not add up to the payloads."""
        labels = [name for name, count in self.workflows for _ in range(count)]
        return labels if self.workflows and len(labels) == len(self.payloads) else None

    @cached_property
    def digest(self) -> str:
        """sha256 of the serialized payloads in order: identifies the data in results."""
        hasher = hashlib.sha256()
        for payload in self.payloads:
            hasher.update(serialize(payload))
        return hasher.hexdigest()

    @property
    def total_bytes(self) -> int:
        return sum(payload.ByteSize() for payload in self.payloads)


def _data_files(folder: str, suffix: str) -> list[Path]:
    root = resources.files("bench") / "data" / folder
    return sorted(Path(str(entry)) for entry in root.iterdir() if entry.name.endswith(suffix))


def history_files() -> list[Path]:
    """The recorded histories shipped with the harness."""
    return _data_files("histories", ".json")


def classic_files() -> list[Path]:
    """The classic compression test files shipped with the harness (xz-compressed)."""
    return _data_files("classic", ".xz")


def file_sources(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Name and sha256 of each source file, for provenance."""
    out = []
    for path in paths:
        with path.open("rb") as file:  # in chunks: a source file need not fit in memory
            out.append(
                {"file": path.name, "sha256": hashlib.file_digest(file, "sha256").hexdigest()}
            )
    return out


def _histories() -> Corpus:
    files = history_files()
    payloads: list[Payload] = []
    skipped: Counter[str] = Counter()
    workflows = []
    for path in files:
        for index, history in enumerate(
            parse_histories(path.read_text(encoding="utf-8"), path.name)
        ):
            found = extract(history)
            payloads.extend(found.payloads)
            skipped.update(found.skipped)
            workflows.append((f"{path.name}#{index}", len(found.payloads)))
    provenance = {"kind": "import", "sources": file_sources(files), "tool_version": __version__}
    return Corpus("histories", tuple(payloads), provenance, dict(skipped), tuple(workflows))


def _classic() -> Corpus:
    files = classic_files()
    payloads = tuple(
        DataConverter.default.payload_converter.to_payloads([lzma.decompress(path.read_bytes())])[0]
        for path in files
    )
    provenance = {"kind": "import", "sources": file_sources(files), "tool_version": __version__}
    return Corpus("classic", payloads, provenance)


def _sizes() -> Corpus:
    rng = random.Random(synthetic.DEFAULT_SEED)
    payloads = tuple(synthetic.json_records(rng, size) for size in SIZES for _ in range(3))
    provenance = {
        "kind": "synthetic",
        "generator": "bench.corpus.synthetic.json_records",
        "seed": synthetic.DEFAULT_SEED,
        "sizes": list(SIZES),
        "tool_version": __version__,
    }
    return Corpus("sizes", payloads, provenance)


def _large() -> Corpus:
    rng = random.Random(synthetic.DEFAULT_SEED)
    payloads = tuple(make(rng, size) for size in LARGE_SIZES for make in LARGE_SHAPES)
    provenance = {
        "kind": "synthetic",
        "generator": ", ".join(f"bench.corpus.synthetic.{m.__name__}" for m in LARGE_SHAPES),
        "seed": synthetic.DEFAULT_SEED,
        "sizes": list(LARGE_SIZES),
        "tool_version": __version__,
    }
    return Corpus("large", payloads, provenance)


def _synthetic() -> Corpus:
    provenance = synthetic.provenance(synthetic.DEFAULT_SEED, synthetic.DEFAULT_COUNT, None, None)
    return Corpus("synthetic", tuple(synthetic.generate()), provenance)


def corpus_file(name_or_path: str) -> Path:
    """The file a non-built-in corpus name refers to; ``FileNotFoundError`` saying what is valid."""
    path = Path(name_or_path)
    if not path.exists():
        raise FileNotFoundError(
            f"no corpus {name_or_path!r}: not a built-in name ({', '.join(BUILTIN)}) "
            "and no such file"
        )
    return path


def load(
    name_or_path: str,
    sampling: Sampling | None = None,
    encoders: Mapping[str, Encoder] | None = None,
) -> Corpus:
    """A built-in corpus by name, else a corpus file by path (``CorpusFormatError`` if bad).
    A built-in corpus says so in its provenance (``builtin``), so outputs can put a user's own
    corpora first. With ``sampling``, a corpus file of more payloads (or bytes) than it allows
    is read as a stream and a sample of it kept (:mod:`bench.corpus.sampling`), and its sizes
    under each of ``encoders`` measured over every payload in the same pass."""
    builders = {
        "synthetic": _synthetic,
        "histories": _histories,
        "classic": _classic,
        "sizes": _sizes,
        "large": _large,
    }
    if name_or_path in builders:
        corpus = builders[name_or_path]()
        return dataclasses.replace(corpus, provenance={**corpus.provenance, "builtin": True})
    path = corpus_file(name_or_path)
    with CorpusReader(path) as reader:
        if sampling is None or sampling.whole:
            payloads, drawn = tuple(reader), None
        else:
            sizer = Sizer(encoders) if encoders else None
            drawn = draw(reader.iter_serialized(), sampling, sizer)
            payloads = tuple(drawn.payloads)
        trailer = reader.trailer or {}
        workflows = tuple((str(name), int(count)) for name, count in trailer.get("workflows", []))
        skipped = dict(trailer.get("skipped", {}))
        if drawn is None or drawn.info.size == drawn.info.population:
            return Corpus(path.stem, payloads, reader.provenance, skipped, workflows, path=path)
        return Corpus(
            path.stem,
            payloads,
            reader.provenance,
            skipped,
            _sampled_workflows(workflows, drawn.indexes),
            sample=drawn.info,
            path=path,
            whole=drawn.whole,
        )


def _sampled_workflows(
    workflows: tuple[tuple[str, int], ...], indexes: list[int]
) -> tuple[tuple[str, int], ...]:
    """Payloads per workflow among the sampled positions ``indexes`` (in order), from the
    whole corpus's payloads per workflow; empty when the corpus does not know them."""
    if not workflows:
        return ()
    ends = list(itertools.accumulate(count for _, count in workflows))
    out: list[tuple[str, int]] = []
    for index in indexes:
        name = workflows[bisect.bisect_right(ends, index)][0]
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1] + 1)
        else:
            out.append((name, 1))
    return tuple(out)
