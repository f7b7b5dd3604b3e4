"""dict train and dict evaluate: a dictionary is always measured on workflows it was not trained
on, the folds say so, and a corpus that cannot be split by workflow is refused."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from bench.cli import main
from bench.corpus import catalog
from bench.probes.dictionary import Tally, evaluate, folds, verdict
from temporalio.api.common.v1 import Payload

from payload_codecs import CorpusWriter, Dictionaries


def _workflow(rng: random.Random, name: str, count: int) -> list[Payload]:
    """Payloads of one workflow: near-duplicates of each other, as in a real history."""
    base = {"workflow": name, "customer": rng.randrange(10**6), "items": list(range(5))}
    return [
        Payload(
            metadata={"encoding": b"json/plain"},
            data=json.dumps(
                {**base, "step": step, "note": "state " * rng.randrange(3, 9)}
            ).encode(),
        )
        for step in range(count)
    ]


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A corpus file of 9 workflows of different sizes, each payload labelled by its workflow."""
    rng = random.Random(1)
    path = tmp_path_factory.mktemp("dict") / "labelled.corpus"
    with CorpusWriter(path, {"kind": "test"}) as writer:
        for index, count in enumerate((60, 40, 30, 30, 20, 20, 10, 10, 5)):
            payloads = _workflow(rng, f"wf-{index}", count)
            for payload in payloads:
                writer.write(payload)
            writer.workflows.append((f"wf-{index}", count))
    return path


def test_folds_never_split_a_workflow_and_balance_payloads() -> None:
    workflows = [
        f"w{i}" for i, count in enumerate((60, 40, 30, 30, 20, 20, 10, 10, 5)) for _ in range(count)
    ]
    split = folds(workflows, 3)
    assert sorted(i for fold in split for i in fold) == list(range(len(workflows)))
    for fold in split:
        inside = {workflows[i] for i in fold}
        outside = {workflows[i] for other in split if other is not fold for i in other}
        assert not inside & outside
    sizes = sorted(len(fold) for fold in split)
    assert sizes[-1] - sizes[0] <= 10
    assert len(folds(workflows, 50)) == 9  # at most one fold per workflow
    with pytest.raises(ValueError, match="at least 2 are needed"):
        folds(["only"] * 30, 5)


def test_evaluation_trains_only_on_other_workflows(labelled: Path) -> None:
    corpus = catalog.load(str(labelled))
    workflows = corpus.workflow_of_each()
    assert workflows is not None
    rows = evaluate(corpus.payloads, workflows, sizes=[1024], k=3, encrypt=True)
    chains = {row.chain for row in rows}
    assert chains == {"zstd:3", "zstd:3+aes256gcm"}
    every = [row for row in rows if row.bucket == "all"]
    assert {row.tally.payloads for row in every} == {len(corpus.payloads)}
    assert all(row.folds == (3, 3) for row in every)


def test_dict_commands_on_the_command_line(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dicts"
    argv = ["dict", "train", str(labelled), "--name", "orders", "--out", str(out), "--size", "2KiB"]
    assert main(argv) == 0
    assert "zstd:3:dict=orders" in capsys.readouterr().out
    assert [d.name for d in Dictionaries.from_dir(out)] == ["orders"]
    provenance = json.loads((out / "orders.json").read_text())
    assert provenance["corpora"][0]["payloads"] == 225
    assert main(argv) == 2  # never replaced
    assert "choose another --name" in capsys.readouterr().err
    assert main(["dict", "evaluate", str(labelled), "--size", "1KiB", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["chain"] for row in rows} == {"zstd:3", "zstd:3+aes256gcm"}
    assert all(row["verdict"] for row in rows)


def test_a_corpus_file_larger_than_the_sample_is_trained_and_evaluated_on_a_sample(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As a run reads a recording of millions of payloads: a stratified sample, never the whole
    file in memory; the dictionary's provenance names the whole corpus and the sample."""
    out = tmp_path / "dicts"
    argv = ["dict", "train", str(labelled), "--name", "o", "--out", str(out), "--size", "2KiB"]
    assert main([*argv, "--sample", "100"]) == 0
    assert "from 100 payloads (a sample of 225, seed 1)" in capsys.readouterr().out
    [corpus] = json.loads((out / "o.json").read_text())["corpora"]
    assert (corpus["payloads"], corpus["sampled"]) == (225, 100)
    assert corpus["digest"] == catalog.load(str(labelled)).digest

    evaluate = ["dict", "evaluate", str(labelled), "--size", "1KiB", "--no-encryption"]
    assert main([*evaluate, "--sample", "120", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["payloads"] for row in rows if row["bucket"] == "all"} == {120}
    assert main([*evaluate, "--sample", "120", "--sample-seed", "2"]) == 0
    assert "120 payloads (a sample of 225, seed 2)" in capsys.readouterr().out


def test_a_corpus_without_workflows_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "flat.corpus"
    assert main(["corpus", "generate", "--count", "40", "--out", str(path)]) == 0
    capsys.readouterr()
    assert main(["dict", "evaluate", str(path)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "cannot be split by workflow" in line
    argv = ["dict", "train", str(path), "--name", "x", "--out", str(tmp_path), "--size", "64MiB"]
    assert main(argv) == 2
    assert "too few samples" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("original", "plain", "with_dict", "call"),
    [
        (1000, 400, 300, "pays: 10.0 points"),  # 60 % -> 70 % saved
        (1000, 400, 397, "hardly pays: 0.3 points"),  # 60 % -> 60.3 %
        (1000, 990, 987, "hardly pays: 0.3 points"),  # 1 % -> 1.3 %: the same rule
        (1000, 1859, 1842, "does not pay: still stores 84.2% more"),  # -85.9 % -> -84.2 %
        (1000, 400, 400, "does not pay: no bytes saved"),
        (1000, 400, 420, "does not pay: no bytes saved"),
    ],
)
def test_one_rule_decides_whether_a_dictionary_pays(
    original: int, plain: int, with_dict: int, call: str
) -> None:
    tally = Tally(payloads=10, original=original, plain=plain, with_dict=with_dict)
    assert verdict(tally).startswith(call)
